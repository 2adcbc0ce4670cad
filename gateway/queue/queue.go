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
// Write order (Stage, then safeio.Staged.Commit, with the original of the
// same message): the file written under a temp name → its data made
// durable → renamed into place → the directory made durable. Only then may
// the SMTP side answer 250.
package queue

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

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
	// Size and SHA256 describe the message (after the entry line); set by
	// Stage, checked by Read. Empty in entries from before they existed.
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
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

// Problem is something recovery found: a file moved aside into bad/ or
// left in place.
type Problem struct {
	Name   string // the file's name in the spool
	Reason string
	ID     string // the entry's id ("" for a file that is no entry)
	// Moved says the entry's files are now in bad/ (else left in place).
	Moved bool
	// Damaged says the message file itself is damaged (its entry line
	// lost or torn) while nothing says any recipient got it: it may be
	// rebuilt from its original. Entry is the state from its meta when
	// one was readable, else nil (every recipient still pending).
	Damaged bool
	Entry   *Entry
	// Files are the names of the entry's files in bad/; Note is the name
	// of its note there (see todoExt), for MarkBad.
	Files []string
	Note  string
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
	// First the moves into bad/ that a note says were begun: a crash
	// between a note and its renames leaves files that must not be read
	// as a spool entry (their entry line's state may be stale).
	notes, _, err := s.todoNotes()
	if err != nil {
		return nil, nil, err
	}
	for _, n := range notes {
		if err := s.finishMove(n); err != nil {
			return nil, nil, err
		}
	}
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
		case de.IsDir(), name == SocketName, name == LockName:
		case name == PidFile: // written by versions before the control socket
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
				return nil, nil, err
			}
		case safeio.IsTemp(name):
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
				return nil, nil, err
			}
		case !isMsg && !strings.HasSuffix(name, ".json"):
			problems = append(problems, Problem{Name: name, Reason: "unknown file left in place"})
		case seen[id]:
		default:
			seen[id] = true
			e, err := readEntry(s.dir, id)
			switch {
			case err != nil:
				// A message file with neither an entry line nor a meta
				// is damage too: committed files are renamed into place
				// whole, with their entry line.
				// Reported below from its note in bad/, with the notes
				// an earlier start or run left unhandled.
				damaged := damagedFile(err) && ValidID(id) == nil
				if _, err := s.moveAside(id, name, err.Error(), damaged, nil); err != nil {
					return nil, nil, err
				}
			default:
				entries = append(entries, e)
			}
		}
	}
	if err := safeio.SyncDir(s.dir); err != nil {
		return nil, nil, err
	}
	notes, unreadable, err := s.todoNotes()
	if err != nil {
		return nil, nil, err
	}
	for _, n := range notes {
		problems = append(problems, n.problem())
	}
	for _, name := range unreadable {
		problems = append(problems, Problem{Name: filepath.Join("bad", name), Reason: "note in bad/ does not parse; left in place"})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Created.Before(entries[j].Created) })
	return entries, problems, nil
}

// entryLine starts a new entry's message file.
const entryLine = "MUGAI-SPOOL "

// readEntry's verdicts on an entry that is not sound, compared with
// errors.Is. Their texts are what recovery reports (Problem.Reason).
// errNoEntry and errBadLine are about the message file itself (no meta
// beside it, and no entry line or one that does not parse): that file is
// damaged. The others say nothing about the message file's bytes.
var (
	errNoEntry        = errors.New("message file has no entry line and no meta")
	errBadLine        = errors.New("entry line does not parse")
	errBadMeta        = errors.New("meta does not parse")
	errNoMessage      = errors.New("message file missing")
	errUnreadableMsg  = errors.New("unreadable message file")
	errUnreadableMeta = errors.New("unreadable meta")
	errInconsistent   = errors.New("entry is inconsistent (id or recipients)")
)

// readEntry reads the entry id of dir: its meta when there is one, else
// the first line of its message file. An entry that is not sound gives
// nil and an error wrapping one of readEntry's verdicts (errNoEntry…).
func readEntry(dir, id string) (*Entry, error) {
	var e Entry
	data, err := os.ReadFile(filepath.Join(dir, id+".json"))
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, fmt.Errorf("%w: %v", errBadMeta, err)
		}
		if _, err := os.Stat(filepath.Join(dir, id+".msg")); err != nil {
			return nil, errNoMessage
		}
	case os.IsNotExist(err):
		line, err := firstLine(filepath.Join(dir, id+".msg"))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errUnreadableMsg, err)
		}
		js, ok := strings.CutPrefix(line, entryLine)
		if !ok {
			return nil, errNoEntry
		}
		if err := json.Unmarshal([]byte(js), &e); err != nil {
			return nil, fmt.Errorf("%w: %v", errBadLine, err)
		}
	default:
		return nil, fmt.Errorf("%w: %v", errUnreadableMeta, err)
	}
	if e.ID != id || len(e.Rcpts) == 0 {
		return nil, errInconsistent
	}
	return &e, nil
}

// damagedFile reports whether readEntry's err says the message file itself
// is damaged (its entry line lost or torn, no meta beside it).
func damagedFile(err error) bool {
	return errors.Is(err, errNoEntry) || errors.Is(err, errBadLine)
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

// Moves into bad/. Before an entry's files are moved there, a note
// saying why, with the entry's state and the names its files get, is made
// durable in bad/ as <id>.todo (with the suffix its files get); then the
// files move. The gateway reports the move (log line, audit record),
// rebuilds a damaged message from its original, and only then marks the
// note handled (MarkBad: renamed to <id>.rebuilt or <id>.left). A crash
// at any point leaves the note: the next Open finishes the move and
// reports the entry again, so none is left in bad/ unreported, and the
// gateway, finding the rebuilt entry in the spool, does not rebuild twice.
// Entries in bad/ without a note (older versions) are left alone.
const (
	todoExt    = ".todo"
	rebuiltExt = ".rebuilt"
	leftExt    = ".left"
)

// badNote is a note in bad/ (see todoExt).
type badNote struct {
	ID      string `json:"id"`
	Name    string `json:"name"` // the file recovery found, or <id>.msg
	Reason  string `json:"reason"`
	Damaged bool   `json:"damaged"`
	Entry   *Entry `json:"entry,omitempty"`
	Meta    string `json:"meta,omitempty"` // the meta's name in bad/
	Msg     string `json:"msg,omitempty"`  // the message file's name in bad/
	note    string // the note's own name in bad/
}

func (n *badNote) problem() Problem {
	p := Problem{Name: n.Name, Reason: n.Reason, ID: n.ID, Moved: true, Damaged: n.Damaged, Entry: n.Entry, Note: n.note}
	for _, f := range []string{n.Meta, n.Msg} {
		if f != "" {
			p.Files = append(p.Files, f)
		}
	}
	return p
}

// todoNotes reads the unhandled notes in bad/, in name order, and the
// names of those that do not parse.
func (s *Spool) todoNotes() ([]*badNote, []string, error) {
	bad := filepath.Join(s.dir, "bad")
	des, err := os.ReadDir(bad)
	if err != nil {
		return nil, nil, err
	}
	var notes []*badNote
	var unreadable []string
	for _, de := range des {
		name := de.Name()
		if de.IsDir() || safeio.IsTemp(name) || !isTodo(name) {
			continue
		}
		var n badNote
		data, err := os.ReadFile(filepath.Join(bad, name))
		if err != nil || json.Unmarshal(data, &n) != nil || n.ID == "" {
			unreadable = append(unreadable, name)
			continue
		}
		n.note = name
		notes = append(notes, &n)
	}
	return notes, unreadable, nil
}

// isTodo reports whether a name in bad/ is an unhandled note:
// <id>.todo or <id>.todo.N.
func isTodo(name string) bool {
	i := strings.LastIndex(name, todoExt)
	if i <= 0 {
		return false
	}
	rest := name[i+len(todoExt):]
	if rest == "" {
		return true
	}
	if rest[0] != '.' || len(rest) == 1 {
		return false
	}
	for _, c := range rest[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// moveAside notes in bad/ why an entry moves there (durably), then moves
// its files there, and returns what the note says. Its files get the
// names <id>.msg and <id>.json, or with a suffix (.1, .2, …) when bad/
// holds an earlier entry of that id, which stays.
func (s *Spool) moveAside(id, name, reason string, damaged bool, state *Entry) (*badNote, error) {
	bad := filepath.Join(s.dir, "bad")
	suffix := ""
	for n := 1; ; n++ {
		free := true
		for _, ext := range []string{".msg", ".json", todoExt, rebuiltExt, leftExt} {
			if _, err := os.Lstat(filepath.Join(bad, id+ext+suffix)); !os.IsNotExist(err) {
				free = false
			}
		}
		if free {
			break
		}
		suffix = fmt.Sprintf(".%d", n)
	}
	note := &badNote{ID: id, Name: name, Reason: reason, Damaged: damaged, Entry: state, note: id + todoExt + suffix}
	if _, err := os.Lstat(s.metaPath(id)); err == nil {
		note.Meta = id + ".json" + suffix
	}
	if _, err := os.Lstat(s.msgPath(id)); err == nil {
		note.Msg = id + ".msg" + suffix
	}
	data, err := json.Marshal(note)
	if err != nil {
		return nil, err
	}
	if err := safeio.WriteFile(filepath.Join(bad, note.note), data, 0o640); err != nil {
		return nil, fmt.Errorf("queue: note in bad/: %w", err)
	}
	if err := safeio.SyncDir(bad); err != nil {
		return nil, err
	}
	if moveHook != nil {
		if err := moveHook(id); err != nil {
			return note, err
		}
	}
	return note, s.finishMove(note)
}

// moveHook, when set (by tests only), is called between a note and the
// renames it announces; an error stops there (a crash).
var moveHook func(id string) error

// finishMove renames into bad/ those of a note's files still in the
// spool: the meta first, then the message. A file already in bad/ under
// its note's name was moved; what the spool then holds under that id is
// the entry rebuilt since, and stays.
func (s *Spool) finishMove(n *badNote) error {
	bad := filepath.Join(s.dir, "bad")
	for _, m := range []struct{ from, to string }{{s.metaPath(n.ID), n.Meta}, {s.msgPath(n.ID), n.Msg}} {
		if m.to == "" || strings.ContainsRune(n.ID, '/') || strings.ContainsRune(m.to, '/') {
			continue
		}
		if _, err := os.Lstat(filepath.Join(bad, m.to)); err == nil {
			continue
		}
		if err := os.Rename(m.from, filepath.Join(bad, m.to)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	if err := safeio.SyncDir(bad); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return safeio.SyncDir(s.dir)
}

// MoveDamaged moves a damaged entry (ErrDamaged from Read) into bad/,
// where an admin can inspect it, noting first why and its state e (see
// todoExt). The Problem it returns is handled like those Open returns,
// and marked with MarkBad.
func (s *Spool) MoveDamaged(e *Entry, why string) (Problem, error) {
	if err := ValidID(e.ID); err != nil {
		return Problem{}, err
	}
	n, err := s.moveAside(e.ID, e.ID+".msg", why, true, e)
	if n == nil {
		return Problem{}, err
	}
	return n.problem(), err
}

// MoveToBad is MoveDamaged with the state of the entry's meta when it has
// one (else every recipient of the original pending); it returns the
// names the entry's files got in bad/.
func (s *Spool) MoveToBad(id string) ([]string, error) {
	if err := ValidID(id); err != nil {
		return nil, err
	}
	var state *Entry
	if data, err := os.ReadFile(s.metaPath(id)); err == nil {
		var e Entry
		if json.Unmarshal(data, &e) == nil && e.ID == id && len(e.Rcpts) > 0 {
			state = &e
		}
	}
	n, err := s.moveAside(id, id+".msg", "damaged", true, state)
	if n == nil {
		return nil, err
	}
	return n.problem().Files, err
}

// MarkBad marks the note of a Problem in bad/ handled (reported, and
// rebuilt or not), durably: renamed to <id>.rebuilt or <id>.left, so
// that the next Open does not report it again.
func (s *Spool) MarkBad(p Problem, rebuilt bool) error {
	if p.Note == "" || !isTodo(p.Note) || strings.ContainsRune(p.Note, '/') {
		return nil
	}
	i := strings.LastIndex(p.Note, todoExt)
	ext := leftExt
	if rebuilt {
		ext = rebuiltExt
	}
	bad := filepath.Join(s.dir, "bad")
	if err := os.Rename(filepath.Join(bad, p.Note), filepath.Join(bad, p.Note[:i]+ext+p.Note[i+len(todoExt):])); err != nil {
		return err
	}
	return safeio.SyncDir(bad)
}

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

// failedLockName is the lock file in failed/: moves into failed/
// (MoveToFailed, in the gateway) and out of it (Requeue, Delete,
// DeleteFailed, in the admin commands) hold it (flock, exclusive), so
// that no one sees an entry there half moved: its message without its
// meta, whose entry line has a stale state.
const failedLockName = "mugai.lock"

// lockFailed takes failed/'s lock, waiting for it, and returns its
// release. The file is opened read-only (flock needs no more), so that a
// gateway and an admin running as another user share it.
func (s *Spool) lockFailed() (func(), error) {
	failed := filepath.Join(s.dir, "failed")
	path := filepath.Join(failed, failedLockName)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("queue: lock of failed/: %w", err)
	}
	// Created by root (an admin command): give it to the spool's owner.
	if fi, err := f.Stat(); err == nil {
		if di, err := os.Stat(failed); err == nil {
			if fst, ok := fi.Sys().(*syscall.Stat_t); ok {
				if dst, ok := di.Sys().(*syscall.Stat_t); ok && (fst.Uid != dst.Uid || fst.Gid != dst.Gid) && os.Geteuid() == 0 {
					f.Chown(int(dst.Uid), int(dst.Gid))
				}
			}
		}
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("queue: lock of failed/: %w", err)
	}
	return func() { f.Close() }, nil // closing releases the lock
}

// betweenFailedRenames, when set (by tests only), is called between
// MoveToFailed's two renames.
var betweenFailedRenames func(id string)

// Requeue moves an entry from failed/ back into the spool with its failed
// recipients pending again, due now.
//
// The new meta is written into the spool before the message moves there:
// until the message is in place, a rescan of the spool sees a meta
// without its message and skips it, never the message with the state of
// its entry line (which would send it again to recipients that got it).
func (s *Spool) Requeue(id string, now time.Time) (*Entry, error) {
	if err := ValidID(id); err != nil {
		return nil, err
	}
	failed := filepath.Join(s.dir, "failed")
	unlock, err := s.lockFailed()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := os.Stat(filepath.Join(failed, id+".msg")); os.IsNotExist(err) {
		return nil, ErrNotFound
	}
	e, err := readEntry(failed, id)
	if err != nil {
		return nil, fmt.Errorf("queue: %s: %w", id, err)
	}
	for _, r := range e.Rcpts {
		if r.Status == StatusFailed {
			r.Status, r.Attempts = StatusPending, 0
		}
	}
	e.Attempts, e.NextAttempt, e.Created = 0, now, now // a fresh lifetime
	if err := s.writeMeta(e); err != nil {
		return nil, err
	}
	if err := os.Rename(filepath.Join(failed, id+".msg"), s.msgPath(id)); err != nil {
		os.Remove(s.metaPath(id))
		return nil, err
	}
	if err := os.Remove(filepath.Join(failed, id+".json")); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	return e, safeio.SyncDir(failed)
}

// Delete removes an entry from the spool or from failed/.
func (s *Spool) Delete(id string) error {
	if err := ValidID(id); err != nil {
		return err
	}
	if err := deleteIn(s.dir, id); err != ErrNotFound {
		return err
	}
	return s.DeleteFailed(id)
}

// DeleteFailed removes an entry from failed/ only (queue purge-failed).
func (s *Spool) DeleteFailed(id string) error {
	if err := ValidID(id); err != nil {
		return err
	}
	unlock, err := s.lockFailed()
	if err != nil {
		return err
	}
	defer unlock()
	return deleteIn(filepath.Join(s.dir, "failed"), id)
}

func deleteIn(dir, id string) error {
	msg := filepath.Join(dir, id+".msg")
	if _, err := os.Stat(msg); err != nil {
		return ErrNotFound
	}
	if err := os.Remove(filepath.Join(dir, id+".json")); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.Remove(msg); err != nil {
		return err
	}
	return safeio.SyncDir(dir)
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

// Message returns a spooled message, checked against its entry (its
// meta, else its entry line) as Read does.
func (s *Spool) Message(id string) ([]byte, error) {
	if err := ValidID(id); err != nil {
		return nil, err
	}
	if _, err := os.Stat(s.msgPath(id)); os.IsNotExist(err) {
		return nil, ErrNotFound
	}
	e, err := readEntry(s.dir, id)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrDamaged, id, err)
	}
	return s.Read(e)
}

// Read returns e's message after checking it against e's length and
// sha256 (or, when e has none, those of the file's own entry line): an
// error wrapping ErrDamaged when it is cut, grown, changed or has lost
// its entry line; ErrNotFound when the entry is gone. An entry from
// before checksums is returned as it is, checked by length if it has one.
func (s *Spool) Read(e *Entry) ([]byte, error) {
	if err := ValidID(e.ID); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.msgPath(e.ID))
	if os.IsNotExist(err) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	damaged := func(why string) error { return fmt.Errorf("%w: %s: %s", ErrDamaged, e.ID, why) }
	size, sum := e.Size, e.SHA256
	msg := b
	if rest, ok := bytes.CutPrefix(b, []byte(entryLine)); ok {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return nil, damaged("entry line without its end")
		}
		msg = rest[i+1:]
		if sum == "" {
			var own Entry
			if json.Unmarshal(rest[:i], &own) == nil {
				size, sum = own.Size, own.SHA256
			}
		}
	} else if sum != "" {
		return nil, damaged("entry line missing (the start of the file is overwritten or cut)")
	}
	switch {
	case sum != "" && int64(len(msg)) != size:
		return nil, damaged(fmt.Sprintf("message is %d bytes, its entry says %d", len(msg), size))
	case sum != "":
		if got := sha256.Sum256(msg); hex.EncodeToString(got[:]) != sum {
			return nil, damaged("message does not match its sha256")
		}
	case size > 0 && int64(len(msg)) != size:
		return nil, damaged(fmt.Sprintf("message is %d bytes, its entry says %d", len(msg), size))
	}
	return msg, nil
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
	s.mu.Lock()
	defer s.mu.Unlock()
	return safeio.SyncDir(s.dir)
}

// Finish removes a delivered entry without waiting for the disk, as
// Postfix does: a crash in the next seconds (the file system's commit
// interval) can bring the entry back and deliver it once more, never lose
// it. It saves a journal commit per message on the busiest path.
func (s *Spool) Finish(id string) error {
	if err := ValidID(id); err != nil {
		return err
	}
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
	if err := ValidID(e.ID); err != nil {
		return err
	}
	if err := s.writeMeta(e); err != nil {
		return err
	}
	failed := filepath.Join(s.dir, "failed")
	// Both renames under failed/'s lock: an admin command never sees the
	// message there without its meta.
	unlock, err := s.lockFailed()
	if err != nil {
		return err
	}
	defer unlock()
	// The message moves first: a crash between the two renames leaves the
	// state in the spool without its message (moved aside and reported at
	// startup), never a message delivered twice.
	if err := os.Rename(s.msgPath(e.ID), filepath.Join(failed, e.ID+".msg")); err != nil {
		return err
	}
	if betweenFailedRenames != nil {
		betweenFailedRenames(e.ID)
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
	if err != nil {
		return nil, fmt.Errorf("queue: %s: %w", id, err)
	}
	return e, nil
}
