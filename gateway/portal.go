package gateway

import (
	"errors"
	"fmt"
	"net/mail"
	"os"
	"slices"
	"strings"
	"time"

	"mugai/gateway/originals"
	"mugai/policy"
	"mugai/policy/audit"
	"mugai/portal"
	"mugai/sanitize/mailwrite"
)

// portalBackend is the gateway as the portal (package portal) sees it:
// the originals, the release path, the unlock of encrypted ZIPs, notice
// mail through the spool and the audit log.
type portalBackend struct{ g *Gateway }

var _ portal.Backend = portalBackend{}

// expires is when original m is purged: the end of its UTC day plus the
// retention (see originals.Store.Purge), the end of every link to it.
func (g *Gateway) expires(received time.Time) time.Time {
	day := received.UTC().Truncate(24 * time.Hour)
	return day.Add(24*time.Hour + g.cfg.OriginalsRetention.D())
}

func (b portalBackend) Message(id string) (portal.Message, error) {
	m, _, err := b.g.originals.Get(id)
	if errors.Is(err, originals.ErrNotFound) {
		return portal.Message{}, fmt.Errorf("%w: %s", portal.ErrNotFound, id)
	}
	if err != nil {
		return portal.Message{}, err
	}
	return b.message(m), nil
}

// message is what the portal shows of m: the parts the notice listed
// (not plain body text), in the notice's words.
func (b portalBackend) message(m originals.Meta) portal.Message {
	pol := b.g.Policy()
	out := portal.Message{ID: m.ID, Received: m.Received, From: m.From, Rcpts: m.Rcpts, Subject: m.Subject,
		MessageID: m.MessageID, Auth: m.Auth, Expires: b.g.expires(m.Received)}
	modes := releaseModes(m, pol)
	for i, p := range m.Parts {
		if policy.Reason(p.Reason) == policy.ReasonBodyText {
			continue
		}
		rule, _ := pol.RuleByID(p.Rule)
		doneJA, doneEN := policy.Action(p.Action).Label()
		if n := policy.Reason(p.Reason).Notice(); n.JA != "" {
			doneJA, doneEN = doneJA+"："+n.JA, doneEN+": "+n.EN
		}
		out.Parts = append(out.Parts, portal.Part{Path: p.Path, Filename: p.Filename, DeclaredType: p.DeclaredType,
			DetectedType: p.DetectedType, Size: p.Size, SHA256: p.SHA256, Action: p.Action, Rule: p.Rule,
			Clause: p.Clause, Reason: p.Reason, DoneJA: doneJA, DoneEN: doneEN, WhyJA: rule.Reason.JA, WhyEN: rule.Reason.EN,
			Release: modes[i], Encrypted: unlockable(p)})
	}
	return out
}

// partRelease is what staff may ask of part p: the mode its rule had when
// it decided (the current rule's for originals kept before modes were
// recorded); never for what is not a MIME part of its own (a member of an
// archive, a part of a forwarded message: ask for the whole; Release
// refuses it naming the part to ask for, see insidePart), and never
// for what the gateway found it could not make harmless, whatever the
// mode says (the admin's release with -force stays the way).
func partRelease(p originals.Part, rule policy.Rule) string {
	if strings.Contains(p.Path, "/") {
		return policy.ReleaseNever
	}
	return ownRelease(p, rule)
}

// ownRelease is the mode of p's own decision, wherever p sits.
func ownRelease(p originals.Part, rule policy.Rule) string {
	mode := p.Release
	if mode == "" {
		mode = rule.ReleaseMode()
	}
	if slices.Contains(forceReasons, policy.Reason(p.Reason)) && p.Release == "" {
		return policy.ReleaseNever
	}
	return mode
}

// releaseModes is partRelease of each of m's parts, in order, and never
// for a part that holds a part whose own decision is never: releasing a
// ZIP or a forwarded message releases every member, so a program inside
// one is no more released than on its own.
func releaseModes(m originals.Meta, pol *policy.Policy) []string {
	own := make([]string, len(m.Parts))
	modes := make([]string, len(m.Parts))
	for i, p := range m.Parts {
		rule, _ := pol.RuleByID(p.Rule)
		own[i], modes[i] = ownRelease(p, rule), partRelease(p, rule)
	}
	for i, p := range m.Parts {
		for j, q := range m.Parts {
			if own[j] == policy.ReleaseNever && inside(q.Path, p.Path) {
				modes[i] = policy.ReleaseNever
			}
		}
	}
	return modes
}

// inside reports whether path names a part held by the part at outer: a
// MIME child ("2.1" in "2"), an archive member or a part of a forwarded
// message ("2/1", "2/1.2" in "2").
func inside(path, outer string) bool {
	rest, ok := strings.CutPrefix(path, outer)
	return ok && rest != "" && (rest[0] == '.' || rest[0] == '/')
}

// unlockable: a top-level part removed because it is an encrypted ZIP.
func unlockable(p originals.Part) bool {
	return policy.Reason(p.Reason) == policy.ReasonEncryptedArchive && !strings.Contains(p.Path, "/")
}

func (b portalBackend) Search(s portal.Search) ([]portal.Message, error) {
	ms, _, err := b.g.originals.List(originals.Filter{Since: s.Since, Until: s.Until, MessageID: s.MessageID})
	if err != nil {
		return nil, err
	}
	has := func(v, sub string) bool {
		return sub == "" || strings.Contains(strings.ToLower(v), strings.ToLower(sub))
	}
	var out []portal.Message
	for i := len(ms) - 1; i >= 0 && (s.Limit <= 0 || len(out) < s.Limit); i-- {
		m := ms[i]
		if has(m.From, s.From) && has(m.Subject, s.Subject) &&
			(s.Rcpt == "" || slices.ContainsFunc(m.Rcpts, func(r string) bool { return has(r, s.Rcpt) })) {
			out = append(out, b.message(m))
		}
	}
	return out, nil
}

// recipientOf checks that rcpt is one of m's recipients and returns it as
// the envelope had it.
func recipientOf(m originals.Meta, rcpt string) (string, error) {
	i := slices.IndexFunc(m.Rcpts, func(r string) bool { return strings.EqualFold(r, rcpt) })
	if i < 0 {
		return "", fmt.Errorf("%w: %q is not a recipient of %s", portal.ErrNotAllowed, rcpt, m.ID)
	}
	return m.Rcpts[i], nil
}

// operatorName makes a portal actor (an address, an approver's login or
// SSO name) fit the operator rule of the audit log and headers.
func operatorName(actor string) string {
	out := []rune{}
	for _, r := range actor {
		if len(out) == 64 {
			break
		}
		if operatorRune(r) {
			out = append(out, r)
		} else {
			out = append(out, '_')
		}
	}
	if len(out) == 0 {
		return "portal"
	}
	return string(out)
}

func (b portalBackend) Release(id, part, rcpt, actor, reason string) (string, error) {
	g := b.g
	m, _, err := g.originals.Get(id)
	if err != nil {
		return "", fmt.Errorf("%w: %s", portal.ErrNotFound, id)
	}
	to, err := recipientOf(m, rcpt)
	if err != nil {
		return "", err
	}
	if err := insidePart(m, part); err != nil {
		return "", fmt.Errorf("%w: %w", portal.ErrNotAllowed, err)
	}
	for i, mode := range releaseModes(m, g.Policy()) {
		if p := m.Parts[i]; (part == "" || p.Path == part) && mode == policy.ReleaseNever {
			return "", fmt.Errorf("%w: part %s may not be released from the portal", portal.ErrNotAllowed, p.Path)
		}
	}
	rel, err := Release(g.cfg, g.originals, g.spool, g.audit, ReleaseRequest{ID: id, Operator: operatorName(actor),
		Reason: reason, Part: part, To: []string{to}, Force: true, Now: g.Now()})
	if err != nil {
		return "", err
	}
	g.schedule(rel.SpoolID)
	return rel.SpoolID, nil
}

// schedule hands a spool entry the gateway wrote itself to delivery.
func (g *Gateway) schedule(id string) {
	if _, err := g.delivery.AddFromSpool(id); err != nil {
		// It is durable in the spool: the next rescan or start delivers it.
		g.log.Error("queued message not scheduled; delivered at the next rescan", "id", id, "err", err)
	}
}

func (b portalBackend) Audit(ev portal.Event) error {
	return b.g.audit.Portal(ev.Kind, audit.PortalRecord{Header: audit.Header{ID: ev.ID}, Actor: ev.Actor, Part: ev.Part,
		Request: ev.Request, Rcpt: nonEmpty(ev.Rcpt), Detail: CleanReason(ev.Detail)})
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// Notify queues a short text mail from the gateway's own sender (never
// bounced to the Internet, as releases), with its notified record in the
// same commit.
func (b portalBackend) Notify(to []string, subject, body string) error {
	g := b.g
	if len(to) == 0 {
		return nil
	}
	now := g.Now()
	id := NewID(now)
	rcpts := make([]*mail.Address, len(to))
	for i, r := range to {
		if _, _, ok := splitMailbox(r); !ok {
			return fmt.Errorf("notify: %q is not a plain address", r)
		}
		rcpts[i] = &mail.Address{Address: r}
	}
	var h mailwrite.Header
	h.Add("From", mailwrite.Addresses([]*mail.Address{{Name: "mugai", Address: g.cfg.releaseSender()}}, mailwrite.EncodedWords))
	h.Add("To", mailwrite.Addresses(rcpts, mailwrite.EncodedWords))
	h.AddText("Subject", subject)
	h.Add("Date", now.Format(time.RFC1123Z))
	h.Add("Message-ID", "<"+id+"@"+g.cfg.Hostname+">")
	h.Add("MIME-Version", "1.0")
	h.Add("Auto-Submitted", "auto-generated")
	h.Add("Content-Type", "text/plain; charset=UTF-8")
	h.Add("Content-Transfer-Encoding", "base64")
	msg := append(h.Bytes(), mailwrite.Base64([]byte(strings.ReplaceAll(body, "\n", "\r\n")))...)
	rec := audit.PortalRecord{Header: audit.Header{ID: id}, Actor: "mugai", Rcpt: to, SpoolID: id, Detail: CleanReason(subject)}
	return g.spoolOwn(id, to, msg, func() (*os.File, func(), error) { return g.audit.NotifiedPinned(rec) })
}

// spoolOwn queues msg, a message the gateway wrote itself, for rcpts
// with its records in the entry's commit (queueOwn), and schedules it.
func (g *Gateway) spoolOwn(id string, rcpts []string, msg []byte, records func() (*os.File, func(), error)) error {
	if err := queueOwn(g.cfg, g.spool, g.audit, id, rcpts, g.Now(), msg, records); err != nil {
		return fmt.Errorf("not queued: %w", err)
	}
	g.schedule(id)
	return nil
}
