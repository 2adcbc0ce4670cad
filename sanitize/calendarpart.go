package sanitize

import (
	"strings"

	"mugai/policy"
)

// calendarAlternative decides the text/calendar version of a meeting
// request (Outlook and Google send multipart/alternative with text/plain,
// text/html and text/calendar; method=REQUEST): the rule that decides
// calendar attachments decides it, and when that rule extracts or disarms
// calendars the event is rendered into the body after the body text,
// recorded as an extract by that rule. Otherwise it is an unused
// alternative like any other.
func (rb *Rebuilder) calendarAlternative(st *state, leaf *node, found policy.Decision) (outcome, string, bool) {
	rule := rb.Policy.Evaluate(st.subject(policy.RoleAttachment, found.DetectedType, leaf.declared, leaf.filename, leaf.size, nil))
	if rule.Action != policy.ActionExtract && rule.Action != policy.ActionDisarm {
		alt := rb.Policy.Evaluate(st.subject(leaf.role, found.DetectedType, leaf.declared, leaf.filename, leaf.size, nil))
		return stripped(found, alt, roleReason(leaf.role), ""), "", false
	}
	rule.Action = policy.ActionExtract // the text only: the file is never attached from an alternative
	f := leafFile(leaf)
	f.path = found.Path
	o := rb.runSanitizer(st, rule, f, found.DetectedType, found)
	return rb.intoBody(st, o, "")
}

// firstBody reports whether a sanitizer's body text is new to the
// message, and remembers it. The heading line (which names the file) is
// not compared: a meeting request's calendar alternative and its
// invite.ics attachment render the same event under different names.
func (st *state) firstBody(body string) bool {
	_, key, _ := strings.Cut(body, "\n")
	if st.texts[key] {
		return false
	}
	if st.texts == nil {
		st.texts = map[string]bool{}
	}
	st.texts[key] = true
	return true
}
