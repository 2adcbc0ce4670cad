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
}

// ErrDeadline is a rebuild stopped by its context (limits.rebuild_timeout
// in the gateway): nothing of it is kept and the client is told to retry.
var ErrDeadline = errors.New("sanitize: the rebuild ran out of time")

// state is what one Rebuild call keeps across parts: its context and why
// it stopped, what the message may still spend, and what the policy is
// told about the message besides the part.
type state struct {
	ctx   context.Context
	abort error // set when the rebuild must stop (deadline, memory): returned as is
	spend
	about
	// sanitizers' body texts given so far (see firstBody)
	texts map[string]bool
}

// spend is what the message may still expand into, all its parts together
// however deeply nested (archives, forwarded messages).
type spend struct {
	budget  *format.Budget // the message's expansion budget
	members int            // archive members left
	trees   map[*node]bool // HTML bodies whose parse tree the budget holds (taken once per body)
}

// about is what rules may match on besides the part: the top-level
// envelope and the trusted Authentication-Results of the top-level message.
type about struct {
	sender  string
	rcpts   []string
	auth    []policy.AuthResult
	authSet bool
}

// subject is what the policy is asked about one part.
func (st *state) subject(role policy.Role, detected, declared, filename string, size int64, flags []policy.Flag) policy.Subject {
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
	// Portal is the link to the message's page in the staff portal,
	// written into the notice when something was changed or removed (the
	// one URL of a rebuilt body that is not defanged); "" for none.
	Portal string
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
	// Auth sums up the trusted Authentication-Results of the message
	// ("dmarc=pass header.from=example.jp; …"), "" when none is trusted:
	// what approvers see of the sender's authentication.
	Auth string
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
	lim := rb.Limits.withDefaults()
	st := &state{ctx: ctx, spend: spend{budget: format.NewBudget(lim.MaxExpansion, peakGrow(grow)), members: lim.MaxArchiveMembers},
		about: about{sender: env.From, rcpts: env.Rcpts}}
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

	var m rebuilt
	for _, leaf := range root.leaves() {
		if st.stop(nil) {
			return nil, st.abort
		}
		o, text, isText := rb.decideLeaf(st, env, root, leaf, prefix)
		if st.abort != nil {
			return nil, st.abort
		}
		m.add(o, text, isText)
	}

	if st.stop(nil) {
		return nil, st.abort
	}
	hdr := readHeaders(root, env, rb.hostname())
	if tag := rb.Policy.Body.SubjectTag; tag != "" && !env.Nested && !strings.Contains(hdr.subject, tag) {
		hdr.subject = strings.TrimSpace(tag + " " + hdr.subject)
	}
	body := strings.Join(m.bodies, "\n\n")
	hdr.actions = actionsValue(m.items, len(m.bodies) > 0, body)
	msg := rb.write(env, hdr, composeText(rb.Policy.Body, env, m.items, body, len(m.bodies) > 0), m.attached)
	return &Result{Message: msg, Decisions: m.decisions, MessageID: hdr.origMessageID, Subject: hdr.subject, Auth: authSummary(st.auth)}, nil
}

// authSummary writes trusted authentication results on one line.
func authSummary(rs []policy.AuthResult) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		p := r.Method + "=" + r.Result
		if r.Domain != "" {
			p += " (" + r.Domain + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// rebuilt collects what the decided leaves of one message give.
type rebuilt struct {
	decisions []policy.Decision // for the audit log: every part and finding
	bodies    []string          // body text, in order
	items     []noticeItem      // what the notice lists
	attached  []attachment
}

func (m *rebuilt) add(o outcome, text string, isText bool) {
	if isText {
		m.bodies = append(m.bodies, text)
	}
	if o.att != nil && !o.att.intoBody {
		m.attached = append(m.attached, *o.att)
	}
	m.decisions = append(m.decisions, o.decision)
	if o.decision.Reason != policy.ReasonBodyText {
		m.items = append(m.items, o.item())
	}
	for _, f := range o.inner {
		m.decisions = append(m.decisions, f.decision)
		if !f.auditOnly {
			m.items = append(m.items, f)
		}
	}
}

// decideLeaf decides one leaf of the message: a part that could not be
// understood, an attachment, or a body (or its alternative). It returns
// the outcome and, when the leaf gives body text, that text.
func (rb *Rebuilder) decideLeaf(st *state, env Envelope, root, leaf *node, prefix string) (o outcome, text string, isText bool) {
	found := policy.Decision{
		MsgID: env.ID, Path: prefix + leaf.path, DeclaredType: leaf.declared, Filename: leaf.filename,
		Size: leaf.size, Detail: leaf.detail, SHA256: sha256Hex(leaf.body),
	}
	if leaf == root && leaf.problem != "" {
		found.Path = prefix + "0"
	}
	switch {
	case leaf.problem != "":
		found.DetectedType = sniff(leaf)
		rule := policy.RuleStructure
		return decided(found, rule, rule.Action, leaf.problem, ""), "", false
	case leaf.role == policy.RoleAttachment:
		return rb.decideLeafAttachment(st, leaf, found, prefix)
	}
	o, text, isText = rb.decideBody(st, leaf, found)
	if leaf.role == policy.RoleAlternative && o.decision.Reason == policy.ReasonAlternativeUnused {
		o = o.noting(alternativeNote(root, leaf)) // which version was used, which left out
	}
	return o, text, isText
}

// decideLeafAttachment decides an attachment of the message. Text the
// policy puts into the body is body text: links follow the body's link
// mode, invisible characters go, files written as text (uuencode, yEnc,
// BinHex) are cut out. So is the text a sanitizer gives beside a file
// (format.Verdict.Body: a calendar event rendered for staff).
func (rb *Rebuilder) decideLeafAttachment(st *state, leaf *node, found policy.Decision, prefix string) (outcome, string, bool) {
	f := leafFile(leaf)
	f.path, f.level = found.Path, len(strings.Split(prefix, "/"))-1
	o := rb.attachment(st, f, found)
	return rb.intoBody(st, o, leaf.filename)
}

// intoBody returns the body text an attachment's outcome gives: its
// extracted text when the policy puts it into the body, and the text a
// sanitizer wrote beside the file (once per message: a meeting request's
// calendar alternative and its invite.ics render the same event).
func (rb *Rebuilder) intoBody(st *state, o outcome, filename string) (outcome, string, bool) {
	if o.att == nil {
		return o, "", false
	}
	var parts []string
	if o.att.intoBody && len(o.att.data) > 0 {
		name := orName(noticeSafe(filename))
		parts = append(parts, "――― "+name+" の本文 / text of "+name+" ―――\n"+
			strings.TrimRight(strings.ReplaceAll(string(o.att.data), "\r\n", "\n"), "\n"))
	}
	if b := strings.TrimRight(o.att.body, "\n"); b != "" && st.firstBody(b) {
		parts = append(parts, b)
	}
	if len(parts) == 0 {
		return o, "", false
	}
	s, _ := text.Normalize(strings.Join(parts, "\n\n"))
	s, embedded := text.StripEmbeddedFiles(s)
	for _, e := range embedded {
		o.inner = append(o.inner, finding(o.decision, policy.RuleEmbeddedFile, policy.ReasonEmbeddedFile, e))
	}
	return o, text.TransformLinks(s, rb.Policy.Body.Links), true
}

// decideBody decides a body part or an alternative of it: the policy may
// look at what rendering finds (hidden text) before it decides; a body it
// textifies is rendered with the rule's link mode, and what rendering
// found becomes findings.
func (rb *Rebuilder) decideBody(st *state, leaf *node, found policy.Decision) (outcome, string, bool) {
	found.DetectedType = sniff(leaf)
	if leaf.role == policy.RoleAlternative && found.DetectedType == detect.TypeCalendar {
		return rb.calendarAlternative(st, leaf, found) // a meeting request: the event goes into the body
	}
	var flags []policy.Flag
	var pre *rendered // a body rendered to learn its flags before the rules see it
	if leaf.role == policy.RoleBody && rb.Policy.UsesFlag(policy.FlagHiddenText) {
		r := rb.renderBody(st, leaf, rb.Policy.Body.Links)
		if pre = &r; r.hidden > 0 {
			flags = append(flags, policy.FlagHiddenText)
		}
	}
	rule := rb.Policy.Evaluate(st.subject(leaf.role, found.DetectedType, leaf.declared, leaf.filename, leaf.size, flags))
	if rule.Action != policy.ActionTextify || leaf.role != policy.RoleBody {
		detail := "" // alternatives and stripped bodies
		if pre != nil && pre.hidden > 0 {
			detail = "the body held hidden text"
		}
		return stripped(found, rule, roleReason(leaf.role), detail), "", false
	}
	links := rb.Policy.LinkMode(rule)
	if pre == nil || links != rb.Policy.Body.Links {
		r := rb.renderBody(st, leaf, links)
		pre = &r
	}
	r := *pre
	o := decided(found, rule, rule.Action, r.reason, r.detail)
	if r.hidden > 0 {
		o.inner = append(o.inner, finding(o.decision, policy.RuleHiddenText, policy.ReasonHiddenText,
			pluralDetail(r.hidden, "hidden element or invisible character left out", "hidden elements or invisible characters left out")))
	}
	for _, mm := range r.mismatches {
		o.inner = append(o.inner, finding(o.decision, policy.RuleLinkCheck, policy.ReasonLinkMismatch, mm))
	}
	for _, e := range r.embedded {
		o.inner = append(o.inner, finding(o.decision, policy.RuleEmbeddedFile, policy.ReasonEmbeddedFile, e))
	}
	return o, r.text, true
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
func finding(part policy.Decision, rule policy.Rule, reason policy.Reason, detail string) noticeItem {
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

func roleReason(r policy.Role) policy.Reason {
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
