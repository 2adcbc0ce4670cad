package sanitize

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"strings"
	"testing"

	"mugai/policy"
)

const hiddenMarker = "Z-HIDDEN-PAYLOAD-Z"

// stdlibSees parses msg with the standard library (a second, independent
// MIME parser) and reports whether the marker appears in an attachment
// part and whether it appears in any text part a client would show.
func stdlibSees(msg []byte) (inAttachment, inText bool) {
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return false, bytes.Contains(msg, []byte(hiddenMarker))
	}
	var walk func(h map[string][]string, body io.Reader, depth int)
	walk = func(h map[string][]string, body io.Reader, depth int) {
		get := func(k string) string {
			if v := h[k]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		mt, params, err := mime.ParseMediaType(get("Content-Type"))
		if err != nil {
			mt = "text/plain"
		}
		raw, _ := io.ReadAll(io.LimitReader(body, 1<<20))
		if strings.HasPrefix(mt, "multipart/") && depth < 10 {
			mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err != nil {
					break
				}
				walk(p.Header, p, depth+1)
			}
			return
		}
		has := bytes.Contains(raw, []byte(hiddenMarker))
		disp, dparams, _ := mime.ParseMediaType(get("Content-Disposition"))
		if disp == "attachment" || dparams["filename"] != "" || params["name"] != "" || !strings.HasPrefix(mt, "text/") {
			inAttachment = inAttachment || has
		} else {
			inText = inText || has
		}
	}
	walk(m.Header, m.Body, 0)
	return
}

// FuzzHiddenPayload mutates the glue around an attachment that carries a
// marker: the boundary line before it, its header, what follows. Whenever
// the standard library sees the marker only inside attachments, our
// rebuild under the strict policy must not let it reach the output, in any
// form: two parsers disagreeing may lose content, never smuggle it.
func FuzzHiddenPayload(f *testing.F) {
	strictYAML, err := os.ReadFile("../policy/examples/strict.yaml")
	if err != nil {
		f.Fatal(err)
	}
	strict, err := policy.Parse("strict.yaml", strictYAML, policy.DefaultClauses())
	if err != nil {
		f.Fatal(err)
	}
	rb := &Rebuilder{Policy: strict, Limits: Limits{MaxDepth: 8, MaxParts: 50}}
	for _, g := range [][3]string{
		{"--b\r\n", "", "--b--\r\n"},
		{"--bX\r\n", "", "--b--\r\n"},
		{"--b  \r\n", "Content-Transfer-Encoding: base64\r\n", "--b--\r\n"},
		{"--b\r\n", "Content-Type: text/plain\r\n", ""},
		{"\r\n--b\r\n", "Content-Disposition: inline\r\n", "--b--\r\nepilogue\r\n"},
	} {
		f.Add(g[0], g[1], g[2])
	}
	f.Fuzz(func(t *testing.T, before, header, after string) {
		msg := []byte("From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain\r\n\r\nbody text\r\n" + before +
			"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=x.exe\r\n" + header +
			"\r\n" + hiddenMarker + "\r\n" + after)
		inAttachment, inText := stdlibSees(msg)
		if !inAttachment || inText {
			return // not hidden from the other parser's point of view
		}
		res, err := rb.Rebuild(testEnvelope, bytes.NewReader(msg))
		if err != nil {
			t.Fatal(err)
		}
		out, err := parseOutput(res.Message)
		if err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		if strings.Contains(out.text, hiddenMarker) || bytes.Contains(res.Message, []byte(hiddenMarker)) {
			t.Fatalf("the hidden payload reached the output\ninput:\n%q\nbody:\n%s", msg, out.text)
		}
	})
}
