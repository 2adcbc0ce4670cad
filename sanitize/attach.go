package sanitize

import (
	"bytes"
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"

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
	intoBody    bool   // extracted text that goes into the body instead
	body        string // text for the body beside the file (format.Verdict.Body)
}

// alwaysStrip lists programs, never passed whatever the policy says:
// executables, scripts, shortcuts, disk images, installers, OneNote, CHM,
// Java and Flash. Staff cannot ask for them (builtin-dangerous-type).
var alwaysStrip = map[string]bool{
	detect.TypePE: true, detect.TypeELF: true, detect.TypeMachO: true, "application/x-msdownload": true,
	detect.TypeJS: true, detect.TypeVBS: true, detect.TypePowerShell: true, detect.TypeBatch: true,
	detect.TypeHTA: true, detect.TypeLNK: true, detect.TypeURLShortcut: true, detect.TypeISO: true,
	detect.TypeOneNote: true, detect.TypeCHM: true,
	"application/java-archive": true, "application/x-java-applet": true,
	"application/x-shockwave-flash": true, "application/x-msi": true,
}

// unsupported lists content that is not a program but that mugai cannot
// rebuild, never passed whatever the policy says (builtin-unsupported:
// an approver may release the original). The Japanese formats of
// detect/kinds.go are not here: a policy names them.
var unsupported = map[string]bool{
	// Active in a browser or in the program that opens it, but documents:
	// HTML and SVG; Excel 4 macros in SYLK; macros, ActiveX and fields in
	// Office XML flat files.
	detect.TypeHTML: true, detect.TypeSVG: true,
	detect.TypeSYLK: true, detect.TypeWordXML: true, detect.TypeExcelXML: true, detect.TypePowerPointXML: true,
	detect.TypeOfficeXML: true,
	// Archives we cannot open yet: their members could not be checked.
	"application/x-7z-compressed": true, "application/x-rar-compressed": true, "application/vnd.rar": true,
	detect.TypeLZH: true, "application/vnd.ms-cab-compressed": true, "application/x-tar": true,
	"application/gzip": true, "application/x-bzip2": true, "application/x-xz": true, "application/zstd": true,
	// Content nothing recognised.
	detect.TypeOctet: true,
}

// isWebName reports a name a browser opens: unsupported, not a program.
func isWebName(name string) bool {
	switch detect.Ext(name) {
	case "html", "htm", "svg":
		return true
	}
	return false
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
// checks, then the policy, then run the action. found is its decision so
// far (path, declared type, size); the outcome holds the rule that
// decided, the file to attach if any, and the decisions about what it
// contains (archive members, a forwarded message's parts).
//
// Whatever decided, a file that is delivered gets mugai's name for it
// (deliveredName), recorded in the decision.
func (rb *Rebuilder) attachment(st *state, f file, found policy.Decision) outcome {
	o := rb.decideAttachment(st, f, found)
	if o.att != nil && !o.att.intoBody {
		o.att.name = deliveredName(o.att.name, o.att.ctype)
		o.decision.Delivered = o.att.name // the notice says so when the extension changed
	}
	return o
}

// isMessageType reports the declared types of a message inside a message.
func isMessageType(declared string) bool {
	return declared == "message/rfc822" || declared == "message/global"
}

func (rb *Rebuilder) decideAttachment(st *state, f file, found policy.Decision) outcome {
	if isMessageType(f.declared) && f.depth == 0 {
		return rb.forwarded(st, f, found)
	}
	id := detect.Detect(f.body, f.declared, f.filenames)
	found.DetectedType = id.Type
	subject := st.subject(policy.RoleAttachment, id.Type, f.declared, f.filename, f.size, id.Flags)
	subject.ArchiveDepth = f.depth
	rule := rb.Policy.Evaluate(subject)
	if o, ok := builtinCheck(f, id, rule, found); ok {
		return o
	}
	if id.Type == detect.TypeMessage {
		// A mail in a file (.eml, .mht, mbox, whatever its name or first
		// field): rebuilt like a forwarded message, by the same rules.
		return rb.forwarded(st, f, found)
	}
	return rb.act(st, rule, f, id.Type, found)
}

// builtinCheck applies the checks no policy overrides: what can never be
// made harmless, what hides its content (encrypted), what lies about its
// type. A flag the deciding rule names explicitly is the policy's to
// decide. ok is false when none applies.
func builtinCheck(f file, id detect.Result, rule policy.Rule, found policy.Decision) (o outcome, ok bool) {
	names := rule.NamesFlag
	// A name Windows would open in a browser (.html, .svg) is unsupported;
	// any other dangerous name makes the file a program.
	dangerousName, hasDangerousName := detect.DangerousName(slices.DeleteFunc(slices.Clone(f.filenames), isWebName))
	webName, hasWebName := detect.DangerousName(f.filenames)
	switch {
	case alwaysStrip[id.Type] || isLegacyMacro(id):
		return stripped(found, policy.RuleDangerous, policy.ReasonDangerousType, "content is "+id.Type), true
	case (id.Type == detect.TypeRTF || id.Type == "application/rtf") && rtffile.HasObjects(f.body):
		return stripped(found, policy.RuleDangerous, policy.ReasonDangerousType, "RTF with embedded or linked objects"), true
	case hasDangerousName:
		return stripped(found, policy.RuleDangerous, policy.ReasonDangerousType, "named "+dangerousName), true
	case unsupported[id.Type] || alwaysStripDeclared[f.declared]:
		return stripped(found, policy.RuleUnsupported, policy.ReasonUnsupportedType, "content is "+id.Type), true
	case hasWebName:
		return stripped(found, policy.RuleUnsupported, policy.ReasonUnsupportedType, "named "+webName), true
	case id.Has(policy.FlagEncrypted) && !names(policy.FlagEncrypted):
		reason := policy.ReasonEncrypted
		if id.Type == detect.TypeZIP {
			reason = policy.ReasonEncryptedArchive
		}
		return stripped(found, policy.RuleEncrypted, reason, strings.Join(id.Detail, "; ")), true
	case id.Has(policy.FlagPolyglot) && !names(policy.FlagPolyglot) && !rebuildEndsPolyglot(id, rule):
		return stripped(found, policy.RuleTypeCheck, policy.ReasonPolyglot, strings.Join(id.Detail, "; ")), true
	case id.Has(policy.FlagDisguised) && !names(policy.FlagDisguised):
		return stripped(found, policy.RuleTypeCheck, policy.ReasonTypeMismatch, strings.Join(id.Detail, "; ")), true
	}
	return outcome{}, false
}

// act carries out the action of the rule that decided an attachment.
func (rb *Rebuilder) act(st *state, rule policy.Rule, f file, typ string, found policy.Decision) outcome {
	switch rule.Action {
	case policy.ActionKeep:
		if strings.HasPrefix(f.declared, "message/") {
			return stripped(found, rule, policy.ReasonNotKeepable, "a nested message cannot be passed unsanitized")
		}
		return decided(found, rule, rule.Action, policy.ReasonAttachment, "").attaching(&attachment{name: f.filename, ctype: typ, data: f.body})
	case policy.ActionDisarm:
		if typ == detect.TypeZIP {
			return rb.openZip(st, rule, f, found)
		}
		return rb.runSanitizer(st, rule, f, typ, found)
	case policy.ActionFlatten:
		return rb.runSanitizer(st, rule, f, typ, found)
	case policy.ActionExtract:
		o := rb.runSanitizer(st, rule, f, typ, found)
		if o.att != nil && rule.Options.Into == "body" && f.depth == 0 {
			o.att.intoBody = true
		}
		return o
	case policy.ActionStrip:
		o := stripped(found, rule, policy.ReasonAttachment, "")
		if rb.cannotConvert(typ) { // a 一太郎 document: the policy could not have asked for more
			o = o.noting(noteCannotConvert)
		}
		return o
	}
	// An action this build cannot carry out never passes a part.
	return stripped(found, rule, policy.ReasonNoSanitizer, "action "+string(rule.Action)+" is not available")
}

// runSanitizer runs the sanitizer for the rule's action under a deadline,
// recovering panics. Any failure strips the part (fail closed).
func (rb *Rebuilder) runSanitizer(st *state, rule policy.Rule, f file, typ string, found policy.Decision) outcome {
	s := rb.Sanitizers.Lookup(rule.Action, typ)
	if s == nil {
		return stripped(found, rule, policy.ReasonNoSanitizer, "no "+string(rule.Action)+" for "+typ)
	}
	v, out, err := rb.sanitize(st, s, rule, f, typ)
	if err == nil {
		// What the sanitizer wrote is an expansion too.
		err = st.budget.Take(int64(len(out)))
	}
	if err != nil {
		if st.stop(err) { // the whole rebuild's deadline, or no memory: no decision, 4xx
			return aborted()
		}
		failed := policy.RuleSanitizeFailed
		o := decided(found, failed, failed.Action, policy.ReasonSanitizeFailed, "")
		o.decision.Detail = firstLine(err.Error())
		return o
	}
	reason := policy.ReasonDisarmed
	switch rule.Action {
	case policy.ActionExtract:
		reason = policy.ReasonExtracted
	case policy.ActionFlatten:
		reason = policy.ReasonFlattened
	}
	o := decided(found, rule, rule.Action, reason, "")
	o.decision.Detail = ""
	o = o.noting(v.Notes...)
	name := v.Filename
	if name == "" {
		name = f.filename
	}
	if len(out) == 0 && v.Body != "" {
		// Text for the body and no file (a calendar extracted, a
		// cancellation); in an archive, which has no body, the text is
		// the member.
		if f.depth == 0 {
			return o.attaching(&attachment{intoBody: true, body: v.Body})
		}
		return o.attaching(&attachment{name: name + ".txt", ctype: "text/plain; charset=utf-8",
			data: []byte(strings.ReplaceAll(v.Body, "\n", "\r\n"))})
	}
	att := &attachment{name: name, ctype: v.Type, data: out}
	if f.depth == 0 {
		att.body = v.Body
	}
	return o.attaching(att) // named by attachment (deliveredName)
}

// noteCannotConvert tells staff that a removed file is of a kind mugai
// has no sanitizer for (a 一太郎 or DocuWorks document), not a danger.
var noteCannotConvert = format.Note{JA: "この形式は mugai では変換できません。", EN: "mugai cannot convert this kind of file."}

// cannotConvert reports a detected type no sanitizer of this build takes,
// whatever the action.
func (rb *Rebuilder) cannotConvert(typ string) bool {
	if rb.Sanitizers == nil || typ == detect.TypeZIP || typ == detect.TypeMessage {
		return false
	}
	for _, a := range []policy.Action{policy.ActionDisarm, policy.ActionFlatten, policy.ActionExtract} {
		if rb.Sanitizers.Lookup(a, typ) != nil {
			return false
		}
	}
	return true
}

// sanitize runs one sanitizer on a file in a goroutine of its own, within
// the sanitizer timeout and the rebuild's context; a panic is an error.
func (rb *Rebuilder) sanitize(st *state, s format.Sanitizer, rule policy.Rule, f file, typ string) (format.Verdict, []byte, error) {
	ctx, cancel := context.WithTimeout(st.ctx, rb.Limits.withDefaults().SanitizeTimeout)
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
		part := format.Part{Path: f.path, DeclaredType: f.declared, SniffedType: typ, Filename: f.filename, Size: f.size,
			Options: format.Options{DPI: rule.Options.DPI, Quality: rule.Options.Quality, Pages: rule.Options.Pages,
				KeepURI: rule.Options.URI == "keep"}, Budget: st.budget}
		r.v, r.err = s.Sanitize(ctx, part, bytes.NewReader(f.body), &out)
		r.out = out.Bytes()
	}()
	select {
	case r := <-done:
		return r.v, r.out, r.err
	case <-ctx.Done():
		return format.Verdict{}, nil, fmt.Errorf("%s sanitizer: %w", s.Name(), ctx.Err())
	}
}

// isLegacyMacro reports an OLE2 Office document (or unknown OLE2 file)
// holding VBA or Excel 4 macros: there is nothing we can rebuild it into.
func isLegacyMacro(id detect.Result) bool {
	switch id.Type {
	case "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint", detect.TypeOLE:
		return id.Has(policy.FlagMacro)
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
