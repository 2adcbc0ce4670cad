// Package archive reads ZIP archives defensively and writes fresh ones. It
// never extracts to disk. Reading enforces limits on member count, total
// and per-member decompressed bytes and compression ratio, refuses
// members whose compressed data overlap (the Fifield "better zip bomb":
// Go's archive/zip does not check), and cleans member names (no absolute
// paths, no ".."). Read refuses encrypted members; ReadEncrypted decrypts
// them in memory with a password (PKWARE traditional encryption and
// WinZip AES), under the same limits.
package archive

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"mugai/sanitize/format"
)

// Errors, for errors.Is.
var (
	ErrEncrypted  = errors.New("archive: encrypted member")
	ErrOverlap    = errors.New("archive: members overlap (zip bomb)")
	ErrTooMany    = errors.New("archive: too many members")
	ErrTooLarge   = errors.New("archive: decompressed size over the limit")
	ErrRatio      = errors.New("archive: compression ratio over the limit")
	ErrUnreadable = errors.New("archive: not a readable ZIP")
)

// Limits bound the work one archive can cause. Zero fields take defaults.
type Limits struct {
	MaxMembers int   // default 1000
	MaxTotal   int64 // decompressed bytes, all members; default 256 MiB
	MaxMember  int64 // decompressed bytes, one member; default 64 MiB
	MaxRatio   int64 // decompressed/compressed for members over 1 MiB; default 100
	// Budget, when set, is the message's expansion budget: Read takes
	// the members' declared sizes from it before inflating any (and
	// never inflates more than it took). A caller that sets it must not
	// take the members' sizes again. Its error is returned wrapped.
	Budget *format.Budget
}

// DefaultLimits are the limits a zero field takes.
var DefaultLimits = Limits{MaxMembers: 1000, MaxTotal: 256 << 20, MaxMember: 64 << 20, MaxRatio: 100}

func (l Limits) withDefaults() Limits {
	if l.MaxMembers <= 0 {
		l.MaxMembers = DefaultLimits.MaxMembers
	}
	if l.MaxTotal <= 0 {
		l.MaxTotal = DefaultLimits.MaxTotal
	}
	if l.MaxMember <= 0 {
		l.MaxMember = DefaultLimits.MaxMember
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultLimits.MaxRatio
	}
	return l
}

// Member is one file of an archive.
type Member struct {
	Name     string // cleaned path inside the archive
	RawName  []byte // as stored, for callers that decode legacy (CP932) names
	UTF8     bool   // the archive marked the name as UTF-8
	Modified time.Time
	Data     []byte
}

// Read returns the file members of a ZIP (directories are skipped), or an
// error naming the limit or defect that stopped it.
//
// Every limit is checked, and fails closed, on the sizes the central
// directory declares, for all members, before anything is inflated; each
// member is then inflated into a buffer of exactly its declared size and
// refused if it holds more (archive/zip refuses that too) or less. So
// what is inflated never exceeds MaxTotal, nor MaxMember or the ratio for
// one member, even while it is being read.
func Read(data []byte, lim Limits) ([]Member, error) {
	return read(data, lim, plainReader{})
}

// memberReader is how read gets at the members' contents: Read refuses
// encrypted members, ReadEncrypted decrypts them. Every limit is read's.
type memberReader interface {
	// screen is called on every member, in order, after the member
	// count and overlap checks and before the declared sizes are: an
	// error refuses the archive before anything is inflated.
	screen(f *zip.File) error
	// contents returns one file member's bytes, read by readExact.
	contents(f *zip.File) ([]byte, error)
}

// read checks the archive against lim (see Read) and reads its file
// members through mr.
func read(data []byte, lim Limits, mr memberReader) ([]Member, error) {
	lim = lim.withDefaults()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	if len(zr.File) > lim.MaxMembers {
		return nil, fmt.Errorf("%w: %d", ErrTooMany, len(zr.File))
	}
	if err := checkOverlap(zr.File, int64(len(data))); err != nil {
		return nil, err
	}
	for _, f := range zr.File {
		if err := mr.screen(f); err != nil {
			return nil, err
		}
	}
	declared, err := checkDeclared(zr.File, lim)
	if err != nil {
		return nil, err
	}
	if err := lim.Budget.Take(declared); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	var out []Member
	for _, f := range zr.File {
		if isDir(f) {
			continue
		}
		b, err := mr.contents(f)
		if err != nil {
			return nil, err
		}
		out = append(out, Member{Name: CleanName(f.Name), RawName: []byte(f.Name), UTF8: !f.NonUTF8, Modified: f.Modified, Data: b})
	}
	return out, nil
}

// checkDeclared checks the declared sizes, all of them, before any work,
// and returns their sum.
func checkDeclared(files []*zip.File, lim Limits) (int64, error) {
	var declared int64
	for _, f := range files {
		if isDir(f) {
			continue
		}
		n, c := f.UncompressedSize64, f.CompressedSize64
		if n > uint64(lim.MaxMember) {
			return 0, fmt.Errorf("%w: member %s declares %d bytes", ErrTooLarge, f.Name, n)
		}
		if declared += int64(n); declared > lim.MaxTotal {
			return 0, fmt.Errorf("%w: members declare %d bytes or more", ErrTooLarge, declared)
		}
		if n > ratioFloor && (c == 0 || n/c > uint64(lim.MaxRatio)) {
			return 0, fmt.Errorf("%w: %s (%d → %d bytes)", ErrRatio, f.Name, c, n)
		}
	}
	return declared, nil
}

// plainReader reads members that are not encrypted, as archive/zip
// inflates them (checking the CRC).
type plainReader struct{}

func (plainReader) screen(f *zip.File) error {
	if f.Flags&flagEncrypted != 0 {
		return fmt.Errorf("%w: %s", ErrEncrypted, f.Name)
	}
	return nil
}

func (plainReader) contents(f *zip.File) ([]byte, error) { return inflate(f) }

// ratioFloor: members up to this size are not held to MaxRatio (small
// runs of zeros compress well and cost nothing).
const ratioFloor = 1 << 20

func isDir(f *zip.File) bool {
	return f.FileInfo().IsDir() || strings.HasSuffix(f.Name, "/")
}

// inflate reads one member as archive/zip inflates it (archive/zip
// checks the CRC at the end), see readExact.
func inflate(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnreadable, f.Name, err)
	}
	defer rc.Close()
	return readExact(f, rc)
}

// readExact reads one member's content from r into a buffer of its
// declared size and fails if r holds more (or less): the limits read
// checked on the declared size bind what is inflated, and nothing past
// it is.
func readExact(f *zip.File, r io.Reader) ([]byte, error) {
	b := make([]byte, f.UncompressedSize64)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnreadable, f.Name, err)
	}
	// The member must end here.
	var more [1]byte
	switch k, err := io.ReadFull(r, more[:]); {
	case k > 0:
		return nil, fmt.Errorf("%w: member %s holds more than it declares", ErrTooLarge, f.Name)
	case err != io.EOF:
		return nil, fmt.Errorf("%w: %s: %v", ErrUnreadable, f.Name, err)
	}
	return b, nil
}

// checkOverlap refuses archives in which two members' compressed data
// share bytes (a decoder would decompress the same kernel many times) or
// run past the end of the archive.
func checkOverlap(files []*zip.File, size int64) error {
	type span struct{ start, end int64 }
	spans := make([]span, 0, len(files))
	for _, f := range files {
		off, err := f.DataOffset()
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrUnreadable, f.Name, err)
		}
		if f.CompressedSize64 > uint64(size) || off+int64(f.CompressedSize64) > size {
			return fmt.Errorf("%w: %s: compressed data past the end", ErrUnreadable, f.Name)
		}
		spans = append(spans, span{off, off + int64(f.CompressedSize64)})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			return ErrOverlap
		}
	}
	return nil
}

// CleanName makes a member name safe to write: forward slashes, no
// absolute path, no ".." component, no control characters.
func CleanName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	var parts []string
	for _, p := range strings.Split(path.Clean("/"+name), "/") {
		if p != "" && p != "." && p != ".." {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "file"
	}
	return strings.Join(parts, "/")
}

// Write writes members as a new ZIP: deflated, UTF-8 names.
func Write(w io.Writer, members []Member) error {
	zw := zip.NewWriter(w)
	for _, m := range members {
		h := &zip.FileHeader{Name: CleanName(m.Name), Method: zip.Deflate, Modified: m.Modified}
		h.Flags |= 0x800 // names are UTF-8
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(m.Data); err != nil {
			return err
		}
	}
	return zw.Close()
}
