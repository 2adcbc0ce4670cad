package sanitize

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"mugai/policy"
)

func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// structureCases are messages whose structure is broken or beyond limits.
// Each must come out as a notice plus whatever body text is unambiguous,
// with the hidden payload gone and a decision naming what was found.
var structureCases = []struct {
	name    string
	msg     string
	reasons []policy.Reason // the set of reasons expected among the decisions
	body    string          // expected in the body text ("" = none required)
}{
	// Structure the walker refuses to guess about
	{name: "duplicate content-type", msg: crlf("From: a@example.com\nContent-Type: text/plain\nContent-Type: application/octet-stream\n\nATTACHED-PAYLOAD\n"),
		reasons: []policy.Reason{policy.ReasonMalformedMIME}},
	{name: "duplicate transfer encoding", msg: crlf("From: a@example.com\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\nContent-Transfer-Encoding: 7bit\n\nATTACHED-PAYLOAD\n"),
		reasons: []policy.Reason{policy.ReasonMalformedMIME}},
	{name: "multipart without boundary", msg: crlf("From: a@example.com\nContent-Type: multipart/mixed\n\n--x\n\nATTACHED-PAYLOAD\n--x--\n"),
		reasons: []policy.Reason{policy.ReasonMalformedMIME}},
	{name: "content-type without slash", msg: crlf("From: a@example.com\nContent-Type: texthtml\n\nATTACHED-PAYLOAD\n"),
		reasons: []policy.Reason{policy.ReasonMalformedMIME}},
	{name: "missing final boundary", msg: crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhello\n--b\nContent-Type: application/zip\nContent-Disposition: attachment; filename=a.zip\n\nATTACHED-PAYLOAD\n"),
		reasons: []policy.Reason{policy.ReasonBodyText, policy.ReasonMalformedMIME}, body: "hello"},
	// Transfer encodings
	{name: "unknown transfer encoding", msg: crlf("From: a@example.com\nContent-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 ATTACHED-PAYLOAD\n"),
		reasons: []policy.Reason{policy.ReasonUnknownEncoding}},
	{name: "corrupt base64", msg: crlf("From: a@example.com\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\nQVRUQUNIRUQtUEFZTE9BRA==*junk*\n"),
		reasons: []policy.Reason{policy.ReasonEncodingError}},
	{name: "base64 without padding", msg: crlf("From: a@example.com\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQ\n"),
		reasons: []policy.Reason{policy.ReasonBodyText}, body: "hello world"},
	// Charsets
	{name: "unknown charset", msg: crlf("From: a@example.com\nContent-Type: text/plain; charset=x-klingon\n\nplain words\n"),
		reasons: []policy.Reason{policy.ReasonUnknownCharset}, body: "plain words"},
	{name: "invalid utf-8 dropped", msg: "From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nok\xff\xfe text\r\n",
		reasons: []policy.Reason{policy.ReasonUndecodableText}, body: "ok text"},
	// Unparseable header: a notice-only message
	{name: "header continuation first", msg: crlf(" bad: start\nFrom: a@example.com\n\nATTACHED-PAYLOAD\n"),
		reasons: []policy.Reason{policy.ReasonUnparseable}},
	// Containers
	// Parser-differential attacks (issue: hostile MIME)
	{name: "boundary in RFC 2231 continuation form", msg: crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary*0=\"ab\"; boundary*1=\"cd\"\n\n--abcd\nContent-Type: text/plain\n\nATTACHED-PAYLOAD\n--abcd--\n"),
		reasons: []policy.Reason{policy.ReasonMalformedMIME}},
	{name: "boundary line with trailing junk", msg: crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody\n--bX\nContent-Type: application/octet-stream\n\nATTACHED-PAYLOAD\n--b--\n"),
		reasons: []policy.Reason{policy.ReasonMalformedMIME}},
	{name: "boundary line with trailing white space", msg: crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b   \nContent-Type: text/plain\n\nhello\n--b--\n"),
		reasons: []policy.Reason{policy.ReasonBodyText}, body: "hello"},
	{name: "part after the final boundary", msg: crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhello\n--b--\n--b\nContent-Type: application/zip\n\nATTACHED-PAYLOAD\n--b--\n"),
		reasons: []policy.Reason{policy.ReasonBodyText, policy.ReasonHiddenContent}, body: "hello"},
	{name: "content in the preamble", msg: crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\nContent-Type: text/html\n\n<p>ATTACHED-PAYLOAD</p>\n--b\nContent-Type: text/plain\n\nhello\n--b--\n"),
		reasons: []policy.Reason{policy.ReasonHiddenContent, policy.ReasonBodyText}, body: "hello"},
	{name: "ordinary preamble", msg: crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\nThis is a multi-part message in MIME format.\n--b\nContent-Type: text/plain\n\nhello\n--b--\n"),
		reasons: []policy.Reason{policy.ReasonBodyText}, body: "hello"},
	// RFC 2045 6.7: an invalid "=" sequence is kept literally, in the text
	// staff see; nothing can hide there.
	{name: "invalid quoted-printable", msg: crlf("From: a@example.com\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nvisible =ZZ text\n"),
		reasons: []policy.Reason{policy.ReasonBodyText}, body: "visible =ZZ text"},
	{name: "content-type with a comment", msg: crlf("From: a@example.com\nContent-Type: text/plain (note); charset=us-ascii\n\nATTACHED-PAYLOAD\n"),
		reasons: []policy.Reason{policy.ReasonMalformedMIME}},
	{name: "uuencode in the body", msg: crlf("From: a@example.com\nContent-Type: text/plain\n\nsee below\nbegin 644 invoice.exe\nMATTACHED-PAYLOAD\n`\nend\nthanks\n"),
		reasons: []policy.Reason{policy.ReasonBodyText, policy.ReasonEmbeddedFile}, body: "thanks"},
	{name: "yEnc in the body", msg: crlf("From: a@example.com\nContent-Type: text/plain\n\nsee below\n=ybegin line=128 size=16 name=a.exe\nATTACHED-PAYLOAD\n=yend size=16\nthanks\n"),
		reasons: []policy.Reason{policy.ReasonBodyText, policy.ReasonEmbeddedFile}, body: "thanks"},
	{name: "BinHex in the body", msg: crlf("From: a@example.com\nContent-Type: text/plain\n\nsee below\n(This file must be converted with BinHex 4.0)\n:ATTACHED-PAYLOAD\nmore:\nthanks\n"),
		reasons: []policy.Reason{policy.ReasonBodyText, policy.ReasonEmbeddedFile}, body: "thanks"},
	{name: "inline executable", msg: crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody\n--b\nContent-Type: application/octet-stream\nContent-Disposition: inline; filename=setup.exe\n\nMZ ATTACHED-PAYLOAD\n--b--\n"),
		reasons: []policy.Reason{policy.ReasonBodyText, policy.ReasonDangerousType}, body: "body"},
	{name: "x-gzip64 transfer encoding", msg: crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody\n--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: x-gzip64\n\nATTACHED-PAYLOAD\n--b--\n"),
		reasons: []policy.Reason{policy.ReasonBodyText, policy.ReasonUnknownEncoding}, body: "body"},
	{name: "empty boundary", msg: crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=\"\"\n\n--\nContent-Type: text/plain\n\nATTACHED-PAYLOAD\n----\n"),
		reasons: []policy.Reason{policy.ReasonMalformedMIME}},
	{name: "duplicate boundary parameter", msg: crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=a; boundary=b\n\n--a\nContent-Type: text/plain\n\nATTACHED-PAYLOAD\n--b\nContent-Type: text/plain\n\nATTACHED-PAYLOAD\n--a--\n--b--\n"),
		reasons: []policy.Reason{policy.ReasonMalformedMIME}},
	// Filename tricks: the name must not decide what the part is.
	{name: "right-to-left override in the filename", msg: crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody\n--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename*=utf-8''invoice%E2%80%AEfdp.exe\n\nMZ ATTACHED-PAYLOAD\n--b--\n"),
		reasons: []policy.Reason{policy.ReasonBodyText, policy.ReasonDangerousType}, body: "body"},
	{name: "double extension", msg: crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody\n--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=invoice.pdf.exe\n\nMZ ATTACHED-PAYLOAD\n--b--\n"),
		reasons: []policy.Reason{policy.ReasonBodyText, policy.ReasonDangerousType}, body: "body"},
	{name: "name and filename disagree", msg: crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody\n--b\nContent-Type: text/plain; name=setup.exe\nContent-Disposition: attachment; filename=readme.txt\n\nATTACHED-PAYLOAD\n--b--\n"),
		reasons: []policy.Reason{policy.ReasonBodyText, policy.ReasonDangerousType}, body: "body"},
	{name: "html attachment is not the body", msg: crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody\n--b\nContent-Type: text/html\nContent-Disposition: attachment; filename=page.html\n\n<p>ATTACHED-PAYLOAD</p>\n--b--\n"),
		reasons: []policy.Reason{policy.ReasonBodyText, policy.ReasonUnsupportedType}, body: "body"},
}

func TestStructureCases(t *testing.T) {
	for _, tc := range structureCases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := testRebuilder().Rebuild(testEnvelope, strings.NewReader(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			out, err := parseOutput(res.Message)
			if err != nil {
				t.Fatalf("output does not parse: %v", err)
			}
			if strings.Contains(out.text, "ATTACHED-PAYLOAD") || strings.Contains(string(res.Message), "ATTACHED-PAYLOAD") {
				t.Errorf("payload reached the output:\n%s", out.text)
			}
			if strings.ContainsRune(out.text, '\u202e') {
				t.Errorf("a right-to-left override reached the text staff read:\n%s", out.text)
			}
			var got []policy.Reason
			for _, d := range res.Decisions {
				got = append(got, d.Reason)
				if d.Reason != policy.ReasonBodyText && d.Reason != policy.ReasonUnknownCharset && d.Reason != policy.ReasonUndecodableText &&
					d.Action != policy.ActionStrip && d.Reason != policy.ReasonEmbeddedFile {
					t.Errorf("part %s with reason %s was not stripped (%s)", d.Path, d.Reason, d.Action)
				}
			}
			if !slices.Equal(got, tc.reasons) {
				t.Errorf("reasons = %v, want %v", got, tc.reasons)
			}
			if tc.body != "" && !strings.Contains(out.text, tc.body) {
				t.Errorf("body lacks %q:\n%s", tc.body, out.text)
			}
		})
	}
}

// TestLimits checks the depth and part-count limits: the walk stops, the
// rest is removed with one decision, and the body before it survives.
func TestLimits(t *testing.T) {
	rb := &Rebuilder{Policy: policy.Default(), Limits: Limits{MaxDepth: 5, MaxParts: 10}}

	t.Run("depth", func(t *testing.T) {
		// 1000 levels: must stay fast, since we stop at 5.
		var b strings.Builder
		b.WriteString("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
		for i := 0; i < 1000; i++ {
			fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i, i+1)
		}
		b.WriteString("--b1000\r\nContent-Type: text/plain\r\n\r\nATTACHED-PAYLOAD\r\n")
		res, err := rb.Rebuild(testEnvelope, strings.NewReader(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Decisions) != 1 || res.Decisions[0].Reason != policy.ReasonDepthLimit {
			t.Fatalf("decisions = %+v, want one depth-limit", res.Decisions)
		}
		if strings.Contains(string(res.Message), "ATTACHED-PAYLOAD") {
			t.Error("payload beyond the depth limit reached the output")
		}
	})

	t.Run("parts", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfirst\r\n")
		for i := 0; i < 50; i++ {
			fmt.Fprintf(&b, "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=f%d.txt\r\n\r\nATTACHED-PAYLOAD\r\n", i)
		}
		b.WriteString("--b--\r\n")
		res, err := rb.Rebuild(testEnvelope, strings.NewReader(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		last := res.Decisions[len(res.Decisions)-1]
		if len(res.Decisions) != 10 || last.Reason != policy.ReasonPartLimit {
			t.Fatalf("got %d decisions, last %s; want 10 ending in part-limit", len(res.Decisions), last.Reason)
		}
		out, _ := parseOutput(res.Message)
		if !strings.Contains(out.text, "first") {
			t.Error("body before the limit was lost")
		}
	})

	t.Run("header bytes", func(t *testing.T) {
		rb := &Rebuilder{Policy: policy.Default(), Limits: Limits{MaxHeaderBytes: 2048}}
		msg := "From: a@example.com\r\nX-Big: " + strings.Repeat("A", 5000) + "\r\n\r\nATTACHED-PAYLOAD\r\n"
		res, err := rb.Rebuild(testEnvelope, strings.NewReader(msg))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Decisions) != 1 || res.Decisions[0].Reason != policy.ReasonHeaderLimit || res.Decisions[0].Path != "0" {
			t.Fatalf("decisions = %+v", res.Decisions)
		}
		if _, err := parseOutput(res.Message); err != nil {
			t.Fatalf("notice-only output does not parse: %v", err)
		}
	})
}
