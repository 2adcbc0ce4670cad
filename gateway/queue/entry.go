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
	"strings"
	"time"
)

// Status is where a recipient stands; persisted as its name.
type Status string

// Recipient states.
const (
	StatusPending   Status = "pending"
	StatusDelivered Status = "delivered"
	StatusFailed    Status = "failed"
)

// Recipient is one recipient's delivery state, persisted after each attempt.
type Recipient struct {
	Addr     string `json:"addr"`
	Status   Status `json:"status"`
	Attempts int    `json:"attempts"`
	// Last is the outcome of the last attempt (nil before the first).
	Last *Reply `json:"last,omitempty"`
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
		path := filepath.Join(dir, id+".msg")
		line, read, err := firstLine(path)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errUnreadableMsg, err) // gone meanwhile: os.ErrNotExist
		}
		// A file recycled while it was read (Finish) is not this entry's:
		// the entry is gone, not damaged.
		verdict := func(err error) error {
			if movedAway(path, read) {
				return fmt.Errorf("%w: %w", errNoMessage, os.ErrNotExist)
			}
			return err
		}
		js, ok := strings.CutPrefix(line, entryLine)
		if !ok {
			return nil, verdict(errNoEntry)
		}
		if err := json.Unmarshal([]byte(js), &e); err != nil {
			return nil, verdict(fmt.Errorf("%w: %v", errBadLine, err))
		}
		if e.ID != id || len(e.Rcpts) == 0 {
			return nil, verdict(errInconsistent)
		}
		return &e, nil
	default:
		return nil, fmt.Errorf("%w: %v", errUnreadableMeta, err)
	}
	if e.ID != id || len(e.Rcpts) == 0 {
		return nil, errInconsistent
	}
	return &e, nil
}

// movedAway reports whether path no longer names the file read, whose
// FileInfo (from the open file) is read: the entry was delivered and its
// file recycled or removed while it was being read.
func movedAway(path string, read os.FileInfo) bool {
	now, err := os.Lstat(path)
	return os.IsNotExist(err) || err == nil && !os.SameFile(now, read)
}

// damagedFile reports whether readEntry's err says the message file itself
// is damaged (its entry line lost or torn, no meta beside it).
func damagedFile(err error) bool {
	return errors.Is(err, errNoEntry) || errors.Is(err, errBadLine)
}

// firstLine reads a file's first line (without its LF), at most 1 MiB,
// and returns it with the FileInfo of the file it read.
func firstLine(path string) (string, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", nil, err
	}
	if testAfterOpen != nil {
		testAfterOpen(path)
	}
	line, err := bufio.NewReaderSize(io.LimitReader(f, 1<<20), 64<<10).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", nil, err
	}
	return strings.TrimSuffix(line, "\n"), fi, nil
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
	if errors.Is(err, os.ErrNotExist) { // delivered meanwhile
		return nil, ErrNotFound
	} else if err != nil {
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
	path := s.msgPath(e.ID)
	b, read, err := readFile(path)
	if os.IsNotExist(err) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	damaged := func(why string) error {
		if movedAway(path, read) { // delivered and recycled while read (Finish)
			return ErrNotFound
		}
		return fmt.Errorf("%w: %s: %s", ErrDamaged, e.ID, why)
	}
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
	// An entry from before checksums vouches for nothing it read (the
	// file's own entry line may be the next message's): only the name
	// still leading to the file read says it was this entry's.
	if e.SHA256 == "" && movedAway(path, read) {
		return nil, ErrNotFound
	}
	return msg, nil
}

// testAfterOpen, when a test sets it, runs after a message file is opened
// for reading and before it is read: the moment a delivery's Finish may
// recycle it under the reader.
var testAfterOpen func(path string)

// readFile reads the whole file at path, as os.ReadFile does, and returns
// it with the FileInfo of the file it read.
func readFile(path string) ([]byte, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if testAfterOpen != nil {
		testAfterOpen(path)
	}
	b := bytes.NewBuffer(make([]byte, 0, max(fi.Size(), 0)+bytes.MinRead))
	if _, err := b.ReadFrom(f); err != nil {
		return nil, nil, err
	}
	return b.Bytes(), fi, nil
}
