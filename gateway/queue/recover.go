package queue

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"mugai/gateway/safeio"
)

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

// recover finishes the moves into bad/ that notes announce, reads every
// entry in the spool (moving aside what is not sound), and returns the
// entries, oldest first, and the problems: what was moved into bad/ (now
// or before, from the notes there) and what was left in place.
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
	entries, problems, err := s.scan()
	if err != nil {
		return nil, nil, err
	}
	if err := safeio.SyncDir(s.dir); err != nil {
		return nil, nil, err
	}
	// What was moved aside now is reported from its note in bad/, with
	// the notes an earlier start or run left unhandled.
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

// scan reads the spool directory: it removes temp files and the pid file
// of older versions, returns the sound entries and the unknown files
// (left in place), and moves every entry that is not sound into bad/.
func (s *Spool) scan() ([]*Entry, []Problem, error) {
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
		case name == PidFile, safeio.IsTemp(name): // a pid file: written by versions before the control socket
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
				return nil, nil, err
			}
		case !isMsg && !strings.HasSuffix(name, ".json"):
			problems = append(problems, Problem{Name: name, Reason: "unknown file left in place"})
		case seen[id]:
		default:
			seen[id] = true
			e, err := s.recoverEntry(id, name)
			if err != nil {
				return nil, nil, err
			}
			if e != nil {
				entries = append(entries, e)
			}
		}
	}
	return entries, problems, nil
}

// recoverEntry reads entry id, found as the file name: nil and no error
// when it is not sound and was moved into bad/. A message file with
// neither an entry line nor a meta is damage too: committed files are
// renamed into place whole, with their entry line.
func (s *Spool) recoverEntry(id, name string) (*Entry, error) {
	e, err := readEntry(s.dir, id)
	if err == nil {
		return e, nil
	}
	damaged := damagedFile(err) && ValidID(id) == nil
	if _, err := s.moveAside(id, name, err.Error(), damaged, nil); err != nil {
		return nil, err
	}
	return nil, nil
}
