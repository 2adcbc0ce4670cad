// Package queue is the spool: rebuilt messages waiting for delivery, each a
// message file and a meta file. The meta file is the commit marker and the
// truth: a message file without meta was never acknowledged and is removed
// at startup; a meta file that does not parse, or whose message is missing,
// is moved aside into bad/ and reported, never deleted.
//
// Write order (Stage, then safeio.Staged.Commit, with the original of the
// same message): message and meta written under temp names → their data
// made durable → renamed into place, the message before its meta →
// the directory made durable. Only then may the SMTP side answer 250.
package queue

import (
	"encoding/json"
	"errors"
	"fmt"
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
	metas := map[string]bool{}
	for _, de := range des {
		if id, ok := strings.CutSuffix(de.Name(), ".json"); ok && !de.IsDir() && !safeio.IsTemp(de.Name()) {
			metas[id] = true
		}
	}
	var entries []*Entry
	var problems []Problem
	for _, de := range des {
		name := de.Name()
		switch {
		case de.IsDir():
		case safeio.IsTemp(name):
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
				return nil, nil, err
			}
		case strings.HasSuffix(name, ".msg"):
			if !metas[strings.TrimSuffix(name, ".msg")] { // never acknowledged
				if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
					return nil, nil, err
				}
			}
		case strings.HasSuffix(name, ".json"):
			id := strings.TrimSuffix(name, ".json")
			e, why := s.load(id)
			if why != "" {
				if err := s.moveAside(id); err != nil {
					return nil, nil, err
				}
				problems = append(problems, Problem{Name: name, Reason: why})
				continue
			}
			entries = append(entries, e)
		default:
			problems = append(problems, Problem{Name: name, Reason: "unknown file left in place"})
		}
	}
	if err := safeio.SyncDir(s.dir); err != nil {
		return nil, nil, err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Created.Before(entries[j].Created) })
	return entries, problems, nil
}

func (s *Spool) load(id string) (*Entry, string) {
	data, err := os.ReadFile(s.metaPath(id))
	if err != nil {
		return nil, "unreadable meta: " + err.Error()
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, "meta does not parse: " + err.Error()
	}
	if e.ID != id || len(e.Rcpts) == 0 {
		return nil, "meta is inconsistent (id or recipients)"
	}
	if _, err := os.Stat(s.msgPath(id)); err != nil {
		return nil, "message file missing"
	}
	return &e, ""
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

// Stage adds a new entry's message and its meta, the commit marker, to
// st; they become durable with st.Commit. The id must be new (Staged.Write
// refuses names that exist).
func (s *Spool) Stage(st *safeio.Staged, e *Entry, msg []byte) error {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	if err := st.Write(s.msgPath(e.ID), msg, 0o640); err != nil {
		return fmt.Errorf("queue: message: %w", err)
	}
	if err := st.Write(s.metaPath(e.ID), data, 0o640); err != nil {
		return fmt.Errorf("queue: meta: %w", err)
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
	if _, err := os.Stat(s.metaPath(e.ID)); os.IsNotExist(err) {
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
			id, ok := strings.CutSuffix(de.Name(), ".json")
			if !ok || de.IsDir() || safeio.IsTemp(de.Name()) {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, de.Name()))
			if err != nil {
				continue
			}
			var e Entry
			if json.Unmarshal(data, &e) != nil || e.ID != id {
				continue
			}
			if dir == s.dir {
				waiting = append(waiting, &e)
			} else {
				failed = append(failed, &e)
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
	data, err := os.ReadFile(filepath.Join(failed, id+".json"))
	if os.IsNotExist(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
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
	if err := s.writeMeta(&e); err != nil {
		return nil, err
	}
	if err := os.Remove(filepath.Join(failed, id+".json")); err != nil {
		return nil, err
	}
	return &e, safeio.SyncDir(failed)
}

// Delete removes an entry from the spool or from failed/.
func (s *Spool) Delete(id string) error {
	for _, dir := range []string{s.dir, filepath.Join(s.dir, "failed")} {
		meta := filepath.Join(dir, id+".json")
		if _, err := os.Stat(meta); err != nil {
			continue
		}
		if err := os.Remove(meta); err != nil {
			return err
		}
		os.Remove(filepath.Join(dir, id+".msg"))
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
