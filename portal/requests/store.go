package requests

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"mugai/gateway/safeio"
)

const (
	idLen   = 22 // 16 random bytes, base64url without padding
	fileExt = ".json"
	// maxFile bounds a request file read at Open; a real one is a few KB.
	maxFile = 64 << 10
	badDir  = "bad"
)

// Store holds the requests of one directory. Its methods may be called
// concurrently: reads see the index; writes (Add, Update, Purge) are
// serialized and durable before they return.
type Store struct {
	// Now is the clock for Created and Decided (time.Now unless a test
	// sets it before use).
	Now func() time.Time

	dir     string
	writeMu sync.Mutex // held across a write and its fsyncs

	mu      sync.RWMutex
	byID    map[string]Request
	damaged []error
}

// Open opens the store in dir, creating it (0750) when missing, and
// recovers what a crash left: temp files are removed, every request file
// is read into the index, and one that cannot be read (truncated,
// malformed, not the request its name says) is moved aside into dir/bad/
// and reported by Damaged; it does not stop Open. Other files are left
// alone.
func Open(dir string) (*Store, error) {
	if err := safeio.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("requests: %w", err)
	}
	s := &Store{Now: time.Now, dir: dir, byID: map[string]Request{}}
	if err := s.load(); err != nil {
		return nil, fmt.Errorf("requests: %w", err)
	}
	return s, nil
}

// load reads dir into the index (see Open).
func (s *Store) load() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	removed := false
	for _, e := range entries {
		name := e.Name()
		switch {
		case safeio.IsTemp(name):
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			removed = true
		case filepath.Ext(name) == fileExt && !e.IsDir():
			r, err := readFile(filepath.Join(s.dir, name))
			if err == nil {
				s.byID[r.ID] = r
				continue
			}
			if err := s.moveAside(name, err); err != nil {
				return err
			}
			removed = true
		}
	}
	if removed {
		return safeio.SyncDir(s.dir)
	}
	return nil
}

// readFile reads and checks one request file.
func readFile(path string) (Request, error) {
	var r Request
	fi, err := os.Lstat(path)
	if err != nil {
		return r, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxFile {
		return r, errors.New("not a request file")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	return parse(filepath.Base(path), data)
}

// parse decodes the request file name holds.
func parse(name string, data []byte) (Request, error) {
	var r Request
	if err := json.Unmarshal(data, &r); err != nil {
		return r, err
	}
	if !validID(r.ID) || r.ID+fileExt != name {
		return r, fmt.Errorf("holds request %q", r.ID)
	}
	return r, r.check()
}

// moveAside renames a damaged file into dir/bad/ and records why.
func (s *Store) moveAside(name string, why error) error {
	bad := filepath.Join(s.dir, badDir)
	if err := safeio.MkdirAll(bad, 0o750); err != nil {
		return err
	}
	dest := filepath.Join(bad, name)
	if _, err := os.Lstat(dest); err == nil {
		dest += "." + newID()
	}
	if err := os.Rename(filepath.Join(s.dir, name), dest); err != nil {
		return err
	}
	if err := safeio.SyncDir(bad); err != nil {
		return err
	}
	s.damaged = append(s.damaged, fmt.Errorf("requests: %s: %v; moved to %s", filepath.Join(s.dir, name), why, dest))
	return nil
}

// Damaged returns what Open moved aside, one error per file.
func (s *Store) Damaged() []error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.damaged)
}

// Add stores a new request and returns it as stored: with a new ID,
// Created set to Now, State waiting unless r gives another (then Decided
// is Created unless r gives it), Reason and the other free text bounded. MsgID and Rcpt are required, and Expires
// (the original's retention end).
//
// Asking twice: when a waiting request for the same MsgID, Part and Rcpt
// exists and r would be waiting too, Add returns that one, unchanged,
// and stores nothing.
func (s *Store) Add(r Request) (Request, error) {
	if r.State == "" {
		r.State = Waiting
	}
	if err := r.check(); err != nil {
		return Request{}, err
	}
	r.bound()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if r.State == Waiting {
		if old, ok := s.waiting(r.MsgID, r.Part, r.Rcpt); ok {
			return old, nil
		}
	}
	r.ID = newID()
	r.Created = s.Now()
	if r.State != Waiting && r.Decided.IsZero() {
		r.Decided = r.Created
	}
	return s.write(r)
}

// waiting finds a waiting request for the same part and recipient.
func (s *Store) waiting(msgID, part, rcpt string) (Request, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, r := range s.byID {
		if r.State == Waiting && r.MsgID == msgID && r.Part == part && r.Rcpt == rcpt {
			return r, true
		}
	}
	return Request{}, false
}

// Get returns request id.
func (s *Store) Get(id string) (Request, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.byID[id]
	return r, ok
}

// Update changes request id with f and stores it durably before it
// returns the new request. f works on a copy; its error aborts the
// update (and is returned, with the request unchanged), as does a change
// of state CanMove does not allow (ErrTransition) or of the request's
// identity (ErrInvalid). When the state leaves waiting and f left
// Decided zero, Decided is set to Now. Updates of all requests are
// serialized, so f sees the latest state.
func (s *Store) Update(id string, f func(*Request) error) (Request, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	cur, ok := s.Get(id)
	if !ok {
		return Request{}, ErrNotFound
	}
	next := cur
	if err := f(&next); err != nil {
		return cur, err
	}
	if next.ID != cur.ID || next.MsgID != cur.MsgID || next.Part != cur.Part || next.Rcpt != cur.Rcpt || !next.Created.Equal(cur.Created) {
		return cur, fmt.Errorf("%w: an update may not change the request's identity", ErrInvalid)
	}
	if !CanMove(cur.State, next.State) {
		return cur, fmt.Errorf("%w: %s → %s", ErrTransition, cur.State, next.State)
	}
	if err := next.check(); err != nil {
		return cur, err
	}
	if cur.State == Waiting && next.State != Waiting && next.Decided.IsZero() {
		next.Decided = s.Now()
	}
	next.bound()
	return s.write(next)
}

// ForMessage returns the requests for original msgID, oldest first.
func (s *Store) ForMessage(msgID string) []Request {
	out := s.filter(func(r Request) bool { return r.MsgID == msgID })
	slices.SortFunc(out, func(a, b Request) int { return -newestFirst(a, b) })
	return out
}

// List returns the requests in any of states (all when none is given),
// newest first.
func (s *Store) List(states ...State) []Request {
	out := s.filter(func(r Request) bool { return len(states) == 0 || slices.Contains(states, r.State) })
	slices.SortFunc(out, newestFirst)
	return out
}

func newestFirst(a, b Request) int {
	if c := b.Created.Compare(a.Created); c != 0 {
		return c
	}
	return cmp.Compare(b.ID, a.ID)
}

func (s *Store) filter(keep func(Request) bool) []Request {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Request
	for _, r := range s.byID {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// Purge removes the requests whose Expires is not after now (the
// original is gone) and returns how many it removed. It goes on past a
// file it cannot remove, and returns the errors joined.
func (s *Store) Purge(now time.Time) (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	old := s.filter(func(r Request) bool { return !now.Before(r.Expires) })
	var errs []error
	n := 0
	for _, r := range old {
		err := os.Remove(s.path(r.ID))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		s.mu.Lock()
		delete(s.byID, r.ID)
		s.mu.Unlock()
		n++
	}
	if n > 0 {
		errs = append(errs, safeio.SyncDir(s.dir))
	}
	return n, errors.Join(errs...)
}

// write stores r durably and indexes it as it will read back after a
// restart. The caller holds writeMu. When the file is in place but the
// directory sync fails, the index has the new request and the error says
// it may not survive a crash.
func (s *Store) write(r Request) (Request, error) {
	data, err := json.MarshalIndent(r, "", "\t")
	if err != nil {
		return Request{}, err
	}
	data = append(data, '\n')
	var back Request
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&back); err != nil {
		return Request{}, err
	}
	f, err := safeio.CreateTemp(s.dir, r.ID+fileExt, 0o640)
	if err != nil {
		return Request{}, fmt.Errorf("requests: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		safeio.Discard(f)
		return Request{}, fmt.Errorf("requests: %w", err)
	}
	if err := safeio.Commit(f, s.path(r.ID)); err != nil {
		return Request{}, fmt.Errorf("requests: %w", err)
	}
	s.mu.Lock()
	s.byID[back.ID] = back
	s.mu.Unlock()
	if err := safeio.SyncDir(s.dir); err != nil {
		return back, fmt.Errorf("requests: request %s written but maybe not durable: %w", back.ID, err)
	}
	return back, nil
}

func (s *Store) path(id string) string { return filepath.Join(s.dir, id+fileExt) }

func newID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
