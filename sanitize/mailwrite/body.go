package mailwrite

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"strings"
)

// Base64 encodes data for a body: lines of 76 characters, each ending in
// CRLF (RFC 2045 6.8), the last one too.
func Base64(data []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(data)
	out := make([]byte, 0, len(enc)+len(enc)/76*2+2)
	for len(enc) > 76 {
		out = append(append(out, enc[:76]...), '\r', '\n')
		enc = enc[76:]
	}
	return append(append(out, enc...), '\r', '\n')
}

// TextPart is a part of UTF-8 plain text in base64: its header and body.
// Line ends in text (LF) become CRLF.
func TextPart(text string) (*Header, []byte) {
	var h Header
	h.Add("Content-Type", "text/plain; charset=UTF-8")
	h.Add("Content-Transfer-Encoding", "base64")
	return &h, Base64([]byte(strings.ReplaceAll(text, "\n", "\r\n")))
}

// Multipart is a multipart body (RFC 2046 5.1) assembled from whole parts:
// its boundary is chosen when it is first asked for, after the last part,
// so that it occurs in none of them.
type Multipart struct {
	// Rand is where boundaries come from (nil: crypto/rand).
	Rand io.Reader

	parts    [][]byte
	boundary string
}

// Add appends a part: its header, then body (CRLF lines; a body that
// does not end in CRLF ends where the boundary's CRLF begins). It panics
// once the boundary has been chosen.
func (m *Multipart) Add(h *Header, body []byte) {
	if m.boundary != "" {
		panic("mailwrite: Multipart.Add after its boundary was chosen")
	}
	m.parts = append(m.parts, append(h.Bytes(), body...))
}

// Boundary returns the boundary, choosing it on the first call: 60
// random hexadecimal digits (as go-message and mime/multipart make them),
// drawn again while it occurs in any part.
func (m *Multipart) Boundary() string {
	if m.boundary != "" {
		return m.boundary
	}
	r := m.Rand
	if r == nil {
		r = rand.Reader
	}
	for {
		var b [30]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			panic("mailwrite: no random boundary: " + err.Error())
		}
		m.boundary = hex.EncodeToString(b[:])
		if !m.occurs(m.boundary) {
			return m.boundary
		}
	}
}

func (m *Multipart) occurs(boundary string) bool {
	for _, p := range m.parts {
		if bytes.Contains(p, []byte(boundary)) {
			return true
		}
	}
	return false
}

// Bytes returns the body: each part after a delimiter line, then the
// close delimiter, "--boundary--", and its CRLF.
func (m *Multipart) Bytes() []byte {
	boundary := m.Boundary()
	var b bytes.Buffer
	for i, p := range m.parts {
		if i > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("--" + boundary + "\r\n")
		b.Write(p)
	}
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return b.Bytes()
}
