// Package queue is the spool: rebuilt messages waiting for delivery. A
// new entry is one file, <id>.msg: a first line "MUGAI-SPOOL <entry as
// JSON>", then the message. Its rename into place is the commit. After a
// delivery attempt changes the entry's state, the state lives in <id>.json
// beside it, which from then on is the truth (Postfix likewise rewrites
// only when a message is deferred). At startup an entry that does not
// parse, a .msg without an entry line or a .json (a committed file is
// renamed into place whole, so that is damage), or a .json whose message
// is missing, is moved aside into bad/ and reported, never deleted.
//
// Integrity: the entry carries the message's length and sha256 (Stage
// computes them); Read checks them before every delivery attempt and
// returns ErrDamaged on a mismatch. Entries written before the checksum
// existed are read as they are (checked by length when that is all
// there is).
//
// Ids: every function refuses an id that ValidID refuses (ErrBadID), so
// that no id names a file outside the spool.
//
// Write order (Stage, then safeio.Staged.CommitVerified from an SMTP
// session, with the original of the same message; Commit elsewhere): the
// file written under a temp name → renamed into place → its data and the
// directory made durable in one round (Commit: its data before the
// rename). Only then may the SMTP side answer 250. A power cut during a
// one-round commit may leave the entry renamed without its data: Read's
// size and SHA-256 check catches it before any delivery.
package queue

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"mugai/gateway/safeio"
)

var (
	// ErrNotFound: no entry with that id.
	ErrNotFound = errors.New("queue: no such entry")
	// ErrBadID: the id is not one mugai gives (it could name a path).
	ErrBadID = errors.New("queue: not a message id")
	// ErrDamaged: the message file does not match its entry's length or
	// checksum, or lost its entry line.
	ErrDamaged = errors.New("queue: damaged spool entry")
)

// MaxIDLen is the longest id accepted; gateway ids are 28 characters.
const MaxIDLen = 64

// ValidID returns an error wrapping ErrBadID unless id is 1 to MaxIDLen
// ASCII letters, digits, '-', '_' or '.', not starting with '.': a plain
// file name in the spool, never a path (no '/', "..", NUL or space).
// The originals commands and the queue commands share it.
func ValidID(id string) error {
	ok := id != "" && len(id) <= MaxIDLen && id[0] != '.'
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
	}
	if !ok {
		return fmt.Errorf("%w: %q (ids are 1 to %d letters, digits, '-', '_' or '.')", ErrBadID, id, MaxIDLen)
	}
	return nil
}

// Files in the spool directory that are not entries: the running
// gateway's control socket and the lock that says it runs. PidFile is
// what older versions wrote; recovery removes it.
const (
	SocketName = "mugai.sock"
	LockName   = "mugai.lock"
	PidFile    = "mugai.pid"
)

// Spool stores entries in one directory. Safe for concurrent use on
// different ids; one id is handled by one goroutine at a time.
type Spool struct {
	dir  string
	mu   sync.Mutex   // serialises directory syncs with renames
	pool *safeio.Pool // files created ahead for Stage; nil: created when needed
}

// UsePool has Stage take its files from a pool of up to size files in
// the spool directory (see safeio.Pool), until Close: created ahead, and
// taken back from delivered entries (Finish recycles a message file
// instead of deleting it). For the gateway, which stages a message while
// its sender waits.
func (s *Spool) UsePool(size int) {
	s.pool = safeio.NewRecyclingPool(s.dir, 0o640, size)
}

// Close stops the pool UsePool started and removes its unused files.
func (s *Spool) Close() { s.pool.Close() }

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

// Stage adds a new entry, its message file with the entry as the first
// line, to st; it becomes durable with st.Commit. The id must be new
// (Staged.Write refuses names that exist).
func (s *Spool) Stage(st *safeio.Staged, e *Entry, msg []byte) error {
	if err := ValidID(e.ID); err != nil {
		return err
	}
	sum := sha256.Sum256(msg)
	e.Size, e.SHA256 = int64(len(msg)), hex.EncodeToString(sum[:])
	js, err := json.Marshal(e)
	if err != nil {
		return err
	}
	data := make([]byte, 0, len(entryLine)+len(js)+1+len(msg))
	data = append(append(append(append(data, entryLine...), js...), '\n'), msg...)
	f, err := s.pool.TempFile(s.dir, e.ID+".msg", 0o640)
	if err == nil {
		err = st.WriteIn(f, s.msgPath(e.ID), data)
	}
	if err != nil {
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
	if err := ValidID(e.ID); err != nil {
		return err
	}
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
			e, err := readEntry(dir, id)
			if err != nil {
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

func (s *Spool) writeMeta(e *Entry) error {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	if err := safeio.WriteFile(s.metaPath(e.ID), data, 0o640); err != nil {
		return fmt.Errorf("queue: write meta: %w", err)
	}
	return s.syncDir()
}

// Remove withdraws an entry durably: the meta first (the commit marker),
// then the message, then the directory is synced.
func (s *Spool) Remove(id string) error {
	if err := ValidID(id); err != nil {
		return err
	}
	if err := s.Finish(id); err != nil {
		return err
	}
	return s.syncDir()
}

// Finish removes a delivered entry without waiting for the disk, as
// Postfix does: a crash in the next seconds (the file system's commit
// interval) can bring the entry back and deliver it once more, never lose
// it. It saves a journal commit per message on the busiest path. With a
// pool (UsePool) the message file goes back to the pool, emptied, for a
// later entry (safeio.Pool.Recycle); a reader that had it open finds out
// through Read's checks.
func (s *Spool) Finish(id string) error {
	if err := ValidID(id); err != nil {
		return err
	}
	if err := os.Remove(s.metaPath(id)); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := s.pool.Recycle(s.msgPath(id)); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// Has reports whether the spool (not failed/ or bad/) holds a message
// file for id: whether the entry still waits for delivery.
func (s *Spool) Has(id string) bool {
	if ValidID(id) != nil {
		return false
	}
	_, err := os.Lstat(s.msgPath(id))
	return err == nil
}

// Entry reads the entry id waiting in the spool (its meta, else its
// entry line): ErrNotFound when its message file is not there.
func (s *Spool) Entry(id string) (*Entry, error) {
	if err := ValidID(id); err != nil {
		return nil, err
	}
	if !s.Has(id) {
		return nil, ErrNotFound
	}
	e, err := readEntry(s.dir, id)
	if errors.Is(err, os.ErrNotExist) { // delivered meanwhile
		return nil, ErrNotFound
	} else if err != nil {
		return nil, fmt.Errorf("queue: %s: %w", id, err)
	}
	return e, nil
}

// syncDir makes the spool directory's entries durable, under the lock
// that orders it with the other changes to the directory.
func (s *Spool) syncDir() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return safeio.SyncDir(s.dir)
}
