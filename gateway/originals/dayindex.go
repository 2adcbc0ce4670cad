package originals

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// IndexFile is the name of a day folder's index: one line per message
// kept that day, its Meta as JSON, appended after its .eml is in place
// (each after an empty line: see ownLine).
// Why one file and not a .json per message: creating a file is the
// dearest step of a commit on some file systems (ext4 without a journal
// walks past every recently freed inode of the group on each create; 0.6
// ms per create in a busy folder of our test machine), and a message
// already creates its .eml.
const IndexFile = "index.jsonl"

// record is an index line: a message's Meta, or (Withdrawn) the note
// that the commit that appended the line before it for that id failed
// (safeio.Staged.Append's undo). The last line for an id is the one that
// counts.
type record struct {
	Meta
	Withdrawn bool `json:"withdrawn,omitempty"`
}

// readIndex reads the index at path: the messages it holds in the order
// they were appended (the last line for an id counts; withdrawn ones are
// left out) and a problem for each line that does not parse or holds
// zero bytes. A power cut during a commit can leave a line cut short or
// reading as zeros (NUL bytes, dropped after they are reported); each
// line is appended after a newline of its own, so the next one reads.
// Only lines that contain want are parsed when want is not empty (a
// lookup by id), but every damaged line is reported. keep, when not nil,
// sees every record parsed (withdrawals too) and says whether to hold it:
// what is held is what is returned, so a lookup or a filtered list holds
// its matches, not the day. The index is read a line at a time. A
// missing index is empty.
func readIndex(path string, want []byte, keep func(*record) bool) ([]Meta, []string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var (
		out      []Meta
		at       = map[string]int{} // id → its index in out
		problems []string
	)
	take := func(i int, line []byte) {
		if n := bytes.Count(line, []byte{0}); n > 0 {
			// Data that never reached the disk: it may have held any
			// message's line, this one's too.
			problems = append(problems, fmt.Sprintf("%s line %d: %d zero bytes (lost in a power cut)", path, i, n))
			line = bytes.Trim(line, "\x00")
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || len(want) > 0 && !bytes.Contains(line, want) {
			return
		}
		var r record
		if err := json.Unmarshal(line, &r); err != nil || r.ID == "" {
			if err == nil {
				err = errors.New("no id")
			}
			problems = append(problems, fmt.Sprintf("%s line %d: %v", path, i, err))
			return
		}
		if keep != nil && !keep(&r) {
			return
		}
		j, seen := at[r.ID]
		switch {
		case r.Withdrawn && seen:
			out[j].ID = "" // dropped below
		case r.Withdrawn:
		case seen:
			out[j] = r.Meta
		default:
			at[r.ID] = len(out)
			out = append(out, r.Meta)
		}
	}
	br := bufio.NewReaderSize(f, 64<<10)
	for i := 1; ; i++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) { // longer than the buffer: gathered
			line = bytes.Clone(line) // the next read reuses the buffer
			for errors.Is(err, bufio.ErrBufferFull) {
				var more []byte
				more, err = br.ReadSlice('\n')
				line = append(line, more...)
			}
		}
		if err != nil && err != io.EOF {
			return nil, nil, err
		}
		take(i, bytes.TrimSuffix(line, []byte("\n")))
		if err == io.EOF {
			break
		}
	}
	kept := out[:0]
	for _, m := range out {
		if m.ID != "" {
			kept = append(kept, m)
		}
	}
	return kept, problems, nil
}

// endIndex ends the index at path with a newline when a crash or power
// cut left its last line unfinished, making that durable, and returns the
// ids it holds.
func endIndex(path string) (map[string]bool, error) {
	ids := map[string]bool{}
	_, _, err := readIndex(path, nil, func(r *record) bool {
		if r.Withdrawn {
			delete(ids, r.ID)
		} else {
			ids[r.ID] = true
		}
		return false // the ids are all it needs
	})
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return ids, err
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, fi.Size()-1); err != nil {
		return nil, err
	}
	if last[0] != '\n' {
		if _, err := f.Write([]byte("\n")); err != nil {
			return nil, err
		}
		if err := f.Sync(); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// recentDay reports whether name is one of the two newest day folders
// among des (a directory's entries, sorted by name).
func recentDay(des []os.DirEntry, name string) bool {
	newer := 0
	for i := len(des) - 1; i >= 0 && newer < 2; i-- {
		if _, err := time.Parse(dayLayout, des[i].Name()); err != nil || !des[i].IsDir() {
			continue
		}
		if des[i].Name() == name {
			return true
		}
		newer++
	}
	return false
}

// dayIndex is the index of day folder d.
func dayIndex(d string) string { return filepath.Join(d, IndexFile) }
