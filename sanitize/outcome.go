package sanitize

import (
	"strings"

	"mugai/policy"
	"mugai/sanitize/format"
)

// outcome is what deciding one part gives: its decision, the rule that
// decided it (the notice quotes it), the file to attach if any, and the
// decisions about what the part held (archive members, the parts of a
// forwarded message), in order. Deciding a part returns one; nothing is
// filled in through pointers or left aside for a caller to collect.
type outcome struct {
	decision policy.Decision
	rule     policy.Rule
	att      *attachment
	inner    []noticeItem
	// notes say what was done to the part, in the notice's words
	// (Japanese and English); the decision's detail holds the English.
	notes []format.Note
}

// item is the notice's entry for the part itself.
func (o outcome) item() noticeItem {
	return noticeItem{decision: o.decision, rule: o.rule, notes: o.notes}
}

// noting returns o with notes for the notice, their English appended to
// the decision's detail (the audit record's words).
func (o outcome) noting(notes ...format.Note) outcome {
	o.notes = append(o.notes, notes...)
	for _, n := range notes {
		switch d := o.decision.Detail; {
		case d == "":
			o.decision.Detail = n.EN
		case strings.HasSuffix(d, "."):
			o.decision.Detail = d + " " + n.EN
		default:
			o.decision.Detail = d + "; " + n.EN
		}
	}
	return o
}

// decided is the constructor of every outcome: the part's decision so far
// (what was found about it: path, types, size) with the rule, action and
// reason that decided it. An empty detail keeps the one found before.
func decided(found policy.Decision, r policy.Rule, action policy.Action, reason policy.Reason, detail string) outcome {
	d := found
	d.Action, d.RuleID, d.Clause, d.Reason = action, r.ID, r.Clause, reason
	if detail != "" {
		d.Detail = detail
	}
	return outcome{decision: d, rule: r}
}

// stripped is a part removed by rule r.
func stripped(found policy.Decision, r policy.Rule, reason policy.Reason, detail string) outcome {
	return decided(found, r, policy.ActionStrip, reason, detail)
}

// attaching returns o with a file to attach.
func (o outcome) attaching(a *attachment) outcome {
	o.att = a
	return o
}

// holding returns o with the decisions about what the part held.
func (o outcome) holding(inner []noticeItem) outcome {
	o.inner = inner
	return o
}

// aborted is the outcome of a part whose rebuild was stopped (deadline,
// memory): it is never used, the rebuild returns the stop's error.
func aborted() outcome { return outcome{rule: policy.RuleSanitizeFailed} }
