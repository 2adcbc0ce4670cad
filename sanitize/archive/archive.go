// Package archive reads ZIP archives defensively and writes fresh ones. It
// never extracts to disk. Reading enforces limits on member count, total
// and per-member decompressed bytes and compression ratio, refuses
// encrypted members and members whose compressed data overlap (the
// Fifield "better zip bomb": Go's archive/zip does not check), and cleans
// member names (no absolute paths, no "..").
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
}

func (l Limits) withDefaults() Limits {
	if l.MaxMembers <= 0 {
		l.MaxMembers = 1000
	}
	if l.MaxTotal <= 0 {
		l.MaxTotal = 256 << 20
	}
	if l.MaxMember <= 0 {
		l.MaxMember = 64 << 20
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = 100
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
func Read(data []byte, lim Limits) ([]Member, error) {
	lim = lim.withDefaults()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	if len(zr.File) > lim.MaxMembers {
		return nil, fmt.Errorf("%w: %d", ErrTooMany, len(zr.File))
	}
	if err := checkOverlap(zr.File); err != nil {
		return nil, err
	}
	var total int64
	var out []Member
	for _, f := range zr.File {
		if f.Flags&0x1 != 0 {
			return nil, fmt.Errorf("%w: %s", ErrEncrypted, f.Name)
		}
		if f.FileInfo().IsDir() || strings.HasSuffix(f.Name, "/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrUnreadable, f.Name, err)
		}
		// Declared sizes can lie: count what actually comes out.
		b, err := io.ReadAll(io.LimitReader(rc, lim.MaxMember+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrUnreadable, f.Name, err)
		}
		n := int64(len(b))
		if n > lim.MaxMember {
			return nil, fmt.Errorf("%w: member %s", ErrTooLarge, f.Name)
		}
		if total += n; total > lim.MaxTotal {
			return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, total)
		}
		if c := int64(f.CompressedSize64); n > 1<<20 && (c == 0 || n/max(c, 1) > lim.MaxRatio) {
			return nil, fmt.Errorf("%w: %s (%d → %d bytes)", ErrRatio, f.Name, c, n)
		}
		out = append(out, Member{Name: CleanName(f.Name), RawName: []byte(f.Name), UTF8: !f.NonUTF8, Modified: f.Modified, Data: b})
	}
	return out, nil
}

// checkOverlap refuses archives in which two members' compressed data
// share bytes: a decoder would decompress the same kernel many times.
func checkOverlap(files []*zip.File) error {
	type span struct{ start, end int64 }
	spans := make([]span, 0, len(files))
	for _, f := range files {
		off, err := f.DataOffset()
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrUnreadable, f.Name, err)
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
