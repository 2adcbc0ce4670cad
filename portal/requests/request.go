// Package requests keeps the staff's release requests durably: one JSON
// file per request in a directory, written like the spool (temp file,
// fsync, rename, fsync of the directory) before a call returns, read
// back into an in-memory index at Open, recovered after a crash, and
// purged when the original's retention ends.
//
// A request's state moves only forward:
//
//	waiting → approved → delivered | failed   (an approver's decision, then the release)
//	waiting → refused                         (an approver's decision)
//	waiting → delivered | failed              (a self-release, at once)
//
// refused, delivered and failed are final. Store.Update enforces this
// (CanMove), and keeps a request's identity (ID, MsgID, Part, Rcpt,
// Created) as Add made it. Asking again after a refusal or a failure
// makes a new request; asking again while one is waiting returns that
// one (see Store.Add).
package requests

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Errors, for errors.Is.
var (
	ErrNotFound   = errors.New("requests: no such request")
	ErrTransition = errors.New("requests: state change not allowed")
	ErrInvalid    = errors.New("requests: invalid request")
)

// State is where a request stands.
type State string

// The states (see the package doc for the moves between them).
const (
	Waiting   State = "waiting"
	Approved  State = "approved"
	Refused   State = "refused"
	Delivered State = "delivered"
	Failed    State = "failed"
)

// Valid reports whether s is one of the states.
func (s State) Valid() bool {
	switch s {
	case Waiting, Approved, Refused, Delivered, Failed:
		return true
	}
	return false
}

// Final reports whether a request in state s can no longer change.
func (s State) Final() bool { return s == Refused || s == Delivered || s == Failed }

// CanMove reports whether a request may go from one state to the other.
// Staying in waiting or approved (to record more, such as a SpoolID) is
// allowed; a final state stays as it is.
func CanMove(from, to State) bool {
	switch from {
	case Waiting:
		return to.Valid()
	case Approved:
		return to == Approved || to == Delivered || to == Failed
	}
	return false
}

// MaxText is the most bytes kept of Reason, Comment, Approver and Error
// (cut at a character boundary); MaxField the most of MsgID, Part and
// Rcpt (longer ones are refused).
const (
	MaxText  = 1000
	MaxField = 1000
)

// Request is one staff request for an original, or a part of it.
type Request struct {
	ID       string    `json:"id"`             // random, URL-safe
	MsgID    string    `json:"msg_id"`         // gateway id of the original
	Part     string    `json:"part,omitempty"` // part path ("" = whole original)
	Rcpt     string    `json:"rcpt"`           // who asks: one of the original's recipients
	Reason   string    `json:"reason"`         // the requester's reason (hostile text, stored as given, bounded)
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires"` // the original's retention end: the request is purged after it
	State    State     `json:"state"`
	Approver string    `json:"approver,omitempty"`
	Comment  string    `json:"comment,omitempty"`
	Decided  time.Time `json:"decided,omitzero"`
	SpoolID  string    `json:"spool_id,omitempty"` // the release's spool id once queued
	Error    string    `json:"error,omitempty"`    // why a release failed (state failed)
}

// check refuses a request whose identity is malformed.
func (r *Request) check() error {
	for _, f := range []struct {
		name, val string
		needed    bool
	}{{"msg_id", r.MsgID, true}, {"part", r.Part, false}, {"rcpt", r.Rcpt, true}} {
		if err := checkField(f.val, f.needed); err != nil {
			return fmt.Errorf("%w: %s %s", ErrInvalid, f.name, err)
		}
	}
	if !r.State.Valid() {
		return fmt.Errorf("%w: state %q", ErrInvalid, r.State)
	}
	if r.Expires.IsZero() {
		return fmt.Errorf("%w: no expiry", ErrInvalid)
	}
	return nil
}

func checkField(s string, needed bool) error {
	switch {
	case s == "" && needed:
		return errors.New("empty")
	case len(s) > MaxField:
		return fmt.Errorf("longer than %d bytes", MaxField)
	case !utf8.ValidString(s):
		return errors.New("not UTF-8")
	case strings.ContainsFunc(s, unicode.IsControl):
		return errors.New("holds a control character")
	}
	return nil
}

// bound makes the free-text fields valid UTF-8 of at most MaxText bytes.
func (r *Request) bound() {
	for _, p := range []*string{&r.Reason, &r.Comment, &r.Approver, &r.Error} {
		*p = cut(strings.ToValidUTF8(*p, "\uFFFD"), MaxText)
	}
}

// cut returns at most n bytes of s, ending on a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
