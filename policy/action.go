package policy

import "fmt"

// Action is what the gateway does with one MIME leaf part. It is one enum,
// never a set of booleans: every decision names exactly one action.
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
	// ActionReject refuses the whole message at SMTP time.
	ActionReject Action = "reject"
)

// allActions lists every action in display order.
var allActions = []Action{ActionTextify, ActionKeep, ActionDisarm, ActionFlatten, ActionExtract, ActionStrip, ActionReject}

// implemented reports whether this build can carry out the action. Actions
// that are part of the enum but not yet built are refused by Validate, so a
// policy never silently degrades.
func (a Action) implemented() bool {
	switch a {
	case ActionTextify, ActionKeep, ActionStrip, ActionDisarm, ActionExtract, ActionFlatten:
		return true
	}
	return false
}

// ParseAction parses an action name as written in a policy file.
func ParseAction(s string) (Action, error) {
	for _, a := range allActions {
		if string(a) == s {
			if !a.implemented() {
				return "", fmt.Errorf("action %q is not available in this version of mugai (available: textify, keep, disarm, flatten, extract, strip)", s)
			}
			return a, nil
		}
	}
	return "", fmt.Errorf("unknown action %q (one of: textify, keep, disarm, flatten, extract, strip, reject)", s)
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
	case ActionReject:
		return "受信拒否", "rejected"
	}
	return string(a), string(a)
}
