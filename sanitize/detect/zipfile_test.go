package detect

import (
	"archive/zip"
	"bytes"
	"hash/crc32"
	"io"
	"slices"
	"strings"
	"testing"

	"mugai/policy"
)

// minimalPDF is enough for "%PDF-" and a trailer; detection reads no more.
const minimalPDF = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"

// storedZip writes members with the Store method, as Python's zipfile
// does by default; descriptor chooses Go's streaming form (sizes in a
// data descriptor after the data) over sizes in the local header.
func storedZip(t testing.TB, descriptor bool, members ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(members); i += 2 {
		var err error
		if descriptor {
			var w io.Writer
			w, err = zw.CreateHeader(&zip.FileHeader{Name: members[i], Method: zip.Store})
			if err == nil {
				_, err = w.Write([]byte(members[i+1]))
			}
		} else {
			h := &zip.FileHeader{Name: members[i], Method: zip.Store,
				CompressedSize64: uint64(len(members[i+1])), UncompressedSize64: uint64(len(members[i+1]))}
			h.CRC32 = crc32.ChecksumIEEE([]byte(members[i+1]))
			var w io.Writer
			w, err = zw.CreateRaw(h)
			if err == nil {
				_, err = w.Write([]byte(members[i+1]))
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestStoredPDFZip(t *testing.T) {
	python := storedZip(t, false, "申請書.pdf", minimalPDF, "readme.txt", "hello\n")
	goStyle := storedZip(t, true, "申請書.pdf", minimalPDF)
	withComment := append(slices.Clone(python[:len(python)-2]), 0x04, 0x00, 'n', 'o', 't', 'e')
	deflated := buildZip(t, false, "a.pdf", minimalPDF)
	tests := []struct {
		name  string
		data  []byte
		want  string
		flags []policy.Flag
	}{
		// A ZIP from first to last byte: a ZIP, flagged because a PDF
		// reader would also open it as it is.
		{"stored PDF first (Python)", python, TypeZIP, []policy.Flag{policy.FlagPolyglot}},
		{"stored PDF, data descriptors (Go)", goStyle, TypeZIP, []policy.Flag{policy.FlagPolyglot}},
		{"stored PDF, archive comment", withComment, TypeZIP, []policy.Flag{policy.FlagPolyglot}},
		{"deflated PDF", deflated, TypeZIP, nil},
		// What a PDF reader and an unzipper both take as theirs stays a
		// PDF polyglot.
		{"PDF with a ZIP appended", append([]byte(minimalPDF), deflated...), TypePDF, []policy.Flag{policy.FlagPolyglot}},
		{"ZIP behind a few bytes and a PDF", append([]byte("xx"+minimalPDF), python...), TypePDF, []policy.Flag{policy.FlagPolyglot}},
		{"stored ZIP with bytes appended", append(slices.Clone(python), "%%EOF\n"...), TypePDF, []policy.Flag{policy.FlagPolyglot}},
		{"stored ZIP with a gap between members", gap(t, python), TypePDF, []policy.Flag{policy.FlagPolyglot}},
	}
	for _, tc := range tests {
		r := Detect(tc.data, "", nil)
		if r.Type != tc.want || !slices.Equal(r.Flags, tc.flags) {
			t.Errorf("%s: %s %v (%s), want %s %v", tc.name, r.Type, r.Flags, strings.Join(r.Detail, "; "), tc.want, tc.flags)
		}
	}
}

// gap moves the second member one byte further (central offset updated):
// a byte no header accounts for.
func gap(t *testing.T, z []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil || len(zr.File) < 2 {
		t.Fatal("gap: need two members")
	}
	off, _ := zr.File[1].DataOffset()
	start := int(off) - 30 - len(zr.File[1].Name)
	out := append(slices.Clone(z[:start]), 0)
	out = append(out, z[start:]...)
	cd := bytes.LastIndex(out, []byte("PK\x01\x02"))
	out[cd+42]++ // the second central entry's local header offset
	end := bytes.LastIndex(out, []byte("PK\x05\x06"))
	out[end+16]++ // the central directory's offset
	return out
}

func FuzzWellFormedZip(f *testing.F) {
	f.Add(storedZip(f, false, "a.pdf", minimalPDF))
	f.Add(storedZip(f, true, "a.pdf", minimalPDF, "b", "c"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if wellFormedZip(b) {
			if _, err := zip.NewReader(bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatalf("well-formed but Go cannot read it: %v", err)
			}
		}
	})
}
