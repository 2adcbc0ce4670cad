// Package originals keeps every message exactly as received (原本保管), with
// its envelope, so an admin can show or release it later. Files live in one
// folder per UTC day: originals/2026-11-26/<id>.eml, and one line per
// message in that day's index, originals/2026-11-26/index.jsonl (its Meta
// as JSON), appended after the .eml is in place: the line is the commit
// marker. Days kept before 2026-12-01 have a <id>.json beside each .eml
// instead; both are read.
package originals

import (
	"bufio"
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

	"github.com/emersion/go-message/textproto"

	"mugai/gateway/safeio"
	"mugai/sanitize/text"
)

// Meta is the envelope and summary stored beside an original.
type Meta struct {
	ID        string    `json:"id"`
	Received  time.Time `json:"received"`
	From      string    `json:"from"`
	Rcpts     []string  `json:"rcpts"`
	Client    string    `json:"client"`
	Helo      string    `json:"helo"`
	MessageID string    `json:"message_id,omitempty"`
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"`
	Subject   string    `json:"subject,omitempty"` // as rebuilt (decoded; with the policy's subject_tag)
	// ReceivedSubject is the subject as received (decoded), read by Stage from
	// the original's own header; nil in originals kept before it was
	// recorded, or when the header did not read. See SubjectAsReceived.
	ReceivedSubject *string `json:"received_subject,omitempty"`
	Parts           []Part  `json:"parts"`            // every leaf with its decision
	Policy          string  `json:"policy,omitempty"` // sha256 of the policy that decided
	Auth            string  `json:"auth,omitempty"`   // the trusted Authentication-Results, summed up
}

// Store is the originals folder.
type Store struct {
	dir  string
	pool *safeio.Pool // files created ahead in dir; nil: each created when needed
	// unindexed holds the ids whose .eml Open removed for want of an
	// index entry (set by Open, read only after): Get says the index
	// is damaged for them, not that they do not exist. See Open.
	unindexed map[string]bool
}

// UsePool has TempFile and Stage take their files from a pool of up to
// size files created ahead in the store's folder (see safeio.Pool), until
// Close. For the gateway, which keeps a message while its sender waits.
func (s *Store) UsePool(size int) {
	s.pool = safeio.NewPool(s.dir, 0o640, size)
}

// Close stops the pool UsePool started and removes its unused files.
func (s *Store) Close() { s.pool.Close() }

// Open creates the folder if needed and removes what a crash left behind:
// temp files, and messages whose meta (the commit marker) was never
// written, which were therefore never acknowledged.
func Open(dir string) (*Store, error) {
	if err := safeio.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	days, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	// An .eml without its index line was never acknowledged, but its
	// spool entry may have been kept: the line is appended, and a power
	// cut can lose an append whole, its length too (ext4 extends the size
	// on disk when the delayed blocks are written back), while the spool
	// entry's rename after it reached the disk. Its .eml is removed; Get
	// says the index is damaged for it, so that start-up recovery does not
	// deliver the entry when its audit records were lost too.
	unindexed := map[string]bool{}
	for _, day := range days {
		if !day.IsDir() {
			if safeio.IsTemp(day.Name()) { // a pool's (UsePool)
				if err := os.Remove(filepath.Join(dir, day.Name())); err != nil {
					return nil, err
				}
			}
			continue
		}
		d := filepath.Join(dir, day.Name())
		des, err := os.ReadDir(d)
		if err != nil {
			return nil, err
		}
		// The index of one of the two newest days may end in a line a
		// crash or power cut cut short: end it, so the next line appended
		// starts on its own. Its messages are checked against it below;
		// older days were checked by the starts before.
		hasIndex := fileExists(filepath.Join(d, IndexFile))
		var indexed map[string]bool
		if hasIndex && recentDay(days, day.Name()) {
			if indexed, err = endIndex(filepath.Join(d, IndexFile)); err != nil {
				return nil, err
			}
		}
		for _, de := range des {
			name := de.Name()
			id, isEML := strings.CutSuffix(name, ".eml")
			// Not acknowledged: neither a .json (days before the index)
			// nor a line in the day's index (the two newest days).
			// (The index first: an older index day needs no stat per .eml.)
			orphan := isEML && (!hasIndex || indexed != nil && !indexed[id]) && !fileExists(filepath.Join(d, id+".json"))
			if safeio.IsTemp(name) || orphan {
				if err := os.Remove(filepath.Join(d, name)); err != nil {
					return nil, err
				}
			}
			if orphan {
				unindexed[id] = true
			}
		}
	}
	return &Store{dir: dir, unindexed: unindexed}, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Dir returns the folder of the given day, creating it durably.
func (s *Store) dayDir(t time.Time) (string, error) {
	d := filepath.Join(s.dir, t.UTC().Format("2006-01-02"))
	return d, safeio.MkdirAll(d, 0o750)
}

// TempFile returns an empty temp file to stream message id, received at
// t, into: from the pool (UsePool), else new in t's day folder. Stage
// names it in t's day folder either way.
func (s *Store) TempFile(t time.Time, id string) (*os.File, error) {
	d, err := s.dayDir(t)
	if err != nil {
		return nil, err
	}
	return s.pool.TempFile(d, id, 0o640)
}

// ErrDamaged: a kept original does not match its index (size or sha256).
var ErrDamaged = errors.New("the original does not match its index (size or sha256)")

// Check reads a kept original from r and checks it against m, its index
// entry: an error wrapping ErrDamaged when its size or SHA-256 differs (a
// disk fault, or a power cut during the one-round commit of a message
// that never got its 250). Everything that hands an original on (a
// rebuild, a release, `originals show`) checks it first. An index without
// a sha256 (the gateway always writes one; a hand-made index may not) is
// not checked.
func (m Meta) Check(r io.Reader) error {
	if m.SHA256 == "" {
		return nil
	}
	sum := sha256.New()
	n, err := io.Copy(sum, r)
	if err != nil {
		return err
	}
	if n != m.Size || hex.EncodeToString(sum.Sum(nil)) != m.SHA256 {
		return fmt.Errorf("%w: %d bytes", ErrDamaged, n)
	}
	return nil
}

// SubjectAsReceived is the original's subject as it came, decoded: what
// an admin searches for (the rebuilt Subject carries the policy's tag).
// Originals kept before it was recorded give the rebuilt one.
func (m Meta) SubjectAsReceived() string {
	if m.ReceivedSubject != nil {
		return *m.ReceivedSubject
	}
	return m.Subject
}

// Stage adds a streamed original (the temp file from TempFile) and its
// meta, the commit marker, to st; they become durable with st.Commit.
// It fills m.ReceivedSubject from the original's header.
func (s *Store) Stage(st *safeio.Staged, f *os.File, m Meta) error {
	d, err := s.dayDir(m.Received)
	if err != nil {
		safeio.Discard(f) // not staged: st.Discard would not see it
		return err
	}
	if subj, ok := receivedSubject(f); ok {
		m.ReceivedSubject = &subj
	}
	st.Add(f, filepath.Join(d, m.ID+".eml"))
	line, err := json.Marshal(m)
	if err != nil {
		return err
	}
	undo, err := json.Marshal(record{Meta: Meta{ID: m.ID}, Withdrawn: true})
	if err != nil {
		return err
	}
	// Each commit appends through its own descriptor (see safeio.Staged.Append).
	xf, err := os.OpenFile(filepath.Join(d, IndexFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("originals: %w", err)
	}
	st.Append(xf, ownLine(line), ownLine(undo))
	return nil
}

// ownLine is an index line as appended: with a newline before it too, so
// that it starts on a line of its own whatever an append before it left.
// An append cut short while the gateway runs (a full file system, EFBIG:
// the write stops at a page it gets no block for, and its commit fails)
// leaves part of a line without its newline, and no start comes between
// to end it (Open's endIndex): the next message's line, acknowledged,
// would otherwise be glued to it, not read, and its .eml removed by the
// next start as unindexed. Readers skip the empty lines.
func ownLine(line []byte) []byte {
	return append(append([]byte{'\n'}, line...), '\n')
}

// maxHeader bounds the header receivedSubject reads.
const maxHeader = 256 << 10

// receivedSubject reads the Subject field of the original in f, decoded
// as the rebuild decodes it ("" when there is none); ok is false when the
// header does not read.
func receivedSubject(f *os.File) (subject string, ok bool) {
	h, err := textproto.ReadHeader(bufio.NewReader(io.NewSectionReader(f, 0, maxHeader)))
	if err != nil {
		return "", false
	}
	return text.DecodeHeader(h.Get("Subject")), true
}
