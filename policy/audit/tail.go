package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"time"
)

// Tail is what the end of the audit log says, read at start-up before the
// gateway writes anything: the time of its newest record and, for every
// message with records since Since, which of them it has.
type Tail struct {
	// Last is the time of the newest record (zero when there is none).
	Last time.Time
	// Since is how far back the records were all read: every record
	// written at or after Since was seen (zero: the whole log was read).
	Since time.Time
	// Truncated says the read stopped at its byte limit before Since
	// reached Last minus the window asked for.
	Truncated bool

	seen   map[string]uint8
	oldest time.Time // of the records read so far
}

const (
	hasReceived = 1 << iota
	hasDecision
)

// Has says whether the message has its received and decision records in
// the part of the log read.
func (t *Tail) Has(id string) (received, decision bool) {
	b := t.seen[id]
	return b&hasReceived != 0, b&hasDecision != 0
}

// ReadTail reads the audit log at path backwards from its end until it
// has every record written in the window before the newest one, or
// maxBytes. When the current file ends first it goes on into path.1 (the
// rotated file logrotate leaves uncompressed for a cycle by delaycompress).
// Lines that do not parse (a line torn by a crash) are skipped.
func ReadTail(path string, window time.Duration, maxBytes int64) (*Tail, error) {
	t := &Tail{seen: map[string]uint8{}}
	var read int64
	for _, p := range []string{path, path + ".1"} {
		done, err := t.readBack(p, window, maxBytes, &read)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil || done {
			return t, err
		}
	}
	t.Since = time.Time{} // both files read to their start
	return t, nil
}

// readBack reads one file from its end; done says the window (or the
// byte limit) was reached.
func (t *Tail) readBack(path string, window time.Duration, maxBytes int64, read *int64) (done bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	const chunk = 1 << 20
	pos := fi.Size()
	var carry []byte // the start of a line whose beginning is not read yet
	for pos > 0 {
		n := min(int64(chunk), pos)
		if *read+n > maxBytes {
			t.Truncated = true
			t.Since = t.oldest // what was read is all that is known
			return true, nil
		}
		pos -= n
		*read += n
		buf := make([]byte, n, n+int64(len(carry)))
		if _, err := f.ReadAt(buf, pos); err != nil && err != io.EOF {
			return false, err
		}
		buf = append(buf, carry...)
		lines := bytes.Split(buf, []byte("\n"))
		carry = nil
		if pos > 0 {
			carry, lines = lines[0], lines[1:]
		}
		for i := len(lines) - 1; i >= 0; i-- {
			if t.line(lines[i], window) {
				return true, nil
			}
		}
	}
	return false, nil
}

// line takes one record in; it returns true once the record is older
// than the window.
func (t *Tail) line(b []byte, window time.Duration) (past bool) {
	if len(bytes.TrimSpace(b)) == 0 {
		return false
	}
	var h Header
	if json.Unmarshal(b, &h) != nil {
		return false
	}
	at, err := time.Parse(time.RFC3339Nano, h.Time)
	if err != nil {
		return false
	}
	if t.Last.IsZero() {
		t.Last = at
		t.Since = at.Add(-window)
	}
	if at.Before(t.Since) {
		return true
	}
	if t.oldest.IsZero() || at.Before(t.oldest) {
		t.oldest = at
	}
	switch h.Event {
	case EventReceived:
		t.seen[h.ID] |= hasReceived
	case EventDecision:
		t.seen[h.ID] |= hasDecision
	}
	return false
}
