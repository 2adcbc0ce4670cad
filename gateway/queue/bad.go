package queue

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"mugai/gateway/safeio"
)

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
	return s.syncDir()
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

// MoveAside moves an entry whose message file is sound into bad/, not to
// be delivered and not to be rebuilt, noting first why and its state e:
// an entry start-up cannot give its audit records. The Problem it
// returns is handled like those Open returns, and marked with MarkBad.
func (s *Spool) MoveAside(e *Entry, why string) (Problem, error) {
	if err := ValidID(e.ID); err != nil {
		return Problem{}, err
	}
	n, err := s.moveAside(e.ID, e.ID+".msg", why, false, e)
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
