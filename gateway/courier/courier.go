// Package courier delivers rebuilt messages to the next hop: the LGWAN-side
// MTA over SMTP, or a Maildir tree when no relay is configured.
//
// A Courier is called by the delivery worker with one message and the
// recipients still pending; it returns exactly one Result per recipient, in
// order. It is safe for concurrent use. The SMTP courier keeps idle
// connections to its next hop between calls (pool.go), never a transaction.
package courier

import (
	"context"
	"errors"
	"fmt"
)

// Courier delivers one message to a set of recipients.
type Courier interface {
	// Deliver sends msg (CRLF line endings) from the envelope sender
	// to each recipient. Results are in the order of rcpts; Err nil
	// means the next hop took responsibility for that recipient.
	Deliver(ctx context.Context, from string, rcpts []string, msg []byte) []Result
	// Name says where mail goes ("relay 10.0.0.5:25", "maildir var/maildir"),
	// for the audit log's relay field.
	Name() string
}

// Result is the outcome for one recipient.
type Result struct {
	Rcpt  string
	Err   error  // nil: delivered
	Reply string // the next hop's reply, for the audit log
}

// Error is a delivery failure with what the next hop said. Permanent
// failures are not retried.
type Error struct {
	Permanent bool
	Code      int    // SMTP reply code, 0 when none (network, local)
	Enhanced  string // "5.1.1" when given
	Msg       string
	Err       error // underlying cause, if any
}

func (e *Error) Error() string {
	s := e.Msg
	if e.Code != 0 {
		s = fmt.Sprintf("%d", e.Code)
		if e.Enhanced != "" {
			s += " " + e.Enhanced
		}
		s += " " + e.Msg
	}
	if e.Err != nil && e.Msg == "" {
		s = e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// IsPermanent reports whether err says the delivery must not be retried.
// Unknown errors are temporary: retrying is the safe side.
func IsPermanent(err error) bool {
	var ce *Error
	return errors.As(err, &ce) && ce.Permanent
}
