package sanitize

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// walkModes parses msg the way the walker did before it read parts in
// place (every body a copy), from a stream, and from memory; it returns
// the three trees as text and the copies the in-place reads fell back to.
func walkModes(t testing.TB, msg []byte, lim Limits) (copied, streamed, inMemory string, copies int) {
	t.Helper()
	dump := func(w *walker, r io.Reader) string {
		root, err := w.parse(r)
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		var b strings.Builder
		dumpNode(&b, root)
		return b.String()
	}
	copied = dump(&walker{lim: lim.withDefaults(), copyAll: true}, struct{ io.Reader }{bytes.NewReader(msg)})
	ws := &walker{lim: lim.withDefaults()}
	streamed = dump(ws, struct{ io.Reader }{bytes.NewReader(msg)})
	wm := &walker{lim: lim.withDefaults()}
	inMemory = dump(wm, newMessageBytes(msg))
	return copied, streamed, inMemory, ws.copies + wm.copies
}

// dumpNode writes everything the rebuild reads of a node.
func dumpNode(b *strings.Builder, n *node) {
	keys := make([]string, 0, len(n.params))
	for k := range n.params {
		keys = append(keys, k+"="+n.params[k])
	}
	slices.Sort(keys)
	fmt.Fprintf(b, "%s %q %v %q %q %q size=%d body=%d:%x problem=%q %q\n", n.path, n.declared, keys, n.disposition,
		n.filename, n.filenames, n.size, len(n.body), sha256.Sum256(n.body), n.problem, n.detail)
	for f := n.header.Fields(); f.Next(); {
		fmt.Fprintf(b, "  %s: %q\n", f.Key(), f.Value())
	}
	for _, c := range n.children {
		dumpNode(b, c)
	}
}

// nested wraps a part in depth multiparts, each with a text part before
// it; nl is the line end.
func nested(depth int, part, nl string) []byte {
	body := part
	for d := range depth {
		bd := fmt.Sprintf("b%d", d)
		body = fmt.Sprintf("Content-Type: multipart/mixed; boundary=%q%s%s--%s%sContent-Type: text/plain%s%slevel %d%s--%s%s%s%s--%s--%s",
			bd, nl, nl, bd, nl, nl, nl, d, nl, bd, nl, body, nl, bd, nl)
	}
	return []byte("From: a@example.org" + nl + "Subject: nested" + nl + "MIME-Version: 1.0" + nl + body)
}

func inPlaceCases(t testing.TB) map[string][]byte {
	file := "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"x.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQ==\r\n"
	text := "Content-Type: text/plain; charset=utf-8\r\n\r\nplain text\r\nsecond line"
	cases := map[string][]byte{
		"depth1":        nested(1, file, "\r\n"),
		"depth10":       nested(10, file, "\r\n"),
		"depth30":       nested(30, file, "\r\n"),
		"depth40":       nested(40, text, "\r\n"),
		"lf":            nested(5, strings.ReplaceAll(file, "\r\n", "\n"), "\n"),
		"text-leaf":     nested(3, text, "\r\n"),
		"preamble":      []byte("Content-Type: multipart/mixed; boundary=B\r\n\r\nThis is MIME.\r\n--B\r\n\r\none\r\n--B \t\r\nContent-Type: text/plain\r\n\r\ntwo\r\n--B--\r\nepilogue\r\n"),
		"no-header":     []byte("Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n\r\n--B\r\n\r\n\r\n--B--"),
		"header-at-eof": []byte("Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain"),
		"truncated":     []byte("Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n\r\none\r\n--B\r\nContent-Type: multipart/mixed; boundary=C\r\n\r\n--C\r\n\r\ncut"),
		"lookalike":     []byte("Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n\r\none\r\n--Bx\r\n--B-\r\n--B\r\n\r\ntwo\r\n--B--\r\n"),
		"mixed-ends":    []byte("Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\n\none\n--B\r\n\r\ntwo\r\n--B\n\nthree\n--B--\n"),
		"qp":            nested(4, "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db=\r\nc\r\n", "\r\n"),
		"message-leaf":  nested(2, "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary=I\r\n\r\n--I\r\n\r\nin\r\n--I--\r\n", "\r\n"),
	}
	long := strings.Repeat("x", 9000)
	cases["long-lines"] = nested(3, "Content-Type: text/plain\r\nX-Long: "+long+"\r\n\r\n"+long+"\r\n"+long, "\r\n")
	files, _ := filepath.Glob("testdata/*.eml")
	for _, f := range files {
		if strings.HasSuffix(f, ".want.eml") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases[filepath.Base(f)] = b
	}
	return cases
}

// TestWalkInPlace: reading parts as slices of the message gives the same
// tree, byte for byte, as reading every part as a copy, and the part
// positions are right (no read falls back to a copy).
func TestWalkInPlace(t *testing.T) {
	for name, msg := range inPlaceCases(t) {
		for _, lim := range []Limits{{}, {MaxPartBytes: 64, MaxHeaderBytes: 200, MaxParts: 7, MaxDepth: 6}} {
			copied, streamed, inMemory, copies := walkModes(t, msg, lim)
			if streamed != copied || inMemory != copied {
				t.Errorf("%s %+v: trees differ\ncopied:\n%s\nstreamed:\n%s\nin memory:\n%s", name, lim, copied, streamed, inMemory)
			}
			if copies != 0 {
				t.Errorf("%s %+v: %d parts read as copies", name, lim, copies)
			}
		}
	}
}

func FuzzWalkInPlace(f *testing.F) {
	for _, msg := range inPlaceCases(f) {
		f.Add(msg, uint8(0))
	}
	f.Fuzz(func(t *testing.T, msg []byte, small uint8) {
		lim := Limits{}
		if small%2 == 1 {
			lim = Limits{MaxPartBytes: int64(small), MaxHeaderBytes: 300, MaxParts: 9, MaxDepth: 5}
		}
		copied, streamed, inMemory, copies := walkModes(t, msg, lim)
		if streamed != copied || inMemory != copied {
			t.Fatalf("trees differ\ncopied:\n%s\nstreamed:\n%s\nin memory:\n%s", copied, streamed, inMemory)
		}
		if copies != 0 {
			t.Fatalf("%d parts read as copies", copies)
		}
	})
}
