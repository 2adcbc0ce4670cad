package mailwrite

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"mime"
	"net/mail"
	"strings"
	"testing"

	"github.com/emersion/go-message/textproto"
)

// TestBase64: lines of 76 characters and CRLF, the last one too, decoding
// to the data, at every length around a line's worth.
func TestBase64(t *testing.T) {
	data := make([]byte, 200)
	rand.Read(data)
	for n := range len(data) {
		b := Base64(data[:n])
		lines := strings.Split(string(b), "\r\n")
		if lines[len(lines)-1] != "" {
			t.Fatalf("%d bytes: no final CRLF: %q", n, b)
		}
		for i, l := range lines[:len(lines)-1] {
			if len(l) > 76 || i < len(lines)-2 && len(l) != 76 {
				t.Fatalf("%d bytes: line %d of %d characters", n, i, len(l))
			}
		}
		got, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(b), "\r\n", ""))
		if err != nil || !bytes.Equal(got, data[:n]) {
			t.Fatalf("%d bytes: decodes to %d bytes, %v", n, len(got), err)
		}
	}
}

// scripted is a Rand that yields the given boundaries (as the 30 bytes
// that make them), then crypto/rand.
type scripted struct{ next [][]byte }

func (s *scripted) Read(p []byte) (int, error) {
	if len(s.next) == 0 {
		return rand.Read(p)
	}
	n := copy(p, s.next[0])
	s.next = s.next[1:]
	return n, nil
}

// TestMultipartBoundary: a boundary that occurs in a part (its text, a
// header, or a part body quoting a delimiter line) is never used: the
// next one drawn is, and the body reads back part for part.
func TestMultipartBoundary(t *testing.T) {
	first := bytes.Repeat([]byte{0xab}, 30)
	second := bytes.Repeat([]byte{0xcd}, 30)
	collide := hex.EncodeToString(first)
	m := &Multipart{Rand: &scripted{next: [][]byte{first, first, second}}}
	h1, body1 := TextPart("本文\n--" + collide + "\nquoted delimiter\n")
	m.Add(h1, body1)
	var h2 Header
	h2.Add("Content-Type", "text/plain; charset=us-ascii")
	h2.Add("X-Note", collide)
	m.Add(&h2, []byte("--"+collide+"--\r\n"))
	b := m.Boundary()
	if b == collide || b != hex.EncodeToString(second) || m.Boundary() != b {
		t.Fatalf("boundary %q (the colliding one is %q)", b, collide)
	}
	var msg Header
	msg.Add("Content-Type", MediaType("multipart/mixed", Param{"boundary", b}))
	raw := append(msg.Bytes(), m.Bytes()...)
	parsed, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := mime.ParseMediaType(parsed.Header.Get("Content-Type"))
	mr := textproto.NewMultipartReader(parsed.Body, params["boundary"])
	var bodies []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pb, _ := io.ReadAll(p)
		bodies = append(bodies, string(pb))
	}
	if len(bodies) != 2 || bodies[0] != string(body1) || bodies[1] != "--"+collide+"--\r\n" {
		t.Errorf("parts read back as %q", bodies)
	}
}

// TestMultipartFraming: the framing go-message's writer used (and the
// rebuilt message with it): the first delimiter at the start, CRLF before
// every later one and before the close delimiter.
func TestMultipartFraming(t *testing.T) {
	m := &Multipart{Rand: &scripted{next: [][]byte{bytes.Repeat([]byte{1}, 30)}}}
	var h Header
	h.Add("Content-Type", "text/plain")
	m.Add(&h, []byte("a\r\n"))
	m.Add(&h, []byte("b\r\n"))
	b := strings.Repeat("01", 30)
	want := "--" + b + "\r\nContent-Type: text/plain\r\n\r\na\r\n" +
		"\r\n--" + b + "\r\nContent-Type: text/plain\r\n\r\nb\r\n" +
		"\r\n--" + b + "--\r\n"
	if got := string(m.Bytes()); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}
