package policy

import (
	"fmt"
	"slices"
	"strings"
)

// Action is what the gateway does with one MIME leaf part. It is one enum,
// never a set of booleans: every decision names exactly one action. The
// enum holds only what this build carries out; an action is added when it
// is built.
type Action string

// The actions, as written in policy files and audit records.
const (
	// ActionTextify renders a body part to plain text (text/plain is
	// re-encoded, text/html is converted).
	ActionTextify Action = "textify"
	// ActionKeep re-attaches the decoded bytes of a part, unchanged, in a
	// freshly written MIME part. Meant for plain formats (text, CSV).
	ActionKeep Action = "keep"
	// ActionDisarm keeps the format and removes active content.
	ActionDisarm Action = "disarm"
	// ActionFlatten renders a document to pixels.
	ActionFlatten Action = "flatten"
	// ActionExtract takes the text out of a document.
	ActionExtract Action = "extract"
	// ActionStrip removes the part; the notice says so.
	ActionStrip Action = "strip"
)

// allActions lists every action in display order.
var allActions = []Action{ActionTextify, ActionKeep, ActionDisarm, ActionFlatten, ActionExtract, ActionStrip}

// plannedActions are actions of the design (STYLE.md) that this build does
// not carry out, so they are not in the enum: a policy naming one is
// refused with a message that says so, never degraded silently. "reject"
// (refuse the whole message at SMTP time) needs the decision before DATA
// is answered.
var plannedActions = []string{"reject"}

// ParseAction parses an action name as written in a policy file.
func ParseAction(s string) (Action, error) {
	if i := slices.Index(allActions, Action(s)); i >= 0 {
		return allActions[i], nil
	}
	if slices.Contains(plannedActions, s) {
		return "", fmt.Errorf("action %q is not available in this version of mugai (available: %s)", s, joinActions(allActions))
	}
	return "", fmt.Errorf("unknown action %q (one of: %s)", s, joinActions(allActions))
}

func joinActions(as []Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// Label returns the short Japanese and English words used in the notice.
func (a Action) Label() (ja, en string) {
	switch a {
	case ActionTextify:
		return "テキスト化", "converted to text"
	case ActionKeep:
		return "添付（変更なし）", "attached unchanged"
	case ActionDisarm:
		return "無害化して添付", "disarmed and attached"
	case ActionFlatten:
		return "画像化して添付", "flattened to images"
	case ActionExtract:
		return "テキスト抽出", "text extracted"
	case ActionStrip:
		return "削除", "removed"
	}
	return string(a), string(a)
}
