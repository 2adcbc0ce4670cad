package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"slices"
	"strings"
	"time"

	"mugai/gateway/originals"
	"mugai/gateway/queue"
	"mugai/gateway/safeio"
	"mugai/policy"
	"mugai/policy/audit"
	"mugai/sanitize"
	"mugai/sanitize/mailwrite"
)

// ReleaseRequest is an admin handing out a kept original (原本) or one
// part of it, on a member of staff's legitimate request.
type ReleaseRequest struct {
	ID       string   // gateway id of the original
	Operator string   // who releases (audited)
	Reason   string   // why (audited)
	Part     string   // a part path ("2"); empty: the whole original
	To       []string // recipients; empty: the original's recipients
	Force    bool     // needed for parts the gateway found suspicious
	Now      time.Time
}

// Released says what a release queued.
type Released struct {
	SpoolID string
	Rcpts   []string
	Parts   []originals.Part
}

// forceReasons are decisions whose part must not be handed out without an
// explicit -force: the gateway found it disguised, could not look inside,
// or could not make it harmless.
var forceReasons = []policy.Reason{policy.ReasonTypeMismatch, policy.ReasonEncryptedArchive, policy.ReasonSanitizeFailed}

// ErrNeedsForce refuses a release of a suspicious part without Force.
var ErrNeedsForce = errors.New("release needs -force")

// ErrInsidePart refuses a release of a part held by another part (a
// member of an archive, a part of a forwarded message): it is not a MIME
// part of the original of its own and cannot be cut out of it alone; the
// error names the part to release instead.
var ErrInsidePart = errors.New("a member of an archive or of a forwarded message cannot be released alone")

// Release queues the original (or one part, attached to a short notice)
// for delivery through the normal delivery path, and audits it. The
// command tells the running gateway through its control socket ("add").
func Release(cfg Config, st *originals.Store, sp *queue.Spool, log *audit.Log, req ReleaseRequest) (Released, error) {
	// Both reach the audit log and headers of the released mail: the
	// command checks them, and so does this, whoever calls it.
	if err := CheckOperator(req.Operator); err != nil {
		return Released{}, err
	}
	if req.Reason = CleanReason(req.Reason); req.Reason == "" {
		return Released{}, errors.New("a release needs an operator and a reason")
	}
	m, path, err := st.Get(req.ID)
	if err != nil {
		return Released{}, err
	}
	rel, err := selectRelease(m, req)
	if err != nil {
		return rel, err
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		return rel, err
	}
	// What is released is what was received: a kept original that does
	// not match its index (a disk fault, or a power cut during the commit
	// of a message that was never acknowledged) is not sent on.
	if err := m.Check(bytes.NewReader(orig)); err != nil {
		return rel, fmt.Errorf("%w: %s; not released", err, path)
	}
	rel.SpoolID = NewID(req.Now)
	msg, err := releaseMessage(cfg, m, orig, rel, req)
	if err != nil {
		return rel, err
	}
	return rel, spoolRelease(cfg, sp, log, rel, req, msg)
}

// selectRelease says who gets what of original m: its recipients or
// req.To (plain addresses only), the whole or req.Part; a part the
// gateway found suspicious only with req.Force.
func selectRelease(m originals.Meta, req ReleaseRequest) (Released, error) {
	rel := Released{Rcpts: m.Rcpts, Parts: m.Parts}
	if len(req.To) > 0 {
		for _, to := range req.To {
			if _, _, ok := splitMailbox(to); !ok {
				return rel, fmt.Errorf("-to %q is not a plain local@domain address", to)
			}
		}
		rel.Rcpts = req.To
	}
	if req.Part != "" {
		i := slices.IndexFunc(m.Parts, func(p originals.Part) bool { return p.Path == req.Part })
		if i < 0 {
			return rel, fmt.Errorf("original %s has no part %s", req.ID, req.Part)
		}
		if err := insidePart(m, req.Part); err != nil {
			return rel, err
		}
		rel.Parts = m.Parts[i : i+1]
	}
	for _, p := range rel.Parts {
		if slices.Contains(forceReasons, policy.Reason(p.Reason)) && !req.Force {
			return rel, fmt.Errorf("%w: part %s was removed as %s (%s)", ErrNeedsForce, p.Path, p.Reason, p.Detail)
		}
	}
	return rel, nil
}

// insidePart refuses path when it names a part held by another (2/1, an
// archive's member or a forwarded message's part; 2/1/3 a member of a
// nested archive): only the outermost one, a MIME part of the original,
// can be read back and released, with everything it holds. A path the
// index does not have is left to the caller's "no part".
func insidePart(m originals.Meta, path string) error {
	outer, _, inside := strings.Cut(path, "/")
	if !inside || !slices.ContainsFunc(m.Parts, func(p originals.Part) bool { return p.Path == path }) {
		return nil
	}
	what := "part " + outer
	if i := slices.IndexFunc(m.Parts, func(p originals.Part) bool { return p.Path == outer }); i >= 0 && m.Parts[i].Filename != "" {
		what += " (" + headerSafe(m.Parts[i].Filename) + ")"
	}
	return fmt.Errorf("%w: part %s is inside %s; release part %s instead, which holds it", ErrInsidePart, path, what, outer)
}

// releaseMessage is what a release sends: the whole original orig under
// two fields saying who released it and why, or the part asked for,
// checked against the index, attached to a notice.
func releaseMessage(cfg Config, m originals.Meta, orig []byte, rel Released, req ReleaseRequest) ([]byte, error) {
	if req.Part == "" {
		var h mailwrite.Header
		h.Add("X-Mugai-Released", m.ID+" by "+req.Operator)
		h.AddText("X-Mugai-Release-Reason", req.Reason)
		return append(h.Fields(), defuseEnvelopeFields(orig)...), nil
	}
	part, err := sanitize.FindPart(bytes.NewReader(orig), req.Part, cfg.sanitizeLimits())
	if err != nil {
		return nil, err
	}
	if part.SHA256 != rel.Parts[0].SHA256 {
		return nil, fmt.Errorf("part %s reads back with sha256 %s, the index says %s: not released", req.Part, part.SHA256, rel.Parts[0].SHA256)
	}
	return releaseNotice(cfg.Hostname, cfg.releaseSender(), rel.SpoolID, m, part, req), nil
}

// spoolRelease queues msg for rel's recipients, with the released record
// in the same commit.
func spoolRelease(cfg Config, sp *queue.Spool, log *audit.Log, rel Released, req ReleaseRequest, msg []byte) error {
	// Our own envelope sender, never the original's: if the LGWAN MTA
	// refuses the release, or bounces it later, that goes to the admin,
	// and nothing about it (the original's headers, who released it and
	// why) goes back to the Internet sender. The delivery path sends no
	// DSN for it either (see delivery.Runner.retire).
	// The released record is part of the entry's commit, as an accepted
	// message's records are (session.go): written after the data is
	// durable and before the entry's name exists, synced with the rename.
	// A crash at any point leaves no release without its record.
	err := queueOwn(cfg, sp, log, rel.SpoolID, rel.Rcpts, req.Now, msg, func() (*os.File, func(), error) {
		return log.ReleasedPinned(req.ID, req.Operator, req.Reason, rel.SpoolID, rel.Rcpts, releasedParts(rel.Parts))
	})
	if err != nil {
		return fmt.Errorf("release not queued: %w", err)
	}
	return nil
}

// queueOwn queues msg, a message the gateway wrote itself (a release, an
// unlocked archive, a portal notice), for rcpts under the gateway's own
// envelope sender, with the audit records records writes in the entry's
// commit: no such message is queued without its records.
func queueOwn(cfg Config, sp *queue.Spool, log *audit.Log, id string, rcpts []string, now time.Time, msg []byte, records func() (*os.File, func(), error)) error {
	entry := &queue.Entry{ID: id, From: cfg.releaseSender(), Created: now, NextAttempt: now}
	for _, r := range rcpts {
		entry.Rcpts = append(entry.Rcpts, &queue.Recipient{Addr: r, Status: queue.StatusPending})
	}
	var staged safeio.Staged
	if err := sp.Stage(&staged, entry, msg); err != nil {
		staged.Discard()
		return err
	}
	staged.Journal = auditJournal(log, records, nil)
	return staged.Commit(nil)
}

// releaseSender is the envelope sender of mail the gateway originates.
func (c Config) releaseSender() string {
	if c.Deliver.ReleaseSender != "" {
		return c.Deliver.ReleaseSender
	}
	return "postmaster@" + c.Hostname
}

func releasedParts(ps []originals.Part) []audit.ReleasedPart {
	out := make([]audit.ReleasedPart, len(ps))
	for i, p := range ps {
		out[i] = audit.ReleasedPart{Path: p.Path, Filename: p.Filename, SHA256: p.SHA256, Reason: p.Reason}
	}
	return out
}

// releaseNotice is a new message: a short text in Japanese and English
// saying what is released and by whom, and the part as an attachment
// (its name in RFC 2231, see mailwrite.Attachment).
func releaseNotice(hostname, sender, id string, m originals.Meta, part sanitize.Part, req ReleaseRequest) []byte {
	name := headerSafe(part.Filename)
	if name == "" {
		name = "part-" + strings.ReplaceAll(part.Path, ".", "-") + ".bin"
	}
	text := fmt.Sprintf("無害化の際に保管した原本の一部を、申請に基づき提供します（提供者は下記）。\n"+
		"Part of an original kept when the mail was sanitized is released on request (by whom: below).\n\n"+
		"原本保管番号 / Original: %s\n差出人 / From: %s\n部分 / Part: %s %s (sha256 %s)\n"+
		"提供者 / Released by: %s\n理由 / Reason: %s\n\n"+
		"この添付ファイルは無害化されていません。開く前に内容を確認してください。\n"+
		"This attachment has NOT been sanitized. Check it before you open it.\n",
		req.ID, m.From, part.Path, name, part.SHA256, req.Operator, req.Reason)
	var mp mailwrite.Multipart
	mp.Add(mailwrite.TextPart(text))
	var ah mailwrite.Header
	ct, cd := mailwrite.Attachment("application/octet-stream", name)
	ah.Add("Content-Type", ct)
	ah.Add("Content-Disposition", cd)
	ah.Add("Content-Transfer-Encoding", "base64")
	mp.Add(&ah, mailwrite.Base64(part.Body))

	to := req.To
	if len(to) == 0 {
		to = m.Rcpts
	}
	rcpts := make([]*mail.Address, len(to))
	for i, r := range to {
		rcpts[i] = &mail.Address{Address: r}
	}
	var h mailwrite.Header
	h.Add("From", mailwrite.Addresses([]*mail.Address{{Name: "mugai", Address: sender}}, mailwrite.EncodedWords))
	h.Add("To", mailwrite.Addresses(rcpts, mailwrite.EncodedWords))
	h.AddText("Subject", "[原本の提供 / Original released] "+m.SubjectAsReceived())
	h.Add("Date", req.Now.Format(time.RFC1123Z))
	h.Add("Message-ID", "<"+id+"@"+hostname+">")
	h.Add("MIME-Version", "1.0")
	h.Add("X-Mugai-Released", m.ID+" part "+part.Path+" by "+req.Operator)
	h.AddText("X-Mugai-Release-Reason", req.Reason)
	h.Add("Content-Type", mailwrite.MediaType("multipart/mixed", mailwrite.Param{Name: "boundary", Value: mp.Boundary()}))
	return append(h.Bytes(), mp.Bytes()...)
}

// headerSafe keeps a sender-chosen name from breaking a line of the
// notice's text: control characters, quotes and backslashes become _.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, s)
}

// envelopeFields are header fields an MTA or a delivery agent acts on as
// if they were the envelope: Return-Path (where bounces go, written at
// final delivery), Delivered-To (Postfix's local delivery refuses a
// message that already has its recipient's, as a forwarding loop),
// X-Original-To, and the old Errors-To and Return-Receipt-To that
// sendmail-era MTAs still honour. In a released original they are the
// Internet sender's, or forged.
var envelopeFields = []string{"Return-Path", "Delivered-To", "X-Original-To", "Errors-To", "Return-Receipt-To"}

// defuseEnvelopeFields renames the original's top-level envelopeFields to
// X-Mugai-Original-<name>, value and folding kept: what the original
// said stays readable, and a release's bounces, like every message the
// gateway originates, go to its own sender only. Nothing else changes;
// the body is not looked at.
func defuseEnvelopeFields(msg []byte) []byte {
	out := make([]byte, 0, len(msg)+64)
	rest := msg
	for len(rest) > 0 {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i+1]
		}
		rest = rest[len(line):]
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			out = append(out, line...)
			break // the end of the header
		}
		name, _, ok := bytes.Cut(line, []byte(":"))
		name = bytes.TrimRight(name, " \t")
		if ok && line[0] != ' ' && line[0] != '\t' && slices.ContainsFunc(envelopeFields, func(f string) bool { return strings.EqualFold(f, string(name)) }) {
			out = append(out, "X-Mugai-Original-"...)
		}
		out = append(out, line...)
	}
	return append(out, rest...)
}
