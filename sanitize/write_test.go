package sanitize

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"

	"mugai/sanitize/mailwrite"
)

// The writer's base64 and encoded words under the names this package's
// tests build messages with.
var (
	wrapBase64 = mailwrite.Base64
	bEncode    = mailwrite.EncodedWords
)

// TestForwardedSevenBit: a rebuilt forwarded message is attached as
// message/rfc822 in 7bit (RFC 2046 5.2.1 forbids base64 there, and some
// clients and parsers refuse it), byte for byte as rebuilt; sevenBit
// holds the line to what 7bit means.
func TestForwardedSevenBit(t *testing.T) {
	inner := "From: sato@example.jp\r\nSubject: =?UTF-8?B?5YWD44Gu44Oh44O844Or?=\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n\r\n転送元の本文\r\n"
	outer := "From: a@example.jp\r\nSubject: Fwd\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n" +
		"Content-Type: text/plain\r\n\r\nFYI\r\n--o\r\nContent-Type: message/rfc822\r\n\r\n" + inner + "\r\n--o--\r\n"
	res, err := testRebuilder().Rebuild(testEnvelope, strings.NewReader(outer))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(res.Message))
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	mr := multipart.NewReader(m.Body, params["boundary"])
	found := false
	for {
		p, err := mr.NextRawPart()
		if err != nil {
			break
		}
		if mt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); mt != "message/rfc822" {
			continue
		}
		found = true
		raw, _ := io.ReadAll(p)
		if cte := p.Header.Get("Content-Transfer-Encoding"); cte != "7bit" || !sevenBit(raw) {
			t.Errorf("forwarded message attached with %q, 7-bit clean %v", cte, sevenBit(raw))
		}
		if fwd, err := mail.ReadMessage(bytes.NewReader(raw)); err != nil || fwd.Header.Get("Subject") == "" {
			t.Errorf("the attached message does not parse as a message: %v", err)
		}
	}
	if !found {
		t.Fatalf("no message/rfc822 part:\n%s", res.Message)
	}
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"a\r\nb\r\n", true},
		{"", true},
		{"a\r\nb", false},
		{"a\nb\r\n", false},
		{"a\rb\r\n", false},
		{"a\x00\r\n", false},
		{"é\r\n", false},
		{strings.Repeat("x", 998) + "\r\n", true},
		{strings.Repeat("x", 999) + "\r\n", false},
	} {
		if got := sevenBit([]byte(tc.in)); got != tc.want {
			t.Errorf("sevenBit(%.20q…) = %v", tc.in, got)
		}
	}
}
