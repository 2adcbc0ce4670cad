package audit

import (
	"errors"
	"fmt"
	"os"

	"mugai/policy"
)

// ErrBroken says an earlier sync of the audit file failed: records the
// gateway acknowledged may not be on disk, and no record written through
// the same file can be trusted to get there. Commits are refused until
// the gateway restarts (whose recovery rewrites what is missing from the
// originals index); fsync errors are not retried, after PostgreSQL's
// "fsyncgate": the kernel may already have dropped the failed pages.
var ErrBroken = errors.New("audit: an earlier sync of the audit log failed; refusing mail until restart")

// AcceptedPinned writes the records of an accepted message, as Accepted
// does, as part of its commit: it returns the file they were written to,
// which stays open (a Reopen meanwhile closes it only at unpin) for the
// commit's round to sync, and unpin, to be called once that round is
// over. With a Log made by New, f is nil: there is nothing to sync.
//
// Call order: AcceptedPinned after the message's data is durable and
// before its spool entry is renamed into place; sync f with the renames;
// Fail if that sync failed; then unpin.
func (l *Log) AcceptedPinned(id string, env Envelope, decisions []policy.Decision, policySHA string) (f *os.File, unpin func(), err error) {
	return l.pinned(acceptedRecords(id, env, decisions, policySHA, false))
}

// ReleasedPinned writes a release's record as part of the commit of its
// spool entry, as AcceptedPinned does for an accepted message: a release
// never reaches the spool, nor staff, without its record.
func (l *Log) ReleasedPinned(id, operator, reason, spoolID string, rcpts []string, parts []ReleasedPart) (f *os.File, unpin func(), err error) {
	return l.pinned([]any{&ReleasedRecord{Header: Header{Event: EventReleased, ID: id}, Operator: operator, Reason: reason,
		SpoolID: spoolID, Rcpt: nonNil(rcpts), Parts: parts}})
}

// DecidedPinned writes the decision records of a message rebuilt again
// (from its original, for a damaged spool entry) as part of the commit of
// its new spool entry.
func (l *Log) DecidedPinned(id string, decisions []policy.Decision, policySHA string) (f *os.File, unpin func(), err error) {
	return l.pinned(decisionRecords(id, decisions, policySHA))
}

// pinned writes recs and returns the file they went to, kept open until
// unpin (see AcceptedPinned).
func (l *Log) pinned(recs []any) (f *os.File, unpin func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBroken, l.broken)
	}
	if err := l.writeLocked(recs); err != nil {
		return nil, nil, err
	}
	lf := l.cur
	if lf == nil {
		return nil, func() {}, nil
	}
	lf.pins++
	return lf.f, func() { l.unpin(lf) }, nil
}

func (l *Log) unpin(lf *logFile) {
	l.mu.Lock()
	lf.pins--
	closeNow := lf.retired && lf.pins == 0
	l.mu.Unlock()
	if closeNow {
		lf.f.Close()
	}
}

// Fail records that a sync of the audit file failed (err): see ErrBroken.
func (l *Log) Fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken == nil {
		l.broken = err
	}
}

// Sync makes every record written so far durable (fdatasync).
func (l *Log) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == nil {
		return nil
	}
	if err := l.cur.f.Sync(); err != nil {
		l.broken = err
		return fmt.Errorf("audit: sync: %w", err)
	}
	return nil
}

// Recovered writes the received, decision and queued records of a
// message found kept (in the spool or the originals store) without them,
// rebuilt from its originals index and marked "recovered": true. The
// caller syncs once after the last (Sync).
func (l *Log) Recovered(id string, env Envelope, decisions []policy.Decision, policySHA string) error {
	return l.write(acceptedRecords(id, env, decisions, policySHA, true))
}
