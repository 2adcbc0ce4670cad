package sanitize

import (
	"bytes"
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"mugai/policy"
	"mugai/sanitize/detect"
	"mugai/sanitize/format"
	"mugai/sanitize/rtffile"
)

// attachment is a file to attach to the rebuilt message: written anew by
// a sanitizer, or the decoded bytes of a part the policy keeps.
type attachment struct {
	name, ctype string
	data        []byte
	intoBody    bool // extracted text that goes into the body instead
}

// alwaysStrip lists what is never passed, whatever the policy says: it
// cannot be made harmless by rebuilding (issue: executables, scripts,
// shortcuts, disk images, OneNote, CHM, HTML and SVG, unknown content).
var alwaysStrip = map[string]bool{
	detect.TypePE: true, detect.TypeELF: true, detect.TypeMachO: true, "application/x-msdownload": true,
	detect.TypeJS: true, detect.TypeVBS: true, detect.TypePowerShell: true, detect.TypeBatch: true,
	detect.TypeHTA: true, detect.TypeLNK: true, detect.TypeURLShortcut: true, detect.TypeISO: true,
	detect.TypeOneNote: true, detect.TypeCHM: true, detect.TypeHTML: true, detect.TypeSVG: true,
	// Text to look at, active to the program that opens it: Excel 4
	// macros in SYLK; macros, ActiveX and fields in Office XML documents.
	detect.TypeSYLK: true, detect.TypeWordXML: true, detect.TypeExcelXML: true, detect.TypePowerPointXML: true,
	detect.TypeOfficeXML: true,
	// Archives we cannot open yet: their members could not be checked.
	"application/x-7z-compressed": true, "application/x-rar-compressed": true, "application/vnd.rar": true,
	detect.TypeLZH: true, "application/vnd.ms-cab-compressed": true, "application/x-tar": true,
	"application/gzip": true, "application/x-bzip2": true, "application/x-xz": true, "application/zstd": true,
	"application/java-archive": true, "application/x-java-applet": true, "application/octet-stream": true,
	"application/x-shockwave-flash": true, "application/x-msi": true,
}

// alwaysStripDeclared lists declared types stripped on sight.
var alwaysStripDeclared = map[string]bool{
	"message/partial": true, "message/external-body": true,
}

// file is what the attachment logic works on: a MIME leaf, or a member of
// an archive.
type file struct {
	path      string
	declared  string
	filename  string
	filenames []string
	body      []byte
	size      int64
	depth     int // archive nesting: 0 for a MIME part
	level     int // forwarded-message nesting: 0 in the top-level message
}

func leafFile(n *node) file {
	return file{path: n.path, declared: n.declared, filename: n.filename, filenames: n.filenames, body: n.body, size: n.size}
}

// attachment decides one attachment: identify it, apply the built-in
// checks, then the policy, then run the action. It fills d and returns the
// rule that decided, the file to attach if any, and the decisions about
// what it contains (archive members).
//
// Whatever decided, a file that is delivered gets mugai's name for it
// (deliveredName), recorded in the decision.
func (rb *Rebuilder) attachment(st *state, leaf file, d *policy.Decision) (policy.Rule, *attachment, []noticeItem) {
	r, a := rb.decideAttachment(st, leaf, d)
	items := st.pending
	st.pending = nil
	if a != nil && !a.intoBody {
		a.name = deliveredName(a.name, a.ctype)
		d.Delivered = a.name // the notice says so when the extension changed
	}
	return r, a, items
}

// isMessageType reports the declared types of a message inside a message.
func isMessageType(declared string) bool {
	return declared == "message/rfc822" || declared == "message/global"
}

func (rb *Rebuilder) decideAttachment(st *state, leaf file, d *policy.Decision) (policy.Rule, *attachment) {
	if isMessageType(leaf.declared) && leaf.depth == 0 {
		return rb.forwarded(st, leaf, d)
	}
	id := detect.Detect(leaf.body, leaf.declared, leaf.filenames)
	d.DetectedType = id.Type
	flags := make([]string, len(id.Flags))
	for i, f := range id.Flags {
		flags[i] = string(f)
	}
	subject := st.subject(policy.RoleAttachment, id.Type, leaf.declared, leaf.filename, leaf.size, flags)
	subject.ArchiveDepth = leaf.depth
	rule := rb.Policy.Evaluate(subject)
	names := func(f string) bool {
		for _, x := range rule.Match.Flags {
			if x == f {
				return true
			}
		}
		return false
	}
	decide := func(r policy.Rule, reason, detail string) (policy.Rule, *attachment) {
		d.Action, d.RuleID, d.Clause, d.Reason = policy.ActionStrip, r.ID, r.Clause, reason
		if detail != "" {
			d.Detail = detail
		}
		return r, nil
	}
	dangerousName, hasDangerousName := detect.DangerousName(leaf.filenames)
	switch {
	case alwaysStrip[id.Type] || alwaysStripDeclared[leaf.declared] || isLegacyMacro(id):
		return decide(policy.RuleDangerous, policy.ReasonDangerousType, "content is "+id.Type)
	case (id.Type == detect.TypeRTF || id.Type == "application/rtf") && rtffile.HasObjects(leaf.body):
		return decide(policy.RuleDangerous, policy.ReasonDangerousType, "RTF with embedded or linked objects")
	case hasDangerousName:
		return decide(policy.RuleDangerous, policy.ReasonDangerousType, "named "+dangerousName)
	case id.Has(detect.FlagEncrypted) && !names("encrypted"):
		reason := policy.ReasonEncrypted
		if id.Type == detect.TypeZIP {
			reason = policy.ReasonEncryptedArchive
		}
		return decide(policy.RuleEncrypted, reason, strings.Join(id.Detail, "; "))
	case id.Has(detect.FlagPolyglot) && !names("polyglot"):
		return decide(policy.RuleTypeCheck, policy.ReasonPolyglot, strings.Join(id.Detail, "; "))
	case id.Has(detect.FlagDisguised) && !names("disguised"):
		return decide(policy.RuleTypeCheck, policy.ReasonTypeMismatch, strings.Join(id.Detail, "; "))
	case id.Type == detect.TypeMessage:
		// A mail in a file (.eml, .mht, mbox, whatever its name or first
		// field): rebuilt like a forwarded message, by the same rules.
		return rb.forwarded(st, leaf, d)
	}
	d.Action, d.RuleID, d.Clause, d.Reason = rule.Action, rule.ID, rule.Clause, policy.ReasonAttachment
	switch rule.Action {
	case policy.ActionKeep:
		if leaf.declared == "message/rfc822" || strings.HasPrefix(leaf.declared, "message/") {
			d.Action, d.Reason, d.Detail = policy.ActionStrip, policy.ReasonNotKeepable, "a nested message cannot be passed unsanitized"
			return rule, nil
		}
		return rule, &attachment{name: leaf.filename, ctype: id.Type, data: leaf.body}
	case policy.ActionDisarm:
		if id.Type == detect.TypeZIP {
			return rb.openZip(st, rule, leaf, d)
		}
		return rb.runSanitizer(st, rule, leaf, id.Type, d)
	case policy.ActionFlatten:
		return rb.runSanitizer(st, rule, leaf, id.Type, d)
	case policy.ActionExtract:
		r, att := rb.runSanitizer(st, rule, leaf, id.Type, d)
		if att != nil && rule.Options.Into == "body" && leaf.depth == 0 {
			att.intoBody = true
		}
		return r, att
	case policy.ActionStrip, policy.ActionReject:
		d.Action = policy.ActionStrip // reject is decided before DATA is answered; here it can only remove
		return rule, nil
	}
	// An action this build cannot carry out never passes a part.
	return decide(rule, policy.ReasonNoSanitizer, "action "+string(rule.Action)+" is not available")
}

// runSanitizer runs the sanitizer for the rule's action under a deadline,
// recovering panics. Any failure strips the part (fail closed).
func (rb *Rebuilder) runSanitizer(st *state, rule policy.Rule, leaf file, typ string, d *policy.Decision) (policy.Rule, *attachment) {
	s := rb.Sanitizers.Lookup(string(rule.Action), typ)
	if s == nil {
		d.Action, d.Reason, d.Detail = policy.ActionStrip, policy.ReasonNoSanitizer, "no "+string(rule.Action)+" for "+typ
		return rule, nil
	}
	timeout := rb.SanitizeTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(st.ctx, timeout)
	defer cancel()
	type result struct {
		v   format.Verdict
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r = result{err: fmt.Errorf("panic in %s sanitizer: %v\n%s", s.Name(), p, debug.Stack())}
			}
			done <- r
		}()
		var out bytes.Buffer
		part := format.Part{Path: leaf.path, DeclaredType: leaf.declared, SniffedType: typ, Filename: leaf.filename, Size: leaf.size,
			Options: format.Options{DPI: rule.Options.DPI, Quality: rule.Options.Quality, Pages: rule.Options.Pages,
				KeepURI: rule.Options.URI == "keep"}, Budget: st.budget}
		r.v, r.err = s.Sanitize(ctx, part, bytes.NewReader(leaf.body), &out)
		r.out = out.Bytes()
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		r.err = fmt.Errorf("%s sanitizer: %w", s.Name(), ctx.Err())
	}
	if r.err == nil {
		// What the sanitizer wrote is an expansion too.
		r.err = st.budget.Take(int64(len(r.out)))
	}
	if r.err != nil {
		if st.stop(r.err) { // the whole rebuild's deadline, or no memory: no decision, 4xx
			return policy.RuleSanitizeFailed, nil
		}
		failed := policy.RuleSanitizeFailed
		d.Action, d.RuleID, d.Clause, d.Reason = failed.Action, failed.ID, failed.Clause, policy.ReasonSanitizeFailed
		d.Detail = firstLine(r.err.Error())
		return failed, nil
	}
	switch rule.Action {
	case policy.ActionExtract:
		d.Reason = policy.ReasonExtracted
	case policy.ActionFlatten:
		d.Reason = policy.ReasonFlattened
	default:
		d.Reason = policy.ReasonDisarmed
	}
	d.Detail = strings.Join(r.v.Removed, "; ")
	name := r.v.Filename
	if name == "" {
		name = leaf.filename
	}
	return rule, &attachment{name: name, ctype: r.v.Type, data: r.out} // named by attachment (deliveredName)
}

// isLegacyMacro reports an OLE2 Office document (or unknown OLE2 file)
// holding VBA or Excel 4 macros: there is nothing we can rebuild it into.
func isLegacyMacro(id detect.Result) bool {
	switch id.Type {
	case "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint", detect.TypeOLE:
		return id.Has(detect.FlagMacro)
	}
	return false
}

// firstLine is s up to its first line break.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
