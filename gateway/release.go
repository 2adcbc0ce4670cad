package gateway

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"os"
	"slices"
	"strings"
	"time"

	"mugai/gateway/originals"
	"mugai/gateway/queue"
	"mugai/gateway/safeio"
	"mugai/policy/audit"
	"mugai/sanitize"
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
var forceReasons = []string{"type-mismatch", "encrypted-archive", "sanitize-failed"}

// ErrNeedsForce refuses a release of a suspicious part without Force.
var ErrNeedsForce = errors.New("release needs -force")

// Release queues the original (or one part, attached to a short notice)
// for delivery through the normal delivery path, and audits it. The
// command tells the running gateway through its control socket ("add").
func Release(cfg Config, st *originals.Store, sp *queue.Spool, log *audit.Log, req ReleaseRequest) (Released, error) {
	var rel Released
	// Both reach the audit log and headers of the released mail: the
	// command checks them, and so does this, whoever calls it.
	if err := CheckOperator(req.Operator); err != nil {
		return rel, err
	}
	if req.Reason = CleanReason(req.Reason); req.Reason == "" {
		return rel, errors.New("a release needs an operator and a reason")
	}
	m, path, err := st.Get(req.ID)
	if err != nil {
		return rel, err
	}
	rel.Rcpts = m.Rcpts
	if len(req.To) > 0 {
		for _, to := range req.To {
			if _, _, ok := splitMailbox(to); !ok {
				return rel, fmt.Errorf("-to %q is not a plain local@domain address", to)
			}
		}
		rel.Rcpts = req.To
	}
	rel.Parts = m.Parts
	if req.Part != "" {
		i := slices.IndexFunc(m.Parts, func(p originals.Part) bool { return p.Path == req.Part })
		if i < 0 {
			return rel, fmt.Errorf("original %s has no part %s", req.ID, req.Part)
		}
		rel.Parts = m.Parts[i : i+1]
	}
	for _, p := range rel.Parts {
		if slices.Contains(forceReasons, p.Reason) && !req.Force {
			return rel, fmt.Errorf("%w: part %s was removed as %s (%s)", ErrNeedsForce, p.Path, p.Reason, p.Detail)
		}
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		return rel, err
	}
	rel.SpoolID = NewID(req.Now)
	var msg []byte
	if req.Part == "" {
		hdr := fmt.Sprintf("X-Mugai-Released: %s by %s\r\n", m.ID, req.Operator) + headerField("X-Mugai-Release-Reason", req.Reason)
		msg = append([]byte(hdr), orig...)
	} else {
		part, err := sanitize.FindPart(bytes.NewReader(orig), req.Part, sanitize.Limits{
			MaxDepth: cfg.Limits.MIMEDepth, MaxParts: cfg.Limits.MIMEParts, MaxHeaderBytes: cfg.Limits.HeaderBytes, MaxPartBytes: cfg.Accept.MaxMessageBytes})
		if err != nil {
			return rel, err
		}
		if part.SHA256 != rel.Parts[0].SHA256 {
			return rel, fmt.Errorf("part %s reads back with sha256 %s, the index says %s: not released", req.Part, part.SHA256, rel.Parts[0].SHA256)
		}
		msg = releaseNotice(cfg.Hostname, cfg.releaseSender(), rel.SpoolID, m, part, req)
	}
	// Our own envelope sender, never the original's: if the LGWAN MTA
	// refuses the release, or bounces it later, that goes to the admin,
	// and nothing about it (the original's headers, who released it and
	// why) goes back to the Internet sender. The delivery path sends no
	// DSN for it either (see delivery.Runner.retire).
	entry := &queue.Entry{ID: rel.SpoolID, From: cfg.releaseSender(), Created: req.Now, NextAttempt: req.Now}
	for _, r := range rel.Rcpts {
		entry.Rcpts = append(entry.Rcpts, &queue.Recipient{Addr: r, Status: queue.StatusPending})
	}
	// The released record is part of the entry's commit, as an accepted
	// message's records are (session.go): written after the data is
	// durable and before the entry's name exists, synced with the rename.
	// A crash at any point leaves no release without its record.
	var staged safeio.Staged
	if err := sp.Stage(&staged, entry, msg); err != nil {
		staged.Discard()
		return rel, err
	}
	staged.Journal = auditJournal(log, func() (*os.File, func(), error) {
		return log.ReleasedPinned(req.ID, req.Operator, req.Reason, rel.SpoolID, rel.Rcpts, releasedParts(rel.Parts))
	}, nil)
	if err := staged.Commit(nil); err != nil {
		return rel, fmt.Errorf("release not queued: %w", err)
	}
	return rel, nil
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
// saying what is released and by whom, and the part as an attachment.
func releaseNotice(hostname, sender, id string, m originals.Meta, part sanitize.Part, req ReleaseRequest) []byte {
	boundary := "mugai-release-" + id
	name := headerSafe(part.Filename)
	if name == "" {
		name = "part-" + strings.ReplaceAll(part.Path, ".", "-") + ".bin"
	}
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", "mugai <"+sender+">")
	to := req.To
	if len(to) == 0 {
		to = m.Rcpts
	}
	hdr("To", strings.Join(to, ", "))
	hdr("Subject", mime.BEncoding.Encode("utf-8", "[原本の提供 / Original released] "+headerSafe(m.Subject)))
	hdr("Date", req.Now.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+id+"@"+hostname+">")
	hdr("MIME-Version", "1.0")
	hdr("X-Mugai-Released", m.ID+" part "+part.Path+" by "+req.Operator)
	b.WriteString(headerField("X-Mugai-Release-Reason", req.Reason))
	hdr("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
	b.WriteString("\r\n--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	text := fmt.Sprintf("システム管理者が、無害化の際に保管した原本の一部を提供します。\n"+
		"The mail administrator releases part of an original kept when the mail was sanitized.\n\n"+
		"原本保管番号 / Original: %s\n差出人 / From: %s\n部分 / Part: %s %s (sha256 %s)\n"+
		"提供者 / Released by: %s\n理由 / Reason: %s\n\n"+
		"この添付ファイルは無害化されていません。開く前に内容を確認してください。\n"+
		"This attachment has NOT been sanitized. Check it before you open it.\n",
		req.ID, m.From, part.Path, name, part.SHA256, req.Operator, req.Reason)
	writeBase64(&b, []byte(strings.ReplaceAll(text, "\n", "\r\n")))
	b.WriteString("--" + boundary + "\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n")
	b.WriteString("Content-Disposition: attachment; filename=\"" + mime.BEncoding.Encode("utf-8", name) + "\"\r\n\r\n")
	writeBase64(&b, part.Body)
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes()
}

// headerSafe keeps a sender-chosen string from breaking a header line or
// a quoted parameter: control characters, quotes and backslashes become _.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, s)
}

func writeBase64(b *bytes.Buffer, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
}
