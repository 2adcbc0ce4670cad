package archive

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vector is one committed archive of testdata/encrypted (see
// make-vectors.sh) and what it holds.
type vector struct {
	file    string
	members []string // names as the archive lists them, in order
}

var vectors = []vector{
	// ZipCrypto from Info-ZIP's zip -P: every member has a data
	// descriptor (the check byte is the time's); deflated, stored, to a
	// pipe, CP932 names, one member in the clear.
	{"zipcrypto-deflate.zip", []string{"hello.txt", "報告書.txt", "inner.zip"}},
	{"zipcrypto-stored.zip", []string{"hello.txt", "報告書.txt", "inner.zip"}},
	{"zipcrypto-stream.zip", []string{"hello.txt", "報告書.txt", "inner.zip"}},
	{"zipcrypto-cp932.zip", []string{"hello.txt", "\x95\xf1\x8d\x90\x8f\x91.txt", "inner.zip"}},
	{"zipcrypto-mixed.zip", []string{"hello.txt", "報告書.txt"}},
	// ZipCrypto from 7-Zip: no data descriptor (the check byte is the
	// CRC's).
	{"7z-zipcrypto.zip", []string{"hello.txt", "inner.zip", "報告書.txt"}},
	// WinZip AES from 7-Zip (AE-2).
	{"aes128.zip", []string{"hello.txt", "inner.zip", "報告書.txt"}},
	{"aes192.zip", []string{"hello.txt", "inner.zip", "報告書.txt"}},
	{"aes256.zip", []string{"hello.txt", "inner.zip", "報告書.txt"}},
	{"aes256-stored.zip", []string{"hello.txt", "inner.zip", "報告書.txt"}},
	{"hostile-aes256.zip", []string{"locked.zip", "note.txt", "setup.exe"}},
}

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "encrypted", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// plainFiles are the vectors' members as they were before zipping, by
// name (the CP932 name too).
func plainFiles(t testing.TB) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, n := range []string{"hello.txt", "報告書.txt", "inner.zip", "locked.zip", "note.txt", "setup.exe"} {
		m[n] = readVector(t, "plain/"+n)
	}
	m["\x95\xf1\x8d\x90\x8f\x91.txt"] = m["報告書.txt"]
	return m
}

// allVectors are the committed vectors and an AE-1 one made from
// aes256.zip.
func allVectors(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	for _, v := range vectors {
		out[v.file] = readVector(t, v.file)
	}
	out["aes256-ae1.zip"] = ae1(t, out["aes256.zip"], plainFiles(t))
	return out
}

func vectorMembers(file string) []string {
	if file == "aes256-ae1.zip" {
		file = "aes256.zip"
	}
	for _, v := range vectors {
		if v.file == file {
			return v.members
		}
	}
	return nil
}

// checkPlain fails unless ms are exactly the plain files named.
func checkPlain(t *testing.T, label string, ms []Member, names []string, plain map[string][]byte) {
	t.Helper()
	if len(ms) != len(names) {
		t.Fatalf("%s: %d members, want %d", label, len(ms), len(names))
	}
	for i, m := range ms {
		if string(m.RawName) != names[i] {
			t.Errorf("%s: member %d is %q, want %q", label, i, m.RawName, names[i])
		}
		if !bytes.Equal(m.Data, plain[names[i]]) {
			t.Errorf("%s: %s: %d bytes differ from the plain file", label, names[i], len(m.Data))
		}
	}
}

func TestReadEncryptedVectors(t *testing.T) {
	plain := plainFiles(t)
	for file, z := range allVectors(t) {
		ms, err := ReadEncrypted(z, []byte(testPassword), Limits{})
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		checkPlain(t, file, ms, vectorMembers(file), plain)
		for _, pw := range []string{"", "ppap-test#2026", "ppap-Test#2027", testPassword + " "} {
			if _, err := ReadEncrypted(z, []byte(pw), Limits{}); !errors.Is(err, ErrPassword) {
				t.Errorf("%s with password %q: %v, want ErrPassword", file, pw, err)
			} else if strings.Contains(err.Error(), pw) && pw != "" {
				t.Errorf("%s: the error holds the password: %v", file, err)
			}
		}
		if _, err := Read(z, Limits{}); !errors.Is(err, ErrEncrypted) {
			t.Errorf("%s: Read: %v, want ErrEncrypted", file, err)
		}
	}
}

// Names come out as Read gives them: UTF-8 marked as such (7-Zip), raw
// CP932 bytes unmarked (zip on Japanese Windows, here Info-ZIP), and
// the nested ZIP reads as a ZIP.
func TestReadEncryptedNames(t *testing.T) {
	ms, err := ReadEncrypted(readVector(t, "aes256.zip"), []byte(testPassword), Limits{})
	if err != nil || ms[2].Name != "報告書.txt" || !ms[2].UTF8 {
		t.Errorf("UTF-8 name: %+v %v", ms[2].Name, err)
	}
	ms, err = ReadEncrypted(readVector(t, "zipcrypto-cp932.zip"), []byte(testPassword), Limits{})
	if err != nil || ms[1].UTF8 || string(ms[1].RawName) != "\x95\xf1\x8d\x90\x8f\x91.txt" {
		t.Errorf("CP932 name: %q %v", ms[1].RawName, err)
	}
	if ms[1].Modified.IsZero() {
		t.Error("no modification time")
	}
	inner, err := Read(ms[2].Data, Limits{})
	if err != nil || len(inner) != 1 || inner[0].Name != "inner.txt" || !strings.Contains(string(inner[0].Data), "入れ子") {
		t.Errorf("nested ZIP: %+v %v", inner, err)
	}
	// The hostile vector's nested encrypted ZIP stays encrypted.
	ms, err = ReadEncrypted(readVector(t, "hostile-aes256.zip"), []byte(testPassword), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Read(ms[0].Data, Limits{}); !errors.Is(err, ErrEncrypted) {
		t.Errorf("locked.zip: %v", err)
	}
}

// A truncated archive is an error, whatever the cut.
func TestReadEncryptedTruncated(t *testing.T) {
	for file, z := range allVectors(t) {
		for n := 0; n < len(z); n++ {
			if ms, err := ReadEncrypted(z[:n], []byte(testPassword), Limits{}); err == nil {
				t.Errorf("%s cut to %d bytes: %d members, no error", file, n, len(ms))
			}
		}
	}
}

// A changed byte gives an error or the right contents, never other
// contents: any byte of the ZipCrypto vectors; in the WinZip AES ones
// (each read costs a key derivation per member) the header fields that
// the MAC does not cover. A changed byte in a member's stored data is
// ErrPassword (the check byte, the CRC, the MAC).
func TestReadEncryptedTampered(t *testing.T) {
	plain := plainFiles(t)
	all := allVectors(t)
	for _, file := range []string{"zipcrypto-deflate.zip", "zipcrypto-stored.zip", "zipcrypto-cp932.zip", "zipcrypto-mixed.zip", "7z-zipcrypto.zip",
		"aes128.zip", "aes256-ae1.zip", "aes256-stored.zip"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			z, names := all[file], vectorMembers(file)
			positions := headerFields(t, z)
			if strings.HasPrefix(file, "zip") || strings.HasPrefix(file, "7z") {
				positions = nil
				for i := range z {
					positions = append(positions, i)
				}
			}
			for _, i := range positions {
				bad := bytes.Clone(z)
				bad[i] ^= 1 << (i % 8)
				ms, err := ReadEncrypted(bad, []byte(testPassword), Limits{})
				for k, m := range ms {
					if err == nil && k < len(names) && !bytes.Equal(m.Data, plain[names[k]]) {
						t.Errorf("byte %d changed: member %d read as other data", i, k)
					}
				}
			}
			checkDataTampered(t, z, plain, names)
		})
	}
}

// checkDataTampered changes bytes of each encrypted member's stored data:
// its first and middle ones must give ErrPassword; its last one may also
// be a deflate stream's unused tail (then the contents are right).
func checkDataTampered(t *testing.T, z []byte, plain map[string][]byte, names []string) {
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range zr.File {
		if f.Flags&flagEncrypted == 0 {
			continue
		}
		start, end := encryptedData(t, z, i)
		for _, at := range []int{start, (start + end) / 2, end - 1} {
			bad := bytes.Clone(z)
			bad[at] ^= 0x20
			ms, err := ReadEncrypted(bad, []byte(testPassword), Limits{})
			if errors.Is(err, ErrPassword) || at == end-1 && err == nil && bytes.Equal(ms[i].Data, plain[names[i]]) {
				continue
			}
			t.Errorf("member %d, byte %d of its data changed: %v, want ErrPassword", i, at, err)
		}
	}
}

// headerFields lists the positions in z of the fields archive/zip reads
// and the MAC does not cover, for every member: in the central directory
// the flags, method, CRC and sizes and the WinZip AES extra field; in
// the local header the name and extra field lengths.
func headerFields(t testing.TB, z []byte) []int {
	t.Helper()
	var out []int
	span := func(from, n int) {
		for k := from; k < from+n; k++ {
			out = append(out, k)
		}
	}
	for i := 0; ; i += 4 {
		j := bytes.Index(z[i:], []byte("PK\x01\x02"))
		if j < 0 {
			break
		}
		i += j
		span(i+8, 20) // flags, method, time, date, CRC, sizes
		nlen, xlen := int(binary.LittleEndian.Uint16(z[i+28:])), int(binary.LittleEndian.Uint16(z[i+30:]))
		if k := bytes.Index(z[i+46+nlen:i+46+nlen+xlen], []byte{0x01, 0x99}); k >= 0 {
			span(i+46+nlen+k, 11)
		}
	}
	for i := 0; ; i += 4 {
		j := bytes.Index(z[i:], []byte("PK\x03\x04"))
		if j < 0 {
			break
		}
		i += j
		span(i+26, 4)
	}
	if len(out) == 0 {
		t.Fatal("no headers found")
	}
	return out
}

// encryptedData is where member i's stored bytes lie in z.
func encryptedData(t testing.TB, z []byte, i int) (start, end int) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	off, err := zr.File[i].DataOffset()
	if err != nil {
		t.Fatal(err)
	}
	return int(off), int(off) + int(zr.File[i].CompressedSize64)
}
