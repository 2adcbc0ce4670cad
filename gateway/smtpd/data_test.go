package smtpd

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readData runs a dataReader over in (read through r's wrapper) the way
// the server does: the session reads to the end, then the reader drains.
// It returns what the session got, its error, and the bytes left after.
func readData(in []byte, bufSize int, maxBytes int64, maxLine int, wrap func(io.Reader) io.Reader) (string, error, string) {
	br := bufio.NewReaderSize(wrap(bytes.NewReader(in)), bufSize)
	d := newDataReader(nil, br, maxBytes, maxLine)
	out, err := io.ReadAll(d)
	d.drain()
	rest, _ := io.ReadAll(br)
	return string(out), err, string(rest)
}

func TestDataReader(t *testing.T) {
	const after = "NEXT\r\n"
	cases := []struct {
		name, in, out string
		err           error
	}{
		{"plain", "a\r\nb\r\n.\r\n", "a\r\nb\r\n", nil},
		{"empty", ".\r\n", "", nil},
		{"unstuffed", "..\r\n..x\r\n.x\r\n.\r\n", ".\r\n.x\r\nx\r\n", nil},
		{"dot not at line start", "a.\r\n.\r\n", "a.\r\n", nil},
		{"bare LF", "a\nb\r\n.\r\n", "", ErrBareLF},
		{"bare CR", "a\rb\r\n.\r\n", "", ErrBareCR},
		{"CR CR LF", "a\r\r\n.\r\n", "", ErrBareCR},
		{"NUL", "a\x00\r\n.\r\n", "", ErrNUL},
		// the case go-smtp's dot reader hid: ".\r" + not LF at line start
		{"dot CR", "a\r\n.\rX\r\n.\r\n", "", ErrBareCR},
		{"dot CR at start", ".\rX\r\n.\r\n", "", ErrBareCR},
		{"dot LF", "a\r\n.\nb\r\n.\r\n", "", ErrBareLF},
		// "\n.\n", "\r\n.\n" and "\n.\r\n" never end the data: the
		// fault drains to the real CRLF.CRLF
		{"LF dot LF", "a\n.\nMAIL FROM:<x@y>\r\n.\r\n", "", ErrBareLF},
		{"CRLF dot LF", "a\r\n.\nMAIL\r\n.\r\n", "", ErrBareLF},
		{"LF dot CRLF", "a\n.\r\nMAIL\r\n.\r\n", "", ErrBareLF},
		{"too big", strings.Repeat("0123456789\r\n", 10) + ".\r\n", "", ErrTooBig},
		{"line too long", strings.Repeat("x", 70) + "\r\n.\r\n", "", ErrLineTooLong},
		{"line at the limit", strings.Repeat("x", 62) + "\r\n.\r\n", strings.Repeat("x", 62) + "\r\n", nil},
	}
	wraps := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
	}
	for _, tc := range cases {
		for wname, wrap := range wraps {
			for _, buf := range []int{16, 4096} {
				out, err, rest := readData([]byte(tc.in+after), buf, 100, 64, wrap)
				if !errors.Is(err, tc.err) || tc.err == nil && err != nil {
					t.Errorf("%s (%s, buffer %d): err %v, want %v", tc.name, wname, buf, err, tc.err)
				}
				if tc.err == nil && out != tc.out {
					t.Errorf("%s (%s, buffer %d): %q, want %q", tc.name, wname, buf, out, tc.out)
				}
				if rest != after {
					t.Errorf("%s (%s, buffer %d): out of sync, %q left", tc.name, wname, buf, rest)
				}
			}
		}
	}
}

// TestDataReaderNoEnd: data that never ends is an error, never a message.
func TestDataReaderNoEnd(t *testing.T) {
	for _, in := range []string{"", "a\r\n", "a\r\n.", "a\r\n.\r", "a\n.\n", "a\r\n.\n"} {
		if _, err, _ := readData([]byte(in), 16, 0, 1000, func(r io.Reader) io.Reader { return r }); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// referenceData is the DATA reader's specification written the slow way:
// the data ends at the first CRLF "." CRLF (the start of data counting as
// a CRLF); before it, a line starting with "." loses it; a message is
// accepted when its data has no bare CR, bare LF or NUL.
func referenceData(in []byte) (msg string, ok, ended bool, rest string) {
	all := append([]byte("\r\n"), in...)
	end := bytes.Index(all, []byte("\r\n.\r\n"))
	if end < 0 {
		return "", false, false, ""
	}
	region := all[2 : end+2]
	rest = string(all[end+5:])
	valid := !bytes.Contains(region, []byte{0})
	for i, c := range region {
		if c == '\r' && (i+1 == len(region) || region[i+1] != '\n') || c == '\n' && (i == 0 || region[i-1] != '\r') {
			valid = false
		}
	}
	if !valid {
		return "", false, true, rest
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(region), "\r\n") {
		b.WriteString(strings.TrimPrefix(line, "."))
	}
	return b.String(), true, true, rest
}

// FuzzDataReader: whatever the input and however it is split, the reader
// never panics, never hands out a message with a bare CR, bare LF or NUL
// (it agrees with referenceData), and always ends in sync: what is left
// after it is exactly what follows the first CRLF.CRLF.
func FuzzDataReader(f *testing.F) {
	for _, s := range []string{"a\r\n.\r\n", "..\r\n.\r\nX", "a\n.\n.\r\n", ".\rX\r\n.\r\n", "\r\n.\r\n", "a\r", "x\x00\r\n.\r\n"} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, in []byte, mode uint8) {
		wrap := []func(io.Reader) io.Reader{func(r io.Reader) io.Reader { return r }, iotest.OneByteReader, iotest.HalfReader}[int(mode)%3]
		buf := []int{16, 64, 4096}[int(mode/3)%3]
		out, err, rest := readData(in, buf, 0, 1<<30, wrap)
		want, ok, ended, wantRest := referenceData(in)
		switch {
		case !ended:
			if err == nil {
				t.Fatalf("%q: data without its end accepted as %q", in, out)
			}
		case ok != (err == nil):
			t.Fatalf("%q: err %v, reference valid %v", in, err, ok)
		case ok && out != want:
			t.Fatalf("%q: %q, reference %q", in, out, want)
		case rest != wantRest:
			t.Fatalf("%q: %q left, reference %q", in, rest, wantRest)
		}
	})
}

// BenchmarkDataReader reads the 150 KB reference message through the
// DATA reader (dot-stuffed, on the wire as a client sends it).
func BenchmarkDataReader(b *testing.B) {
	wire := referenceWire()
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	r := bytes.NewReader(wire)
	br := bufio.NewReaderSize(r, minBuffer)
	buf := make([]byte, 32<<10)
	for b.Loop() {
		r.Reset(wire)
		br.Reset(r)
		d := newDataReader(nil, br, 0, 4096)
		for {
			if _, err := d.Read(buf); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}
