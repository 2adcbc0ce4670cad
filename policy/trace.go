package policy

import "slices"

// Need is data a rule's condition needs besides the part itself: what an
// offline dry run may not have.
type Need string

// The data rules may need.
const (
	// NeedSender is the envelope sender (match.sender, and the domain
	// match.authenticated checks).
	NeedSender Need = "sender"
	// NeedRcpts is the envelope recipients (match.recipient).
	NeedRcpts Need = "recipients"
	// NeedAuth is an Authentication-Results field from a trusted
	// authserv-id (match.authenticated).
	NeedAuth Need = "authentication"
)

// Unapplied is a rule that did not decide a subject only because data it
// needs was missing: it matches the subject in every other condition.
type Unapplied struct {
	Rule    Rule
	Missing []Need // in the order sender, recipients, authentication
}

// Unapplied returns the rules, in order, before the one Evaluate(s)
// returns, that did not match s only for lack of data: missing is what
// the caller could not give (a dry run without an envelope); NeedAuth is
// missing whenever s has no trusted Authentication-Results. With that
// data any of them might have decided instead.
func (p *Policy) Unapplied(s Subject, missing ...Need) []Unapplied {
	if len(s.Auth) == 0 && !slices.Contains(missing, NeedAuth) {
		missing = append(slices.Clip(missing), NeedAuth)
	}
	var out []Unapplied
	for _, r := range p.Rules {
		if r.Match.matches(s) {
			break // this one decided
		}
		m, lacking := r.Match.without(missing)
		if len(lacking) > 0 && m.matches(s) {
			out = append(out, Unapplied{Rule: r, Missing: lacking})
		}
	}
	return out
}

// without returns m with the conditions on missing data dropped, and the
// data those conditions needed.
func (m Match) without(missing []Need) (Match, []Need) {
	var lacking []Need
	drop := func(n Need, set bool) bool {
		if set && slices.Contains(missing, n) {
			if !slices.Contains(lacking, n) {
				lacking = append(lacking, n)
			}
			return true
		}
		return false
	}
	// match.authenticated checks a domain aligned with the sender's, so
	// it needs the sender too.
	senderAuth := drop(NeedSender, len(m.Authenticated) > 0)
	if drop(NeedSender, len(m.Sender) > 0) {
		m.Sender = nil
	}
	if drop(NeedRcpts, len(m.Recipient) > 0) {
		m.Recipient = nil
	}
	if drop(NeedAuth, len(m.Authenticated) > 0) || senderAuth {
		m.Authenticated = nil
	}
	slices.SortFunc(lacking, func(a, b Need) int { return needOrder(a) - needOrder(b) })
	return m, lacking
}

func needOrder(n Need) int {
	return slices.Index([]Need{NeedSender, NeedRcpts, NeedAuth}, n)
}
