// Package queue is the spool: rebuilt messages waiting for delivery. A
// new entry is one file, <id>.msg: a first line "MUGAI-SPOOL <entry as
// JSON>", then the message. Its rename into place is the commit. After a
// delivery attempt changes the entry's state, the state lives in <id>.json
// beside it, which from then on is the truth (Postfix likewise rewrites
// only when a message is deferred). At startup, a .msg without an entry
// line or a .json (the older two-file form: never acknowledged) is
// removed; an entry that does not parse, or a .json whose message is
// missing, is moved aside into bad/ and reported, never deleted.
//
// Write order (Stage, then safeio.Staged.Commit, with the original of the
// same message): the file written under a temp name → its data made
// durable → renamed into place → the directory made durable. Only then may
// the SMTP side answer 250.
package queue

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"mugai/gateway/safeio"
)

// ErrNotFound: no entry with that id.
var ErrNotFound = errors.New("queue: no such entry")

// Recipient states.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
)

// Recipient is one recipient's delivery state, persisted after each attempt.
type Recipient struct {
	Addr      string `json:"addr"`
	Status    string `json:"status"`
	Attempts  int    `json:"attempts"`
	LastReply string `json:"last_reply,omitempty"`
}

// Entry is the meta of one spooled message.
type Entry struct {
	ID          string       `json:"id"`
	From        string       `json:"from"`
	Rcpts       []*Recipient `json:"rcpts"`
	Created     time.Time    `json:"created"`
	Attempts    int          `json:"attempts"`
	NextAttempt time.Time    `json:"next_attempt"`
	Bounce      bool         `json:"bounce,omitempty"` // a DSN: goes by the bounce route, is never bounced
}

// Pending returns the recipients still to be delivered.
func (e *Entry) Pending() []*Recipient {
	var out []*Recipient
	for _, r := range e.Rcpts {
		if r.Status == StatusPending {
			out = append(out, r)
		}
	}
	return out
}

// Spool stores entries in one directory. Safe for concurrent use on
// different ids; one id is handled by one goroutine at a time.
type Spool struct {
	dir string
	mu  sync.Mutex // serialises directory syncs with renames
}

// Problem is something recovery found and moved aside.
type Problem struct {
	Name   string // file moved to bad/
	Reason string
}

// Open opens (creating) the spool, recovers it and returns the committed
// entries, oldest first, and what it had to move aside.
func Open(dir string) (*Spool, []*Entry, []Problem, error) {
	for _, d := range []string{dir, filepath.Join(dir, "bad"), filepath.Join(dir, "failed")} {
		if err := safeio.MkdirAll(d, 0o750); err != nil {
			return nil, nil, nil, err
		}
	}
	s := &Spool{dir: dir}
	entries, problems, err := s.recover()
	return s, entries, problems, err
}

// Attach opens a spool that a running gateway may be using, for the admin
// commands: unlike Open it recovers nothing, since a message file without
// its meta may be one being written right now.
func Attach(dir string) (*Spool, error) {
	if _, err := os.Stat(filepath.Join(dir, "failed")); err != nil {
		return nil, fmt.Errorf("queue: %s is not a spool: %w", dir, err)
	}
	return &Spool{dir: dir}, nil
}

func (s *Spool) msgPath(id string) string  { return filepath.Join(s.dir, id+".msg") }
func (s *Spool) metaPath(id string) string { return filepath.Join(s.dir, id+".json") }

func (s *Spool) recover() ([]*Entry, []Problem, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, nil, err
	}
	var entries []*Entry
	var problems []Problem
	seen := map[string]bool{}
	for _, de := range des {
		name := de.Name()
		id, isMsg := strings.CutSuffix(name, ".msg")
		if !isMsg {
			id, _ = strings.CutSuffix(name, ".json")
		}
		switch {
		case de.IsDir():
		case safeio.IsTemp(name):
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
				return nil, nil, err
			}
		case !isMsg && !strings.HasSuffix(name, ".json"):
			problems = append(problems, Problem{Name: name, Reason: "unknown file left in place"})
		case seen[id]:
		default:
			seen[id] = true
			e, why := readEntry(s.dir, id)
			switch {
			case why == errNoEntry:
				// A message file with neither an entry line nor a meta:
				// never acknowledged.
				if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
					return nil, nil, err
				}
			case why != "":
				if err := s.moveAside(id); err != nil {
					return nil, nil, err
				}
				problems = append(problems, Problem{Name: name, Reason: why})
			default:
				entries = append(entries, e)
			}
		}
	}
	if err := safeio.SyncDir(s.dir); err != nil {
		return nil, nil, err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Created.Before(entries[j].Created) })
	return entries, problems, nil
}

// entryLine starts a new entry's message file.
const entryLine = "MUGAI-SPOOL "

// errNoEntry is readEntry's verdict on a message file that carries no
// entry and has no meta beside it.
const errNoEntry = "no entry"

// readEntry reads the entry id of dir: its meta when there is one, else
// the first line of its message file. The reason is "" when it is sound.
func readEntry(dir, id string) (*Entry, string) {
	var e Entry
	data, err := os.ReadFile(filepath.Join(dir, id+".json"))
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, "meta does not parse: " + err.Error()
		}
		if _, err := os.Stat(filepath.Join(dir, id+".msg")); err != nil {
			return nil, "message file missing"
		}
	case os.IsNotExist(err):
		line, err := firstLine(filepath.Join(dir, id+".msg"))
		if err != nil {
			return nil, "unreadable message file: " + err.Error()
		}
		js, ok := strings.CutPrefix(line, entryLine)
		if !ok {
			return nil, errNoEntry
		}
		if err := json.Unmarshal([]byte(js), &e); err != nil {
			return nil, "entry line does not parse: " + err.Error()
		}
	default:
		return nil, "unreadable meta: " + err.Error()
	}
	if e.ID != id || len(e.Rcpts) == 0 {
		return nil, "entry is inconsistent (id or recipients)"
	}
	return &e, ""
}

// firstLine reads a file's first line (without its LF), at most 1 MiB.
func firstLine(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(io.LimitReader(f, 1<<20), 64<<10).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimSuffix(line, "\n"), nil
}

func (s *Spool) moveAside(id string) error {
	bad := filepath.Join(s.dir, "bad")
	for _, p := range []string{s.metaPath(id), s.msgPath(id)} {
		if err := os.Rename(p, filepath.Join(bad, filepath.Base(p))); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return safeio.SyncDir(bad)
}

// Stage adds a new entry, its message file with the entry as the first
// line, to st; it becomes durable with st.Commit. The id must be new
// (Staged.Write refuses names that exist).
func (s *Spool) Stage(st *safeio.Staged, e *Entry, msg []byte) error {
	js, err := json.Marshal(e)
	if err != nil {
		return err
	}
	data := make([]byte, 0, len(entryLine)+len(js)+1+len(msg))
	data = append(append(append(append(data, entryLine...), js...), '\n'), msg...)
	if err := st.Write(s.msgPath(e.ID), data, 0o640); err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	return nil
}

// Add stores a new entry and its message durably. When it returns nil the
// message survives a crash.
func (s *Spool) Add(e *Entry, msg []byte) error {
	var st safeio.Staged
	if err := s.Stage(&st, e, msg); err != nil {
		st.Discard()
		return err
	}
	return st.Commit(nil)
}

// Update persists an entry's new state (after a delivery attempt). It
// fails with ErrNotFound when the entry was deleted meanwhile (by an
// admin): a deleted entry is never written back.
func (s *Spool) Update(e *Entry) error {
	if _, err := os.Stat(s.msgPath(e.ID)); os.IsNotExist(err) {
		return ErrNotFound
	}
	return s.writeMeta(e)
}

// List returns the committed entries waiting in the spool and those kept
// in failed/, without touching anything.
func (s *Spool) List() (waiting, failed []*Entry, err error) {
	for _, dir := range []string{s.dir, filepath.Join(s.dir, "failed")} {
		des, err := os.ReadDir(dir)
		if err != nil {
			return nil, nil, err
		}
		for _, de := range des {
			id, ok := strings.CutSuffix(de.Name(), ".msg")
			if !ok || de.IsDir() || safeio.IsTemp(de.Name()) {
				continue
			}
			e, why := readEntry(dir, id)
			if why != "" {
				continue
			}
			if dir == s.dir {
				waiting = append(waiting, e)
			} else {
				failed = append(failed, e)
			}
		}
	}
	byAge := func(l []*Entry) { sort.Slice(l, func(i, j int) bool { return l[i].Created.Before(l[j].Created) }) }
	byAge(waiting)
	byAge(failed)
	return waiting, failed, nil
}

// Requeue moves an entry from failed/ back into the spool with its failed
// recipients pending again, due now.
func (s *Spool) Requeue(id string, now time.Time) (*Entry, error) {
	failed := filepath.Join(s.dir, "failed")
	if _, err := os.Stat(filepath.Join(failed, id+".msg")); os.IsNotExist(err) {
		return nil, ErrNotFound
	}
	e, why := readEntry(failed, id)
	if why != "" {
		return nil, fmt.Errorf("queue: %s: %s", id, why)
	}
	for _, r := range e.Rcpts {
		if r.Status == StatusFailed {
			r.Status, r.Attempts = StatusPending, 0
		}
	}
	e.Attempts, e.NextAttempt, e.Created = 0, now, now // a fresh lifetime
	if err := os.Rename(filepath.Join(failed, id+".msg"), s.msgPath(id)); err != nil {
		return nil, err
	}
	if err := s.writeMeta(e); err != nil {
		return nil, err
	}
	if err := os.Remove(filepath.Join(failed, id+".json")); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	return e, safeio.SyncDir(failed)
}

// Delete removes an entry from the spool or from failed/.
func (s *Spool) Delete(id string) error {
	for _, dir := range []string{s.dir, filepath.Join(s.dir, "failed")} {
		msg := filepath.Join(dir, id+".msg")
		if _, err := os.Stat(msg); err != nil {
			continue
		}
		if err := os.Remove(filepath.Join(dir, id+".json")); err != nil && !os.IsNotExist(err) {
			return err
		}
		if err := os.Remove(msg); err != nil {
			return err
		}
		return safeio.SyncDir(dir)
	}
	return ErrNotFound
}

func (s *Spool) writeMeta(e *Entry) error {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	if err := safeio.WriteFile(s.metaPath(e.ID), data, 0o640); err != nil {
		return fmt.Errorf("queue: write meta: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return safeio.SyncDir(s.dir)
}

// Message returns a spooled message.
func (s *Spool) Message(id string) ([]byte, error) {
	b, err := os.ReadFile(s.msgPath(id))
	if os.IsNotExist(err) {
		return nil, ErrNotFound
	}
	if rest, ok := bytes.CutPrefix(b, []byte(entryLine)); ok {
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			return rest[i+1:], nil
		}
		return nil, fmt.Errorf("queue: %s: entry line without its end", id)
	}
	return b, err
}

// Remove withdraws an entry durably: the meta first (the commit marker),
// then the message, then the directory is synced.
func (s *Spool) Remove(id string) error {
	if err := s.Finish(id); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return safeio.SyncDir(s.dir)
}

// Finish removes a delivered entry without waiting for the disk, as
// Postfix does: a crash in the next seconds (the file system's commit
// interval) can bring the entry back and deliver it once more, never lose
// it. It saves a journal commit per message on the busiest path.
func (s *Spool) Finish(id string) error {
	if err := os.Remove(s.metaPath(id)); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.Remove(s.msgPath(id)); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// MoveToFailed moves a finished entry that has failed recipients into
// failed/, where an admin can inspect it. The meta moves last.
func (s *Spool) MoveToFailed(e *Entry) error {
	if err := s.writeMeta(e); err != nil {
		return err
	}
	failed := filepath.Join(s.dir, "failed")
	// The message moves first: a crash between the two renames leaves the
	// state in the spool without its message (moved aside and reported at
	// startup), never a message delivered twice.
	if err := os.Rename(s.msgPath(e.ID), filepath.Join(failed, e.ID+".msg")); err != nil {
		return err
	}
	if err := os.Rename(s.metaPath(e.ID), filepath.Join(failed, e.ID+".json")); err != nil {
		return err
	}
	if err := safeio.SyncDir(failed); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return safeio.SyncDir(s.dir)
}
