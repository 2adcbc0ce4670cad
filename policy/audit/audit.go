// Package audit writes the audit log: JSON lines, one record per event, that
// answer "what happened to this mail and under which rule". It is separate
// from the operational (debug) log and has a fixed schema that reports and
// scripts rely on; see README "Audit records".
//
// Each method writes its records with a single write(2) on a file opened
// O_APPEND, so the records of one message are never interleaved with another
// message's and nothing sits in a user-space buffer. A Log is safe for
// concurrent use.
package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"mugai/policy"
)

// Events, as written in the "event" field.
const (
	EventReceived  = "received"
	EventDecision  = "decision"
	EventQueued    = "queued"
	EventDelivered = "delivered"
	EventDeferred  = "deferred"
	EventBounced   = "bounced"
	EventRejected  = "rejected"
	EventRequeued  = "requeued" // an admin put a failed message back in the queue
	EventDeleted   = "deleted"  // an admin deleted a message from the queue
	EventPolicy    = "policy"   // a policy was put in force (start, reload) or refused
	EventPurged    = "purged"   // originals past their retention were removed
	EventReleased  = "released" // an admin released an original (or a part of it)
)

// Header is the part of every record: when, what, which message.
type Header struct {
	Time  string `json:"time"`
	Event string `json:"event"`
	ID    string `json:"id"`
	// Recovered marks a record rewritten at start-up from the originals
	// index for a message that was kept without it (see Recovered).
	Recovered bool `json:"recovered,omitempty"`
}

// ReceivedRecord says a message was received (and is now queued).
type ReceivedRecord struct {
	Header
	From      string   `json:"from"`
	Rcpt      []string `json:"rcpt"`
	MessageID string   `json:"message_id"`
	Size      int64    `json:"size"`
	Client    string   `json:"client"`
}

// DecisionRecord says what was done with one MIME leaf part and why.
type DecisionRecord struct {
	Header
	Part         string `json:"part"`
	Filename     string `json:"filename"`
	DeclaredType string `json:"declared_type"`
	DetectedType string `json:"detected_type"`
	Size         int64  `json:"size"`
	SHA256       string `json:"sha256"`
	Action       string `json:"action"`
	Rule         string `json:"rule"`
	Clause       string `json:"clause"`
	Reason       string `json:"reason"`
	Policy       string `json:"policy"` // sha256 of the policy in force
	Detail       string `json:"detail,omitempty"`
	Delivered    string `json:"delivered,omitempty"` // the name mugai attached the rebuilt file under
}

// DeliveryRecord is a delivered, deferred or bounced event for one recipient.
type DeliveryRecord struct {
	Header
	Rcpt  string `json:"rcpt"`
	Relay string `json:"relay"`
	Reply string `json:"reply"`
}

// RejectedRecord says a transaction was refused at SMTP time.
type RejectedRecord struct {
	Header
	From   string   `json:"from"`
	Rcpt   []string `json:"rcpt"`
	Client string   `json:"client"`
	Reply  string   `json:"reply"`
}

// PolicyRecord says which policy is in force from now on, or that a new
// one was refused (Error set) and the previous one stays.
type PolicyRecord struct {
	Header
	Source   string `json:"source"`
	Policy   string `json:"policy"`   // sha256 of the policy now in force
	Previous string `json:"previous"` // sha256 of the one before ("" at start)
	Error    string `json:"error,omitempty"`
}

// Log appends audit records to a writer.
type Log struct {
	mu     sync.Mutex
	w      io.Writer
	cur    *logFile         // set by Open: the file w writes to
	path   string           // set by Open: the file Reopen opens again
	broken error            // set by Fail: commits are refused from then on
	Now    func() time.Time // clock; tests replace it
}

// logFile is an open audit file and the commits that still have to sync
// it (see AcceptedPinned); a Reopen closes it only when the last is done.
type logFile struct {
	f       *os.File
	pins    int
	retired bool
}

// Open opens (creating if needed) an append-only audit file. A last line
// cut short by a crash is ended, so the next record starts a line of its
// own (readers skip the torn one).
func Open(path string) (*Log, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	return &Log{w: f, cur: &logFile{f: f}, path: path, Now: time.Now}, nil
}

func openAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], fi.Size()-1); err == nil && last[0] != '\n' {
			_, err = f.Write([]byte{'\n'})
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("audit: end a torn last line: %w", err)
			}
		}
	}
	return f, nil
}

// Reopen opens the file at the path given to Open again and writes there
// from now on: after logrotate renamed the old one (SIGHUP). The old file
// is closed only once the new one is open; a Log made by New is left as
// it is.
func (l *Log) Reopen() error {
	if l.path == "" {
		return nil
	}
	f, err := openAppend(l.path)
	if err != nil {
		return fmt.Errorf("audit: reopen: %w", err)
	}
	l.mu.Lock()
	old := l.cur
	l.w, l.cur = f, &logFile{f: f}
	old.retired = true
	closeNow := old.pins == 0
	l.mu.Unlock()
	if closeNow {
		return old.f.Close()
	}
	return nil // the last commit that still syncs it closes it
}

// Policy records the policy put in force, or refused when errText is set.
func (l *Log) Policy(source, sha, previous, errText string) error {
	return l.write([]any{&PolicyRecord{Header: Header{Event: EventPolicy}, Source: source, Policy: sha, Previous: previous, Error: errText}})
}

// New returns a Log writing to w (stdout, a test buffer).
func New(w io.Writer) *Log { return &Log{w: w, Now: time.Now} }

// Close closes the underlying file, if Open made one.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == nil {
		return nil
	}
	return l.cur.f.Close()
}

// Envelope is what the received record says about the SMTP transaction.
type Envelope struct {
	From      string
	Rcpts     []string
	MessageID string
	Size      int64
	Client    string
}

// Accepted writes, in one write, the received record, one decision record
// per part and the queued record of a message that is now durable in the
// spool. If it fails the caller must not answer 250. The records are not
// synced: a message's commit uses AcceptedPinned instead.
func (l *Log) Accepted(id string, env Envelope, decisions []policy.Decision, policySHA string) error {
	return l.write(acceptedRecords(id, env, decisions, policySHA, false))
}

func acceptedRecords(id string, env Envelope, decisions []policy.Decision, policySHA string, recovered bool) []any {
	recs := make([]any, 0, len(decisions)+2)
	recs = append(recs, &ReceivedRecord{Header: Header{Event: EventReceived, ID: id, Recovered: recovered}, From: env.From,
		Rcpt: nonNil(env.Rcpts), MessageID: env.MessageID, Size: env.Size, Client: env.Client})
	for _, r := range decisionRecords(id, decisions, policySHA) {
		r.(*DecisionRecord).Recovered = recovered
		recs = append(recs, r)
	}
	return append(recs, &Header{Event: EventQueued, ID: id, Recovered: recovered})
}

// Decided writes only decision records (the offline sanitize command).
func (l *Log) Decided(id string, decisions []policy.Decision, policySHA string) error {
	return l.write(decisionRecords(id, decisions, policySHA))
}

// Delivered records a recipient's delivery; relay names the courier
// ("relay host:port", "maildir PATH"); reply is the next hop's final reply.
func (l *Log) Delivered(id, rcpt, relay, reply string) error {
	return l.delivery(EventDelivered, id, rcpt, relay, reply)
}

// Deferred records a temporary failure that will be retried.
func (l *Log) Deferred(id, rcpt, relay, reply string) error {
	return l.delivery(EventDeferred, id, rcpt, relay, reply)
}

// Bounced records a permanent failure (5xx or lifetime expired).
func (l *Log) Bounced(id, rcpt, relay, reply string) error {
	return l.delivery(EventBounced, id, rcpt, relay, reply)
}

func (l *Log) delivery(event, id, rcpt, relay, reply string) error {
	return l.write([]any{&DeliveryRecord{Header: Header{Event: event, ID: id}, Rcpt: rcpt, Relay: relay, Reply: reply}})
}

// Rejected records a transaction refused at SMTP time and the reply given.
func (l *Log) Rejected(id, from string, rcpts []string, client, reply string) error {
	return l.write([]any{&RejectedRecord{Header: Header{Event: EventRejected, ID: id}, From: from,
		Rcpt: nonNil(rcpts), Client: client, Reply: reply}})
}

func decisionRecords(id string, ds []policy.Decision, policySHA string) []any {
	recs := make([]any, 0, len(ds))
	for _, d := range ds {
		recs = append(recs, &DecisionRecord{
			Header: Header{Event: EventDecision, ID: id}, Part: d.Path, Filename: d.Filename,
			DeclaredType: d.DeclaredType, DetectedType: d.DetectedType, Size: d.Size,
			SHA256: d.SHA256, Action: string(d.Action), Rule: d.RuleID, Clause: d.Clause,
			Reason: string(d.Reason), Policy: policySHA, Detail: d.Detail, Delivered: d.Delivered,
		})
	}
	return recs
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// AdminRecord is an action an operator took on a message.
type AdminRecord struct {
	Header
	Operator string `json:"operator"`
	Detail   string `json:"detail"`
}

// Requeued records an operator putting a failed message back in the queue.
func (l *Log) Requeued(id, operator, detail string) error {
	return l.write([]any{&AdminRecord{Header: Header{Event: EventRequeued, ID: id}, Operator: operator, Detail: detail}})
}

// Deleted records an operator deleting a message from the queue.
func (l *Log) Deleted(id, operator, detail string) error {
	return l.write([]any{&AdminRecord{Header: Header{Event: EventDeleted, ID: id}, Operator: operator, Detail: detail}})
}

// ReleasedPart is one part handed out by a release.
type ReleasedPart struct {
	Path     string `json:"path"`
	Filename string `json:"filename"`
	SHA256   string `json:"sha256"`
	Reason   string `json:"reason"` // the decision's reason when it was removed
}

// ReleasedRecord says an admin released an original (id) or parts of it,
// queued as a new message (spool_id) to rcpt.
type ReleasedRecord struct {
	Header
	Operator string         `json:"operator"`
	Reason   string         `json:"reason"`
	SpoolID  string         `json:"spool_id"`
	Rcpt     []string       `json:"rcpt"`
	Parts    []ReleasedPart `json:"parts"`
}

// Purged records the removal of originals past their retention.
func (l *Log) Purged(operator, detail string) error {
	return l.write([]any{&AdminRecord{Header: Header{Event: EventPurged}, Operator: operator, Detail: detail}})
}

// header returns the common part of a record, to stamp the time.
func header(r any) *Header {
	switch v := r.(type) {
	case *Header:
		return v
	case *ReceivedRecord:
		return &v.Header
	case *DecisionRecord:
		return &v.Header
	case *DeliveryRecord:
		return &v.Header
	case *RejectedRecord:
		return &v.Header
	case *AdminRecord:
		return &v.Header
	case *PolicyRecord:
		return &v.Header
	case *ReleasedRecord:
		return &v.Header
	case *PortalRecord:
		return &v.Header
	case *TempfailRecord:
		return &v.Header
	}
	panic(fmt.Sprintf("audit: unknown record type %T", r))
}

func (l *Log) write(recs []any) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.writeLocked(recs)
}

func (l *Log) writeLocked(recs []any) error {
	now := l.Now().UTC().Format(time.RFC3339Nano)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		h := header(r)
		h.Time = now
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("audit: encode %s record: %w", h.Event, err)
		}
	}
	if _, err := l.w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	return nil
}
