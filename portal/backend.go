// Package portal serves the staff and approver web pages: a recipient
// opens the link in a notice, sees what was done to each part of the
// mail and why, asks for an original part (released at once, after an
// approver's decision, or never, as the policy's rule says), or unlocks a
// password-protected ZIP; approvers log in, decide requests and search
// the kept originals. No original byte is ever served over HTTP: what a
// recipient gets leaves as mail, through the gateway's spool, to one of
// the message's original recipients.
//
// The package owns the web side only. The gateway gives it a Backend: the
// originals, the release and unlock paths, notification mail and the
// audit log.
package portal

import (
	"errors"
	"time"
)

// Release modes, as a policy rule's `release` option says them.
const (
	ReleaseNever    = "never"    // staff cannot ask; only the admin's command releases
	ReleaseApproval = "approval" // an approver decides each request
	ReleaseSelf     = "self"     // the recipient's request is released at once
)

// Message is what the portal shows of one kept original. It never holds
// the original's bytes.
type Message struct {
	ID        string    // gateway id
	Received  time.Time // as received by the gateway
	From      string    // envelope sender
	Rcpts     []string  // envelope recipients: the only addresses a release may go to
	Subject   string    // decoded subject, hostile text
	MessageID string
	Auth      string    // the sender's authentication result as the index knows it ("" unknown)
	Expires   time.Time // the end of the original's retention; the link's expiry
	Parts     []Part    // only the parts that were changed or removed
}

// Part is one changed or removed part of a Message.
type Part struct {
	Path         string // as `mugai originals show` prints it ("2", "3.1")
	Filename     string // hostile text
	DeclaredType string
	DetectedType string
	Size         int64
	SHA256       string
	Action       string // the policy action taken
	Rule         string // rule id
	Clause       string // clause of the municipality's policy
	Reason       string // policy.Reason
	// What was done and why, in the notice's words (Japanese, English).
	DoneJA, DoneEN string
	WhyJA, WhyEN   string
	Release        string // ReleaseNever, ReleaseApproval or ReleaseSelf
	Encrypted      bool   // removed as an encrypted archive: the page offers the unlock form
}

// Search selects originals for the approvers' message trace; empty fields
// select everything.
type Search struct {
	From, Rcpt   string // envelope addresses, case-insensitive substrings
	Subject      string // substring of the decoded subject
	MessageID    string // with or without <>
	Since, Until time.Time
	Limit        int // at most this many, newest first
}

// Unlocked says what an unlock delivered.
type Unlocked struct {
	SpoolID string // the new message's id
	Kept    int    // members delivered (sanitized)
	Removed int    // members removed
}

// Errors a Backend returns, for errors.Is.
var (
	ErrNotFound      = errors.New("portal: no such original or part")
	ErrWrongPassword = errors.New("portal: wrong password")
	ErrNotAllowed    = errors.New("portal: the policy does not allow this")
)

// Backend is what the portal needs of the gateway. Every method may be
// called concurrently.
type Backend interface {
	// Message returns original id's summary (ErrNotFound when the
	// original is not kept, or no longer).
	Message(id string) (Message, error)
	// Search lists originals, newest first.
	Search(s Search) ([]Message, error)
	// Release queues part (a path; "" for the whole original) of original
	// id for rcpt, who must be one of its recipients, through the spool;
	// actor and reason are audited (`released`). It returns once the
	// release is durable in the spool.
	Release(id, part, rcpt, actor, reason string) (spoolID string, err error)
	// Unlock decrypts the encrypted ZIP part of original id with
	// password, decides each member by the policy and queues a new
	// message with the sanitized members for rcpt (one of its
	// recipients). It audits `unlocked` or `unlock-failed` itself and
	// returns ErrWrongPassword for a wrong password. The password is
	// never stored or logged; the caller zeroes it after the call.
	Unlock(id, part, rcpt string, password []byte) (Unlocked, error)
	// Notify queues a short text mail from the gateway to the addresses.
	Notify(to []string, subject, body string) error
	// Audit records one portal event.
	Audit(ev Event) error
}

// Event kinds the portal audits through Backend.Audit.
const (
	EventRequested = "release-requested"
	EventApproved  = "release-approved"
	EventRefused   = "release-refused"
)

// Event is one audited step of a request.
type Event struct {
	Kind    string // EventRequested, EventApproved, EventRefused
	Actor   string // "recipient <addr>" (the link's holder) or the approver's name
	ID      string // gateway id of the original
	Part    string // part path
	Request string // request id
	Rcpt    string // who asked
	Detail  string // the request's reason, or the approver's comment
}
