package sanitize

import (
	"bytes"
	"fmt"
	"strings"

	"mugai/policy"
	"mugai/sanitize/text"
)

// forwarded decides an attached message (message/rfc822): disarm rebuilds
// it by the same rules and attaches the result as a sanitized .eml;
// extract puts its rebuilt text in a .txt attachment or in the body;
// keep is refused (a message is a container); strip removes it. The
// decisions about its parts are recorded with paths under the part's own
// (2/1, 2/2.1) and listed in its own notice.
func (rb *Rebuilder) forwarded(st *state, f file, found policy.Decision) outcome {
	found.DetectedType = "message/rfc822"
	rule := rb.Policy.Evaluate(st.subject(policy.RoleAttachment, "message/rfc822", f.declared, f.filename, f.size, nil))
	switch rule.Action {
	case policy.ActionDisarm, policy.ActionExtract:
	case policy.ActionKeep:
		return stripped(found, rule, policy.ReasonNotKeepable, "a nested message cannot be passed unsanitized")
	default:
		return stripped(found, rule, policy.ReasonAttachment, "")
	}
	if maxLevel := rb.Limits.withDefaults().MaxForwardDepth; f.level+1 > maxLevel {
		return stripped(found, policy.RuleStructure, policy.ReasonDepthLimit, fmt.Sprintf("messages nested deeper than %d", maxLevel))
	}
	env := Envelope{ID: found.MsgID, Nested: true}
	res, err := rb.rebuild(st, env, newMessageBytes(messageStart(f.body)), f.path+"/")
	if st.abort != nil {
		return aborted()
	}
	if err != nil {
		return stripped(found, policy.RuleSanitizeFailed, policy.ReasonSanitizeFailed, err.Error())
	}
	inner := make([]noticeItem, 0, len(res.Decisions))
	for _, d := range res.Decisions {
		inner = append(inner, noticeItem{decision: d, auditOnly: true})
	}
	name := f.filename
	if name == "" {
		name = res.Subject
	}
	name = strings.TrimSuffix(safeFilename(orDefault(name, "forwarded")), ".eml")
	detail := fmt.Sprintf("message rebuilt by the same rules (%d parts decided)", len(res.Decisions))
	if rule.Action == policy.ActionExtract {
		text := forwardedText(res.Message)
		return decided(found, rule, rule.Action, policy.ReasonExtracted, detail).holding(inner).attaching(&attachment{
			name: name + ".txt", ctype: "text/plain; charset=utf-8", data: []byte(strings.ReplaceAll(text, "\n", "\r\n")),
			intoBody: rule.Options.Into == "body" && f.level == 0})
	}
	return decided(found, rule, rule.Action, policy.ReasonDisarmed, detail).holding(inner).
		attaching(&attachment{name: name + ".eml", ctype: "message/rfc822", data: res.Message})
}

// messageStart skips what may come before a saved message's header: blank
// lines and an mbox "From " line.
func messageStart(b []byte) []byte {
	for len(b) > 0 && (b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	if bytes.HasPrefix(b, []byte("From ")) {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			return b[i+1:]
		}
	}
	return b
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// forwardedText renders a rebuilt message as text: its main headers, then
// its body text (which carries its own notice).
func forwardedText(msg []byte) string {
	root, err := parseMessage(newMessageBytes(msg), Limits{})
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, k := range []string{"From", "To", "Cc", "Date", "Subject"} {
		if v := root.header.Get(k); v != "" {
			b.WriteString(k + ": " + text.DecodeHeader(v) + "\n")
		}
	}
	b.WriteString("\n")
	for _, l := range root.leaves() {
		if l.declared == "text/plain" {
			s, _, _ := text.Decode(l.body, l.params["charset"])
			b.WriteString(strings.ReplaceAll(s, "\r\n", "\n"))
			break
		}
	}
	return b.String()
}
