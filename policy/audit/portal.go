package audit

import (
	"os"

	"mugai/policy"
)

// Events of the staff portal (package portal): a recipient's request for
// an original part and an approver's decision on it, a PPAP unlock, and
// the short mails that tell people about them. The release itself is the
// released record, as for the admin's command.
const (
	EventReleaseRequested = "release-requested"
	EventReleaseApproved  = "release-approved"
	EventReleaseRefused   = "release-refused"
	EventUnlocked         = "unlocked"      // an encrypted ZIP opened with the recipient's password; its members' decisions follow under spool_id
	EventUnlockFailed     = "unlock-failed" // a wrong password, or an archive that could not be opened (never the password)
	EventNotified         = "notified"      // a portal notice mail was queued
)

// PortalRecord is one step in the portal, about original id.
type PortalRecord struct {
	Header
	Actor   string   `json:"actor"`             // the link's holder (a recipient's address) or the approver
	Part    string   `json:"part,omitempty"`    // part path in the original
	Request string   `json:"request,omitempty"` // request id
	Rcpt    []string `json:"rcpt,omitempty"`    // who asked, or who is told
	SpoolID string   `json:"spool_id,omitempty"`
	Detail  string   `json:"detail,omitempty"` // the request's reason, the approver's comment, why an unlock failed
}

// Portal writes one portal record (event is one of the Event constants
// above; the caller fills the rest of r).
func (l *Log) Portal(event string, r PortalRecord) error {
	r.Header = Header{Event: event, ID: r.ID}
	return l.write([]any{&r})
}

// UnlockedPinned writes, as part of the commit of the unlocked message's
// spool entry (see AcceptedPinned), the unlocked record and the decision
// records of the archive's members under the new message's id.
func (l *Log) UnlockedPinned(r PortalRecord, decisions []policy.Decision, policySHA string) (f *os.File, unpin func(), err error) {
	r.Header = Header{Event: EventUnlocked, ID: r.ID}
	return l.pinned(append([]any{&r}, decisionRecords(r.SpoolID, decisions, policySHA)...))
}

// NotifiedPinned writes the notified record as part of the commit of the
// notice mail's spool entry.
func (l *Log) NotifiedPinned(r PortalRecord) (f *os.File, unpin func(), err error) {
	r.Header = Header{Event: EventNotified, ID: r.ID}
	return l.pinned([]any{&r})
}
