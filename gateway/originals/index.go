package originals

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"mugai/gateway/safeio"
)

// Part is what the rebuild decided about one MIME leaf of the original,
// kept beside it so show and release need neither the audit log nor a
// second parse.
type Part struct {
	Path         string `json:"path"`
	Filename     string `json:"filename,omitempty"`
	DeclaredType string `json:"declared_type,omitempty"`
	DetectedType string `json:"detected_type,omitempty"`
	Size         int64  `json:"size"`
	SHA256       string `json:"sha256"`
	Action       string `json:"action"`
	Rule         string `json:"rule"`
	Clause       string `json:"clause"`
	Reason       string `json:"reason"`
	Detail       string `json:"detail,omitempty"`
	Delivered    string `json:"delivered,omitempty"` // the name the rebuilt file was attached under
	// Release is the deciding rule's release mode (never, approval,
	// self) when the part was decided: what staff may ask for in the
	// portal. "" in originals kept before the portal existed.
	Release string `json:"release,omitempty"`
}

// ErrNotFound says no original is kept under an id.
var ErrNotFound = errors.New("originals: no such original")

// ErrIndexDamaged says an id is not found in its day's index, but lines
// of that index do not read (a power cut during a commit): it may have
// been there. Not ErrNotFound: whoever must not act on a message it
// cannot vouch for treats it as damage.
var ErrIndexDamaged = errors.New("originals: the index does not read")

const dayLayout = "2006-01-02"

// dayOfID returns the day folder of a gateway id (20261126T163953-…).
func dayOfID(id string) (string, bool) {
	t, err := time.Parse("20060102", strings.SplitN(id, "T", 2)[0])
	if err != nil || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return "", false
	}
	return t.Format(dayLayout), true
}

// Get returns the meta of an original and the path of its message.
func (s *Store) Get(id string) (Meta, string, error) {
	day, ok := dayOfID(id)
	if !ok {
		return Meta{}, "", fmt.Errorf("%w: %q is not a gateway id", ErrNotFound, id)
	}
	d := filepath.Join(s.dir, day)
	data, err := os.ReadFile(filepath.Join(d, id+".json")) // a day from before the index
	if errors.Is(err, fs.ErrNotExist) {
		ms, problems, err := readIndex(dayIndex(d), []byte(`"id":"`+id+`"`), nil)
		if err != nil {
			return Meta{}, "", err
		}
		for _, m := range ms {
			if m.ID == id {
				return m, filepath.Join(d, id+".eml"), nil
			}
		}
		if len(problems) > 0 { // its line may be the one that does not read
			return Meta{}, "", fmt.Errorf("%w: %s is not in its day's index, which has %d lines that do not read (%s)",
				ErrIndexDamaged, id, len(problems), problems[0])
		}
		if s.unindexed[id] { // its line may have been lost (see Open)
			return Meta{}, "", fmt.Errorf("%w: %s is not in its day's index, and its .eml was there without its line (removed at start)",
				ErrIndexDamaged, id)
		}
		return Meta{}, "", fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return Meta{}, "", err
	}
	var m Meta
	if err := json.Unmarshal(data, &m); err != nil {
		return Meta{}, "", fmt.Errorf("originals: %s: %w", id, err)
	}
	return m, filepath.Join(d, id+".eml"), nil
}

// Filter selects originals; empty fields select everything.
type Filter struct {
	Since, Until time.Time // received in [Since, Until)
	From, Rcpt   string    // envelope addresses, case-insensitive
	ID           string    // a gateway id
	MessageID    string    // the Message-ID header, with or without <>
}

func (f Filter) match(m Meta) bool {
	switch {
	case !f.Since.IsZero() && m.Received.Before(f.Since):
		return false
	case !f.Until.IsZero() && !m.Received.Before(f.Until):
		return false
	case f.From != "" && !strings.EqualFold(f.From, m.From):
		return false
	case f.Rcpt != "" && !slices.ContainsFunc(m.Rcpts, func(r string) bool { return strings.EqualFold(r, f.Rcpt) }):
		return false
	case f.ID != "" && f.ID != m.ID:
		return false
	case f.MessageID != "" && strings.Trim(f.MessageID, "<>") != strings.Trim(m.MessageID, "<>"):
		return false
	}
	return true
}

// List returns the kept originals that match f, oldest first. Each day's
// index lines (and, in days from before the index, the .json files) are
// written after their message and are its commit marker, so the index
// never names a message that was not there. A line or .json that does
// not parse is reported in problems, not skipped silently.
func (s *Store) List(f Filter) (ms []Meta, problems []string, err error) {
	days, err := s.days()
	if err != nil {
		return nil, nil, err
	}
	idDay, _ := dayOfID(f.ID)
	for _, day := range days {
		t, _ := time.Parse(dayLayout, day)
		if idDay != "" && day != idDay {
			continue // an id names its day
		}
		if !f.Since.IsZero() && t.AddDate(0, 0, 1).Before(f.Since) || !f.Until.IsZero() && !t.Before(f.Until) {
			continue
		}
		// Held: the matches (and withdrawals, which drop a match before them).
		indexed, bad, err := readIndex(dayIndex(filepath.Join(s.dir, day)), nil,
			func(r *record) bool { return r.Withdrawn || f.match(r.Meta) })
		if err != nil {
			return nil, nil, err
		}
		problems = append(problems, bad...)
		ms = append(ms, indexed...)
		names, err := filepath.Glob(filepath.Join(s.dir, day, "*.json"))
		if err != nil {
			return nil, nil, err
		}
		for _, n := range names {
			if safeio.IsTemp(filepath.Base(n)) {
				continue
			}
			data, err := os.ReadFile(n)
			if err != nil {
				return nil, nil, err
			}
			var m Meta
			if err := json.Unmarshal(data, &m); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", n, err))
				continue
			}
			if f.match(m) {
				ms = append(ms, m)
			}
		}
	}
	slices.SortFunc(ms, func(a, b Meta) int { return a.Received.Compare(b.Received) })
	return ms, problems, nil
}

// days lists the day folders, oldest first.
func (s *Store) days() ([]string, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var days []string
	for _, de := range des {
		if _, err := time.Parse(dayLayout, de.Name()); de.IsDir() && err == nil {
			days = append(days, de.Name())
		}
	}
	slices.Sort(days)
	return days, nil
}

// Purged says what a purge removed.
type Purged struct {
	Days     []string
	Messages int
	Bytes    int64
}

// Purge removes every day folder whose whole day (UTC) ended before
// cutoff: retention is applied by day, so a message is kept at least the
// retention and at most one day longer.
func (s *Store) Purge(cutoff time.Time) (Purged, error) { return s.purge(cutoff, false) }

// Plan says what Purge(cutoff) would remove, removing nothing.
func (s *Store) Plan(cutoff time.Time) (Purged, error) { return s.purge(cutoff, true) }

// Count returns how many originals are kept.
func (s *Store) Count() (int, error) {
	p, err := s.purge(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), true)
	return p.Messages, err
}

func (s *Store) purge(cutoff time.Time, dryRun bool) (Purged, error) {
	var p Purged
	days, err := s.days()
	if err != nil {
		return p, err
	}
	for _, day := range days {
		t, _ := time.Parse(dayLayout, day)
		if t.AddDate(0, 0, 1).After(cutoff) {
			break // sorted: the rest are newer
		}
		d := filepath.Join(s.dir, day)
		des, err := os.ReadDir(d)
		if err != nil {
			return p, err
		}
		for _, de := range des {
			if !dryRun {
				if info, err := de.Info(); err == nil {
					p.Bytes += info.Size()
				}
			}
			if strings.HasSuffix(de.Name(), ".eml") {
				p.Messages++
			}
		}
		if !dryRun {
			if err := os.RemoveAll(d); err != nil {
				return p, err
			}
		}
		p.Days = append(p.Days, day)
	}
	if len(p.Days) > 0 && !dryRun {
		if err := safeio.SyncDir(s.dir); err != nil {
			return p, err
		}
	}
	return p, nil
}

// Attach opens an existing store without Open's crash recovery, for the
// admin commands: recovery would delete a message the running gateway is
// writing before its meta.
func Attach(dir string) (*Store, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("originals: %w", err)
	}
	return &Store{dir: dir}, nil
}
