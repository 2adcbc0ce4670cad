package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"mugai/gateway/originals"
	"mugai/gateway/queue"
	"mugai/gateway/safeio"
	"mugai/gateway/smtpd"
	"mugai/policy/audit"
	"mugai/sanitize"
	"mugai/sanitize/format"
)

// session is one SMTP connection. smtpd calls its methods from the
// connection's goroutine, one at a time.
type session struct {
	g      *Gateway
	conn   *smtpd.Conn
	client netip.Addr
	helo   string
	from   string
	inTx   bool // MAIL given
	rcpts  []string
	log    *slog.Logger
}

// NewSession implements smtpd.Backend.
func (g *Gateway) NewSession(c *smtpd.Conn) (smtpd.Session, error) {
	s := &session{g: g, conn: c}
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		s.client = ta.AddrPort().Addr().Unmap()
	}
	s.log = g.log.With("client", s.client.String())
	return s, nil
}

// Mail, Rcpt and Data implement smtpd.Session: the gateway's replies
// (*smtp.SMTPError, codes.go) become smtpd's.
func (s *session) Mail(from string, _ smtpd.MailParams) error { return wire(s.mail(from)) }
func (s *session) Rcpt(to string) error                       { return wire(s.rcpt(to)) }
func (s *session) Data(r io.Reader) error                     { return wire(s.message(r)) }

// guard recovers a panic in a session method: it is counted and logged with
// its stack, the client gets a 451, and the process lives on.
func (s *session) guard(id string, err *error) {
	if v := recover(); v != nil {
		s.g.panics.Add(1)
		s.log.Error("panic in session", "msg_id", id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		if id == "" {
			id = s.g.newID()
		}
		*err = replyTempInternal(id)
		s.reject(id, replyTempInternal(id), s.from, s.rcpts) // audited: the client got 451
	}
}

func (s *session) mail(from string) (err error) {
	defer s.guard("", &err)
	s.Reset()
	s.helo = s.conn.Hostname()
	if !s.g.clientAllowed(s.client) {
		reply := s.g.cfg.policyReject(replyClientDenied)
		s.reject("", reply, from, nil)
		return reply
	}
	if _, isTLS := s.conn.TLS(); s.g.cfg.Accept.RequireTLS && !isTLS {
		return replyNeedTLS
	}
	if why := s.g.overloaded(); why != nil {
		s.tempfail(s.g.newID(), replyNoStorage, fmt.Errorf("backpressure: %w", why), from, nil)
		return replyNoStorage
	}
	if from != "" {
		if _, _, ok := splitMailbox(from); !ok {
			return replyBadSender
		}
	}
	s.from, s.inTx = from, true
	return nil
}

func (s *session) rcpt(to string) (err error) {
	defer s.guard("", &err)
	if !s.inTx {
		return replyNeedMail
	}
	local, domain, ok := splitMailbox(to)
	if !ok {
		return replyBadRcpt
	}
	if !s.g.domainAccepted(domain) {
		reply := s.g.cfg.policyReject(replyDomainDenied)
		s.reject("", reply, s.from, []string{to})
		return reply
	}
	addr := local + "@" + domain
	for _, r := range s.rcpts {
		if r == addr {
			return nil // a duplicate RCPT adds nothing
		}
	}
	if se := s.checkRecipient(addr, local, domain); se != nil {
		return se // accept.recipients, accept.verify_recipients
	}
	s.rcpts = append(s.rcpts, addr)
	return nil
}

func (s *session) Reset() {
	s.from, s.inTx, s.rcpts = "", false, nil
}

func (s *session) Logout() {}

// message receives, keeps, rebuilds and queues one message. It answers 250
// only after the original and the rebuilt message are durable and the
// decisions are in the audit log. r is smtpd's strict reader: it fails at
// a bare CR, bare LF or NUL, and at the size and line limits.
func (s *session) message(r io.Reader) (err error) {
	// One reading of the clock names the message and dates it: the id's
	// date is the originals day folder that show and release look in, so
	// two readings could name different days at UTC midnight.
	received := s.g.Now()
	id := NewID(received)
	defer s.guard(id, &err)
	if s.g.closing.Load() {
		_ = drain(r)
		return replyShuttingDown
	}
	cause := s.data(id, received, r)
	if errors.Is(cause, smtpd.ErrAborted) {
		// RFC 3030: a BDAT transfer without LAST ends with RSET, or with
		// a new MAIL; the client withdrew the message. smtpd sends no
		// reply to it.
		s.log.Info("message transfer aborted by the client (BDAT without LAST, then another command); nothing kept", "msg_id", id)
		return cause
	}
	se := toReply(cause, id)
	switch {
	case se == nil: // data always answers; keep the interface non-nil only for a real reply
		return nil
	case se.Code >= 400:
		s.refused(id, se, cause)
	}
	return se
}

// refused logs a reply to DATA other than 250 at error level with the id
// and its cause (the wrapped error, naming the path that failed), and
// audits it: a 5xx as rejected, a temporary local failure as tempfail
// with its class (a client that left or sent bad data is only logged).
func (s *session) refused(id string, se *smtp.SMTPError, cause error) {
	if se.Code >= 500 {
		s.log.Error("message not accepted", "msg_id", id, "reply", replyLine(se), "err", cause)
		s.record(id, se, s.from, s.rcpts)
		return
	}
	s.tempfail(id, se, cause, s.from, s.rcpts)
}

// tempfail logs a temporary failure at error level with the id, its
// class and cause; a local one is counted and audited (tempfail).
func (s *session) tempfail(id string, se *smtp.SMTPError, cause error, from string, rcpts []string) {
	class := s.g.failClass(cause)
	s.log.Error("message not accepted: temporary failure", "msg_id", id, "reply", replyLine(se), "class", orNone(class), "err", cause)
	if class == "" {
		return
	}
	s.g.metrics.tempfail.WithLabelValues(class).Inc()
	env := audit.Envelope{From: from, Rcpts: rcpts, Client: s.client.String()}
	if err := s.g.audit.Tempfail(id, class, env, replyLine(se)); err != nil {
		s.log.Error("audit write failed", "msg_id", id, "err", err)
	}
}

func orNone(class string) string {
	if class == "" {
		return "none (not a local failure)"
	}
	return class
}

func (s *session) data(id string, received time.Time, r io.Reader) error {
	g := s.g
	f, err := g.originals.TempFile(received, id)
	if err != nil {
		return fmt.Errorf("originals: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			safeio.Discard(f)
		}
	}()
	sum := sha256.New()
	size, err := io.Copy(io.MultiWriter(f, sum), r)
	if err != nil {
		_ = drain(r) // smtpd drains too; the reply must follow the whole DATA
		var pe *fs.PathError
		if !errors.As(err, &pe) { // not our write of the original: the client's data
			err = fmt.Errorf("%w: %w", errClientData, err)
		}
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	// From here the client waits for our answer: the wait for rebuild
	// memory and the rebuild together get limits.rebuild_timeout, and stop
	// early when the client leaves (it would retry, and a message kept now
	// would be a second copy).
	timeout := g.cfg.Limits.RebuildTimeout.D()
	alive, leave := context.WithCancelCause(context.Background())
	defer leave(nil)
	ctx, cancel := context.WithTimeout(alive, timeout)
	defer cancel()
	stopWatch := sync.OnceFunc(watchClient(s.conn.NetConn(), leave))
	defer stopWatch()
	// Memory for the rebuild, reserved for as long as the rebuilt message
	// is held, grown as the rebuild expands; a client that waits too long
	// gets 451 and retries.
	wait, cancelWait := context.WithTimeout(ctx, rebuildWait)
	mem, err := g.memory.reserve(wait, max(64<<10, 3*size))
	cancelWait()
	if err != nil {
		return s.abandon(ctx, id, err)
	}
	defer mem.release()    // with everything the rebuild grew it by
	eng := g.engine.Load() // this message keeps this policy, whatever a reload does
	started := time.Now()
	res, err := s.rebuild(ctx, eng, id, received, f, mem)
	took := time.Since(started)
	if err != nil {
		return s.abandon(ctx, id, err)
	}
	// The last look before committing: a client that left gets nothing
	// kept. (It may still leave between this and our 250; that window is
	// SMTP's own and as short as the commit.)
	stopWatch()
	if errors.Is(context.Cause(alive), errClientGone) || clientGone(s.conn.NetConn()) {
		return s.abandon(ctx, id, errClientGone)
	}
	committed = true // from here commit owns f
	return s.commit(id, received, f, size, hex.EncodeToString(sum.Sum(nil)), res, eng, took)
}

// rebuild rebuilds the received original under ctx, growing mem as the
// rebuild expands. A panic in the rebuild is counted and logged here.
func (s *session) rebuild(ctx context.Context, eng *engine, id string, received time.Time, f *os.File, mem *lease) (*sanitize.Result, error) {
	env := sanitize.Envelope{ID: id, From: s.from, Rcpts: s.rcpts, ClientIP: s.client.String(), Helo: s.helo, Received: received,
		Portal: s.g.portalLink(id, received)}
	grow := func(n int64) error { return mem.grow(ctx, n) }
	res, err := eng.rebuilder.RebuildContext(ctx, env, f, grow) // a file: the rebuild sizes its buffer from it
	var pe *sanitize.PanicError
	if errors.As(err, &pe) {
		s.g.panics.Add(1)
		s.log.Error("panic in rebuild", "msg_id", id, "panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
	}
	return res, err
}

// commit makes the original (f, which it owns), its meta, the rebuilt
// message, its spool entry and its audit records durable together, then
// hands the entry to delivery and gives the 250.
func (s *session) commit(id string, received time.Time, f *os.File, size int64, sum string, res *sanitize.Result, eng *engine, took time.Duration) error {
	g := s.g
	meta := originals.Meta{ID: id, Received: received, From: s.from, Rcpts: s.rcpts, Client: s.client.String(),
		Helo: s.helo, MessageID: res.MessageID, Size: size, SHA256: sum, Subject: res.Subject,
		Policy: eng.policy.SHA256, Auth: res.Auth}
	for _, d := range res.Decisions {
		rule, _ := eng.policy.RuleByID(d.RuleID)
		meta.Parts = append(meta.Parts, originals.Part{Path: d.Path, Filename: d.Filename, DeclaredType: d.DeclaredType,
			DetectedType: d.DetectedType, Size: d.Size, SHA256: d.SHA256, Action: string(d.Action), Rule: d.RuleID,
			Clause: d.Clause, Reason: string(d.Reason), Detail: d.Detail, Delivered: d.Delivered, Release: rule.ReleaseMode()})
	}
	entry := &queue.Entry{ID: id, From: s.from, Created: received, NextAttempt: received}
	for _, rc := range s.rcpts {
		entry.Rcpts = append(entry.Rcpts, &queue.Recipient{Addr: rc, Status: queue.StatusPending})
	}
	// The original, its meta, the rebuilt message, its spool entry and its
	// audit records become durable together, in one round shared with the
	// other sessions committing (group commit): the files are written, the
	// audit records written, the files renamed into place (the commit
	// markers after what they mark), and the round makes the data, the
	// renames and the audit file durable. So a spool entry is never
	// visible, even to the next start after a kill, before its records
	// are written, and 250 follows all being on disk. A power cut during
	// the round (no 250 given; the client sends the message again) can
	// keep some of it: a rename without the records (start-up recovery
	// rewrites them from the originals index), or a rename without its
	// data (safeio.CommitVerified), which every reader catches: the spool
	// entry's size and SHA-256 before any delivery (a damaged entry goes
	// to bad/ and is rebuilt from its original when that verifies), the
	// original's against its index line before any release, the index
	// line by its parse (a day whose index has lines that do not read
	// cannot vouch that a message is not in it: originals.ErrIndexDamaged).
	var st safeio.Staged
	if err := g.originals.Stage(&st, f, meta); err != nil {
		st.Discard()
		return err
	}
	if err := g.spool.Stage(&st, entry, res.Message); err != nil {
		st.Discard()
		return err
	}
	audited := false
	aenv := audit.Envelope{From: s.from, Rcpts: s.rcpts, MessageID: res.MessageID, Size: size, Client: s.client.String()}
	st.Journal = auditJournal(g.audit, func() (*os.File, func(), error) {
		af, unpin, err := g.audit.AcceptedPinned(id, aenv, res.Decisions, eng.policy.SHA256)
		audited = err == nil
		return af, unpin, err
	}, func(err error) {
		s.log.Error("audit log sync failed; refusing mail until restart", "msg_id", id, "err", err)
	})
	if err := st.CommitVerified(g.committer); err != nil {
		if audited { // its records say received: say it was not kept (Data logs why)
			s.record(id, toReply(err, id), s.from, s.rcpts)
		}
		return err
	}
	g.metrics.accepted(res.Decisions, took)
	s.log.Info("queued", "msg_id", id, "from", s.from, "rcpts", len(s.rcpts), "size", size,
		"parts", len(res.Decisions), "message_id", res.MessageID)
	g.delivery.Add(entry)
	return replyQueued(id)
}

// abandon classifies why a message was given up before it was kept (the
// caller discards the staged original), counts and logs it, and returns
// the error for its reply: deadline → 451 4.3.0, memory → 451 4.3.2; a
// client that left gets a 451 it will not read. Other errors pass as
// they are.
func (s *session) abandon(ctx context.Context, id string, err error) error {
	m := s.g.metrics.abandoned
	timeout := s.g.cfg.Limits.RebuildTimeout.D()
	var ge *format.GrowError
	switch {
	case errors.Is(err, errClientGone) || errors.Is(context.Cause(ctx), errClientGone):
		m.WithLabelValues(causeClientGone).Inc()
		s.log.Warn("client closed the connection before the reply to DATA; nothing kept", "msg_id", id, "err", err)
		return errClientGone
	case errors.Is(err, sanitize.ErrDeadline), errors.As(err, &ge) && errors.Is(err, context.DeadlineExceeded):
		m.WithLabelValues(causeDeadline).Inc()
		s.log.Error("rebuild ran out of time (limits.rebuild_timeout); nothing kept", "msg_id", id, "timeout", timeout.String(), "err", err)
		if !errors.Is(err, sanitize.ErrDeadline) {
			err = fmt.Errorf("%w: %w", sanitize.ErrDeadline, err)
		}
		return err
	case errors.Is(err, errBusy), errors.As(err, &ge):
		m.WithLabelValues(causeMemory).Inc()
		s.log.Error("no rebuild memory (limits.rebuild_memory); nothing kept", "msg_id", id, "err", err)
		if !errors.Is(err, errBusy) {
			err = fmt.Errorf("%w: %w", errBusy, err)
		}
		return err
	}
	return err
}

// reject logs a refused transaction at error level, with the envelope
// that explains it, and writes its audit record.
func (s *session) reject(id string, se *smtp.SMTPError, from string, rcpts []string) {
	if id == "" {
		id = s.g.newID()
	}
	s.log.Error("rejected", "msg_id", id, "reply", replyLine(se), "from", from, "rcpts", strings.Join(rcpts, ","))
	s.record(id, se, from, rcpts)
}

// record counts a refused transaction and writes its audit record.
func (s *session) record(id string, se *smtp.SMTPError, from string, rcpts []string) {
	s.g.metrics.rejected.Inc()
	if err := s.g.audit.Rejected(id, from, rcpts, s.client.String(), replyLine(se)); err != nil {
		s.log.Error("audit write failed", "msg_id", id, "err", err)
	}
}

func drain(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// clientAllowed reports whether addr is inside accept.networks.
func (g *Gateway) clientAllowed(addr netip.Addr) bool {
	for _, p := range g.accept.Load().networks {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// domainAccepted reports whether mail for domain is accepted.
func (g *Gateway) domainAccepted(domain string) bool {
	a := g.accept.Load()
	if len(a.domains) == 0 {
		return true
	}
	return a.domains[strings.ToLower(domain)]
}
