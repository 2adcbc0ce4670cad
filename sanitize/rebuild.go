// Package sanitize rebuilds a message from scratch as text: it parses the
// input (the walker owns everything MIME: nesting, limits, transfer
// encodings, charsets), asks the policy what to do with each leaf part,
// renders the body to plain text, and writes a new message whose every
// byte is generated here. Nothing of the input's MIME structure or headers
// is copied through.
//
// A Rebuilder is configured once and is safe for concurrent use.
package sanitize

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"mugai/policy"
)

// Rebuilder turns received messages into sanitized ones.
type Rebuilder struct {
	Policy   *policy.Policy
	Limits   Limits
	Hostname string // for Received and generated Message-IDs
}

// Envelope is what the gateway knows about a message besides its bytes.
// Fields may be empty (the offline sanitize command has no SMTP session).
type Envelope struct {
	ID       string // gateway id; names the kept original
	From     string // MAIL FROM, "" for the null sender
	Rcpts    []string
	ClientIP string
	Helo     string
	Received time.Time
}

// Result is a rebuilt message and the decisions that shaped it.
type Result struct {
	Message   []byte // the new message, CRLF line endings
	Decisions []policy.Decision
	MessageID string // the input's Message-ID, for the audit log
	Subject   string // decoded subject, for logs
}

// PanicError reports a panic inside the rebuild: a bug, never the sender's
// fault. The gateway answers 4xx and counts it.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("sanitize: panic: %v", e.Value) }

// Rebuild reads one message from r and returns its sanitized rebuild. It
// fails only when r fails or on an internal bug (*PanicError); content
// problems of any kind become decisions.
func (rb *Rebuilder) Rebuild(env Envelope, r io.Reader) (res *Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	if env.Received.IsZero() {
		env.Received = time.Now()
	}
	root, err := parseMessage(r, rb.Limits)
	if err != nil {
		return nil, fmt.Errorf("sanitize: read message: %w", err)
	}
	assignRoles(root, rb.Policy.Body.Prefer == "html")

	var (
		decisions []policy.Decision
		bodies    []string
		items     []noticeItem
		kept      []*node
	)
	for _, leaf := range root.leaves() {
		d := policy.Decision{
			MsgID: env.ID, Path: leaf.path, DeclaredType: leaf.declared, Filename: leaf.filename,
			Size: leaf.size, Detail: leaf.detail, DetectedType: detectType(leaf),
		}
		sum := sha256.Sum256(leaf.body)
		d.SHA256 = hex.EncodeToString(sum[:])
		if leaf == root && leaf.problem != "" {
			d.Path = "0"
		}
		var rule policy.Rule
		switch {
		case leaf.problem != "":
			rule, d.Reason = policy.RuleStructure, leaf.problem
		default:
			rule = rb.Policy.Evaluate(policy.Subject{Role: leaf.role, DetectedType: d.DetectedType,
				DeclaredType: leaf.declared, Filename: leaf.filename})
			d.Reason = roleReason(leaf.role)
		}
		d.Action, d.RuleID, d.Clause = rule.Action, rule.ID, rule.Clause
		var findings []noticeItem
		switch {
		case d.Action == policy.ActionTextify && leaf.role == policy.RoleBody:
			r := renderBody(leaf, rb.Policy.LinkMode(rule))
			d.Reason = r.reason
			if r.detail != "" {
				d.Detail = r.detail
			}
			bodies = append(bodies, r.text)
			if r.hidden > 0 {
				findings = append(findings, finding(d, policy.RuleHiddenText, policy.ReasonHiddenText,
					pluralDetail(r.hidden, "hidden element or invisible character left out", "hidden elements or invisible characters left out")))
			}
			for _, m := range r.mismatches {
				findings = append(findings, finding(d, policy.RuleLinkCheck, policy.ReasonLinkMismatch, m))
			}
		case d.Action == policy.ActionKeep && (leaf.declared == "message/rfc822" || strings.HasPrefix(leaf.declared, "multipart/") || strings.HasPrefix(leaf.declared, "message/")):
			d.Action, d.Reason, d.Detail = policy.ActionStrip, policy.ReasonNotKeepable, "a nested message cannot be passed unsanitized"
		case d.Action == policy.ActionKeep:
			kept = append(kept, leaf)
		case d.Action == policy.ActionStrip || d.Action == policy.ActionReject:
			d.Action = policy.ActionStrip // reject is decided before DATA is answered; here it can only remove
		default:
			// An action this build cannot carry out never passes a part.
			d.Action, d.Detail = policy.ActionStrip, "action "+string(rule.Action)+" not available"
		}
		decisions = append(decisions, d)
		if d.Reason != policy.ReasonBodyText {
			items = append(items, noticeItem{decision: d, rule: rule})
		}
		for _, f := range findings {
			decisions = append(decisions, f.decision)
			items = append(items, f)
		}
	}

	hdr := readHeaders(root, env, rb.hostname())
	body := strings.Join(bodies, "\n\n")
	msg := rb.write(env, hdr, composeText(env, items, body, len(bodies) > 0), kept)
	return &Result{Message: msg, Decisions: decisions, MessageID: hdr.origMessageID, Subject: hdr.subject}, nil
}

// finding is an extra decision about a part: something found while
// rendering it (hidden text, a misleading link) under a built-in rule.
func finding(part policy.Decision, rule policy.Rule, reason, detail string) noticeItem {
	d := part
	d.Action, d.RuleID, d.Clause, d.Reason, d.Detail = rule.Action, rule.ID, rule.Clause, reason, detail
	return noticeItem{decision: d, rule: rule}
}

func (rb *Rebuilder) hostname() string {
	if rb.Hostname == "" {
		return "mugai.localhost"
	}
	return rb.Hostname
}

func roleReason(r policy.Role) string {
	switch r {
	case policy.RoleBody:
		return policy.ReasonBodyText
	case policy.RoleAlternative:
		return policy.ReasonAlternativeUnused
	}
	return policy.ReasonAttachment
}

// detectType sniffs a leaf's content. This is a first pass (the standard
// library's WHATWG sniffer); a mismatch with the declared type is not yet
// acted upon.
func detectType(n *node) string {
	if n.isMultipart() {
		return n.declared
	}
	if len(n.body) == 0 {
		return "application/x-empty"
	}
	t := http.DetectContentType(n.body)
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	return t
}

func itoa(n int) string { return strconv.Itoa(n) }
