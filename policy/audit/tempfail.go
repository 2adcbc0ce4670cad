package audit

import "fmt"

// EventTempfail says mugai answered a transaction with a temporary
// failure (4xx) because of a local problem; the sending MTA retries.
const EventTempfail = "tempfail"

// Tempfail classes: what failed locally. The class is for the admin and
// the report; the operational log has the error itself, with its path.
const (
	ClassSpool     = "spool"     // the spool could not be written
	ClassOriginals = "originals" // the originals store could not be written
	ClassAudit     = "audit"     // the audit log could not be written or synced
	ClassSpace     = "space"     // a file system is full, or below backpressure.min_free_bytes
	ClassQueue     = "queue"     // backpressure.max_queued reached
	ClassDeadline  = "deadline"  // the rebuild ran out of limits.rebuild_timeout
	ClassMemory    = "memory"    // no rebuild memory left (limits.rebuild_memory)
	ClassInternal  = "internal"  // anything else (a bug, a panic): see the log
)

// TempfailRecord is a temporary local failure: the envelope as far as it
// was given, the class of the cause and the reply. Never message content.
type TempfailRecord struct {
	Header
	Class  string   `json:"class"`
	From   string   `json:"from"`
	Rcpt   []string `json:"rcpt"`
	Client string   `json:"client"`
	Reply  string   `json:"reply"`
}

// Tempfail records a temporary local failure of class (one of the Class
// constants) and the reply given; env's From, Rcpts and Client are used.
func (l *Log) Tempfail(id, class string, env Envelope, reply string) error {
	return l.write([]any{&TempfailRecord{Header: Header{Event: EventTempfail, ID: id}, Class: class,
		From: env.From, Rcpt: nonNil(env.Rcpts), Client: env.Client, Reply: reply}})
}

// Broken returns why commits are refused (wrapping ErrBroken) when an
// earlier sync of the audit file failed, else nil: for /healthz.
func (l *Log) Broken() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken != nil {
		return fmt.Errorf("%w: %w", ErrBroken, l.broken)
	}
	return nil
}
