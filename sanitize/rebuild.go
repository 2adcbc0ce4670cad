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
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"mugai/policy"
	"mugai/sanitize/detect"
	"mugai/sanitize/format"
	"mugai/sanitize/text"
)

// Rebuilder turns received messages into sanitized ones.
type Rebuilder struct {
	Policy   *policy.Policy
	Limits   Limits
	Hostname string // for Received and generated Message-IDs
	// Sanitizers carries out disarm (and later extract, flatten) per
	// detected type; built in main. Nil: those actions strip.
	Sanitizers *format.Registry
	// SanitizeTimeout bounds one sanitizer run; default 60s.
	SanitizeTimeout time.Duration
	// ArchiveLimits bound each archive opened; zero fields take defaults.
	ArchiveLimits ArchiveLimits
	// Expansion bounds what one message may expand into, all parts
	// together (decompressed archive members, decoded pixels, rendered
	// pages, sanitizer output); default DefaultExpansion.
	Expansion int64
}

// DefaultExpansion is the per-message expansion budget when
// Rebuilder.Expansion is zero: ten 12-megapixel photos fit, a ZIP of
// twenty 40-megapixel ones does not.
const DefaultExpansion = 512 << 20

// ErrDeadline is a rebuild stopped by its context (limits.rebuild_timeout
// in the gateway): nothing of it is kept and the client is told to retry.
var ErrDeadline = errors.New("sanitize: the rebuild ran out of time")

// state is what one Rebuild call keeps across parts: the budget that
// bounds all archives of the message together, however deeply nested.
type state struct {
	ctx     context.Context
	budget  *format.Budget // the message's expansion budget
	members int            // archive members left
	abort   error          // set when the rebuild must stop (deadline, memory): returned as is
	trees   map[*node]bool // HTML bodies whose parse tree the budget holds (taken once per body)
	pending []noticeItem
	sender  string // the top-level envelope: rules may match on it
	rcpts   []string
	auth    []policy.AuthResult // trusted Authentication-Results of the top-level message
	authSet bool
}

// subject is what the policy is asked about one part.
func (st *state) subject(role policy.Role, detected, declared, filename string, size int64, flags []string) policy.Subject {
	return policy.Subject{Role: role, DetectedType: detected, DeclaredType: declared, Filename: filename, Flags: flags,
		Sender: st.sender, Rcpts: st.rcpts, Size: size, Auth: st.auth}
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
	// Nested marks a forwarded message rebuilt inside another: no
	// Received or X-Mugai-Id of its own, and the original's number is
	// given in the outer notice only.
	Nested bool
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

// Rebuild reads one message from r and returns its sanitized rebuild, with
// no deadline and no memory accounting beyond the expansion budget (the
// offline commands). See RebuildContext.
func (rb *Rebuilder) Rebuild(env Envelope, r io.Reader) (*Result, error) {
	return rb.RebuildContext(context.Background(), env, r, nil)
}

// RebuildContext reads one message from r and returns its sanitized
// rebuild. Content problems of any kind become decisions; it fails only
// when r fails, when ctx ends (an error wrapping ErrDeadline), when grow
// refuses memory (a *format.GrowError), or on an internal bug
// (*PanicError). Each of those means: keep nothing, answer 4xx.
//
// grow, when not nil, is asked to back the message's largest single
// expansion (see format.Budget) with rebuild memory before it happens.
func (rb *Rebuilder) RebuildContext(ctx context.Context, env Envelope, r io.Reader, grow func(n int64) error) (res *Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	if env.Received.IsZero() {
		env.Received = time.Now()
	}
	limit := rb.Expansion
	if limit <= 0 {
		limit = DefaultExpansion
	}
	st := &state{ctx: ctx, budget: format.NewBudget(limit, peakGrow(grow)), members: 5000, sender: env.From, rcpts: env.Rcpts}
	res, err = rb.rebuild(st, env, r, "")
	if err == nil && st.abort != nil {
		res, err = nil, st.abort
	}
	return res, err
}

// peakGrow asks grow only for what a single expansion needs beyond the
// largest one so far: parts are worked on one after another, so the
// memory live at once is about the largest expansion, while the budget's
// limit caps their sum (the work).
func peakGrow(grow func(int64) error) func(int64) error {
	if grow == nil {
		return nil
	}
	var peak int64 // guarded by the Budget's lock
	return func(n int64) error {
		if n <= peak {
			return nil
		}
		if err := grow(n - peak); err != nil {
			return err
		}
		peak = n
		return nil
	}
}

// stop records why the rebuild must end (the first reason wins) and
// reports whether it must: the context ended, or memory was refused.
func (st *state) stop(err error) bool {
	if st.abort != nil {
		return true
	}
	var ge *format.GrowError
	switch {
	case errors.As(err, &ge):
		st.abort = err
	case st.ctx.Err() != nil:
		st.abort = fmt.Errorf("%w: %w", ErrDeadline, st.ctx.Err())
	}
	return st.abort != nil
}

// rebuild rebuilds one message: the top-level one, or (with a prefix, the
// path of the part that held it) a forwarded message inside it.
func (rb *Rebuilder) rebuild(st *state, env Envelope, r io.Reader, prefix string) (*Result, error) {
	root, err := parseMessage(r, rb.Limits)
	if err != nil {
		return nil, fmt.Errorf("sanitize: read message: %w", err)
	}
	assignRoles(root, rb.Policy.Body.Prefer == "html")
	if !st.authSet { // the top-level message only: a forwarded one's header proves nothing
		st.authSet = true
		var fields []policy.Field
		for f := root.header.Fields(); f.Next(); {
			fields = append(fields, policy.Field{Name: f.Key(), Value: f.Value()})
		}
		st.auth = rb.Policy.Authentication.TrustedResults(fields)
	}

	var (
		decisions []policy.Decision
		bodies    []string
		items     []noticeItem
		attached  []attachment
	)
	for _, leaf := range root.leaves() {
		if st.stop(nil) {
			return nil, st.abort
		}
		d := policy.Decision{
			MsgID: env.ID, Path: prefix + leaf.path, DeclaredType: leaf.declared, Filename: leaf.filename,
			Size: leaf.size, Detail: leaf.detail,
		}
		d.SHA256 = sha256Hex(leaf.body)
		if leaf == root && leaf.problem != "" {
			d.Path = prefix + "0"
		}
		var (
			rule     policy.Rule
			findings []noticeItem
		)
		switch {
		case leaf.problem != "":
			d.DetectedType = sniff(leaf)
			rule, d.Reason = policy.RuleStructure, leaf.problem
			d.Action, d.RuleID, d.Clause = rule.Action, rule.ID, rule.Clause
		case leaf.role == policy.RoleAttachment:
			var att *attachment
			f := leafFile(leaf)
			f.path, f.level = d.Path, len(strings.Split(prefix, "/"))-1
			rule, att, findings = rb.attachment(st, f, &d)
			if st.abort != nil {
				return nil, st.abort
			}
			switch {
			case att != nil && att.intoBody:
				// Text put into the body is body text: links follow the
				// body's link mode, invisible characters go, files
				// written as text (uuencode, yEnc, BinHex) are cut out.
				name := orName(noticeSafe(leaf.filename))
				s, _ := text.Normalize("――― " + name + " の本文 / text of " + name + " ―――\n" +
					strings.TrimRight(strings.ReplaceAll(string(att.data), "\r\n", "\n"), "\n"))
				s, embedded := text.StripEmbeddedFiles(s)
				bodies = append(bodies, text.TransformLinks(s, rb.Policy.Body.Links))
				for _, e := range embedded {
					findings = append(findings, finding(d, policy.RuleEmbeddedFile, policy.ReasonEmbeddedFile, e))
				}
			case att != nil:
				attached = append(attached, *att)
			}
		default:
			d.DetectedType = sniff(leaf)
			var flags []string
			var pre *rendered // a body rendered to learn its flags before the rules see it
			if leaf.role == policy.RoleBody && rb.Policy.UsesFlag(policy.FlagHiddenText) {
				r := rb.renderBody(st, leaf, rb.Policy.Body.Links)
				if pre = &r; r.hidden > 0 {
					flags = append(flags, policy.FlagHiddenText)
				}
			}
			rule = rb.Policy.Evaluate(st.subject(leaf.role, d.DetectedType, leaf.declared, leaf.filename, leaf.size, flags))
			d.Reason = roleReason(leaf.role)
			d.Action, d.RuleID, d.Clause = rule.Action, rule.ID, rule.Clause
			if d.Action != policy.ActionTextify || leaf.role != policy.RoleBody {
				d.Action = policy.ActionStrip // alternatives and stripped bodies
				if pre != nil && pre.hidden > 0 {
					d.Detail = "the body held hidden text"
				}
				break
			}
			links := rb.Policy.LinkMode(rule)
			if pre == nil || links != rb.Policy.Body.Links {
				r := rb.renderBody(st, leaf, links)
				pre = &r
			}
			r := *pre
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
			for _, e := range r.embedded {
				findings = append(findings, finding(d, policy.RuleEmbeddedFile, policy.ReasonEmbeddedFile, e))
			}
		}
		decisions = append(decisions, d)
		if d.Reason != policy.ReasonBodyText {
			items = append(items, noticeItem{decision: d, rule: rule})
		}
		for _, f := range findings {
			decisions = append(decisions, f.decision)
			if !f.auditOnly {
				items = append(items, f)
			}
		}
	}

	if st.stop(nil) {
		return nil, st.abort
	}
	hdr := readHeaders(root, env, rb.hostname())
	if tag := rb.Policy.Body.SubjectTag; tag != "" && !env.Nested && !strings.Contains(hdr.subject, tag) {
		hdr.subject = strings.TrimSpace(tag + " " + hdr.subject)
	}
	body := strings.Join(bodies, "\n\n")
	msg := rb.write(env, hdr, composeText(rb.Policy.Body, env, items, body, len(bodies) > 0), attached)
	return &Result{Message: msg, Decisions: decisions, MessageID: hdr.origMessageID, Subject: hdr.subject}, nil
}

// htmlTreeCost is the memory x/net/html's parse tree takes per byte of
// HTML, about (measured on newsletters and on tag soup: 6–9).
const htmlTreeCost = 10

// renderBody renders a body part within the message's budget: an HTML
// document's parse tree is taken from it first; when the budget cannot
// hold the tree, the document is read by the tokenizer instead.
func (rb *Rebuilder) renderBody(st *state, leaf *node, links string) rendered {
	tree := true
	if leaf.declared == "text/html" {
		var taken bool
		if tree, taken = st.trees[leaf]; !taken { // a body rendered twice (flags, then its link mode) pays once
			err := st.budget.Take(int64(len(leaf.body)) * htmlTreeCost)
			st.stop(err) // memory refused: the rebuild stops after this part
			tree = err == nil
			if st.trees == nil {
				st.trees = map[*node]bool{}
			}
			st.trees[leaf] = tree
		}
	}
	return renderBodyWith(leaf, links, rb.Limits.withDefaults().MaxBodyText, tree)
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

// sniff names the content type of a part that is not an attachment (a body
// or an alternative) or could not be parsed: identification without the
// filename checks attachments get.
func sniff(n *node) string {
	if n.isMultipart() {
		return n.declared
	}
	return detect.Detect(n.body, "", nil).Type
}

func itoa(n int) string { return strconv.Itoa(n) }

func orName(s string) string {
	if s == "" {
		return "添付文書 document"
	}
	return s
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
