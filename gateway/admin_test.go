package gateway

import (
	"bytes"
	"errors"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"mugai/sanitize/mailwrite"
)

// hostileReason tries every way of starting a new header or line, of
// hiding text, and of forging an encoded word, and is far too long.
var hostileReason = "監査\r\nBcc: x@y\n\rX-Evil: 1\u2028forged line\u2029\u0085next\u202egnp.exe\u200b\x00\x1b[31m =?utf-8?b?4oCu?= " +
	strings.Repeat("長い理由 long reason ", 40)

func TestCheckOperator(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		// plain login names and addresses
		{"yamada", true},
		{"yamada.t@city.example.lg.jp", true},
		{"it-admin_2+audit", true},
		{strings.Repeat("a", 64), true},
		// empty or too long
		{"", false},
		{strings.Repeat("a", 65), false},
		{strings.Repeat("a", 200), false},
		// header and line forgery
		{"a\r\nBcc: x@y", false},
		{"a\nb", false},
		{"a\u2028b", false},
		{"a\u2029b", false},
		{"a\u0085b", false},
		{"x:y", false},
		// spaces, controls, format characters, other scripts
		{" yamada", false},
		{"yamada ", false},
		{"a b", false},
		{"a\tb", false},
		{"a\x00b", false},
		{"a\u200bb", false},
		{"a\u202eb", false},
		{"山田", false},
		{"аdmin", false}, // Cyrillic а
		{"a\xffb", false},
	}
	for _, tc := range tests {
		err := CheckOperator(tc.name)
		if tc.ok != (err == nil) {
			t.Errorf("CheckOperator(%q) = %v, want ok %v", tc.name, err, tc.ok)
		}
		if err != nil && (!errors.Is(err, ErrBadOperator) || !strings.Contains(err.Error(), OperatorRule)) {
			t.Errorf("CheckOperator(%q): %v does not name the rule", tc.name, err)
		}
	}
}

func TestCleanReason(t *testing.T) {
	tests := []struct{ in, want string }{
		// ordinary text stays
		{"audit request", "audit request"},
		{"監査のため (2026-11)", "監査のため (2026-11)"},
		// every line break, control and format character is one space
		{"a\r\nBcc: x@y", "a Bcc: x@y"},
		{"a\u2028b\u2029c\u0085d\ve\ff", "a b c d e f"},
		{"a\u202eb\u200bc\u2066d\ufeffe", "a b c d e"},
		{"a\x00\x1b[31mb", "a [31mb"},
		{"  spaced \t out\u3000 ", "spaced out"},
		{"bad \xff utf-8", "bad \uFFFD utf-8"},
		// nothing but noise is no reason
		{"\r\n\u2028\u200b ", ""},
	}
	for _, tc := range tests {
		if got := CleanReason(tc.in); got != tc.want {
			t.Errorf("CleanReason(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := CleanReason(hostileReason)
	if n := utf8.RuneCountInString(long); n != MaxReason || !strings.HasSuffix(long, "…") {
		t.Errorf("a long reason is %d characters (%q), want %d ending in …", n, long, MaxReason)
	}
}

// TestReasonField: whatever the text, a release's reason is one header
// field (written as Release writes it), folded into short lines, decoding
// to the cleaned text exactly: ASCII that looks like an encoded word is
// encoded itself, so that it reads literally.
func TestReasonField(t *testing.T) {
	for _, in := range []string{hostileReason, "plain ascii reason", "=?utf-8?b?4oCu?= forged", strings.Repeat("x", 300), "短い"} {
		var h mailwrite.Header
		h.AddText("X-Mugai-Release-Reason", CleanReason(in))
		f := string(h.Fields())
		hdr, dec := parseHeader(t, f)
		if got := hdr["X-Mugai-Release-Reason"]; len(hdr) != 1 || len(got) != 1 {
			t.Fatalf("%q: fields %v", f, hdr)
		}
		if want := CleanReason(in); dec["X-Mugai-Release-Reason"] != want {
			t.Errorf("%q decodes to %q, want %q", f, dec["X-Mugai-Release-Reason"], want)
		}
		for _, line := range strings.Split(strings.TrimSuffix(f, "\r\n"), "\r\n") {
			if len(line) > 998 || (len(line) > 100 && strings.Contains(line, " ")) {
				t.Errorf("%q: line of %d characters", f, len(line))
			}
		}
		if strings.Count(f, "\n") != strings.Count(f, "\r\n") || strings.Count(f, "\r") != strings.Count(f, "\r\n") {
			t.Errorf("%q: bare CR or LF", f)
		}
	}
}

// parseHeader reads a header block and returns its fields, raw and with
// encoded words decoded.
func parseHeader(t *testing.T, block string) (mail.Header, map[string]string) {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(block + "\r\n"))
	if err != nil {
		t.Fatalf("%q: %v", block, err)
	}
	dec := map[string]string{}
	for k, vs := range m.Header {
		d, err := new(mime.WordDecoder).DecodeHeader(vs[0])
		if err != nil {
			t.Fatalf("%s: %q: %v", k, vs[0], err)
		}
		dec[k] = d
	}
	return m.Header, dec
}

// TestReleaseAdminStrings: Release itself refuses a hostile operator
// (whoever calls it) and writes a hostile reason as one bounded, encoded
// header field, the same text as the audit record.
func TestReleaseAdminStrings(t *testing.T) {
	tg := startGateway(t, nil)
	reply, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: x\r\n\r\nx\r\n")
	if err != nil {
		t.Fatal(err)
	}
	_, id, _ := strings.Cut(reply, "queued as ")
	release := func(operator, reason string) (Released, error) {
		return Release(tg.cfg, tg.g.originals, tg.g.spool, tg.g.audit, ReleaseRequest{ID: id, Operator: operator, Reason: reason, Now: time.Now()})
	}
	// The sent message may be delivered any moment: what must hold is that
	// no refused release spools anything.
	before := map[string]bool{}
	if waiting, _, err := tg.g.spool.List(); err == nil {
		for _, e := range waiting {
			before[e.ID] = true
		}
	}
	for _, op := range []string{"a\r\nBcc: x@y", "a\u2028b", strings.Repeat("a", 200), ""} {
		if _, err := release(op, "needed"); !errors.Is(err, ErrBadOperator) {
			t.Errorf("operator %q: %v", op, err)
		}
	}
	if _, err := release("yamada", "\r\n\u2028"); err == nil {
		t.Error("a reason of nothing but line breaks was accepted")
	}
	waiting, _, err := tg.g.spool.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range waiting {
		if !before[e.ID] {
			t.Fatalf("a refused release spooled %s", e.ID)
		}
	}
	rel, err := release("yamada", hostileReason)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := tg.g.spool.Message(rel.SpoolID)
	if err != nil {
		t.Fatal(err)
	}
	block, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	hdr, dec := parseHeader(t, string(block))
	if len(hdr["Bcc"]) != 0 || len(hdr["X-Evil"]) != 0 || len(hdr["X-Mugai-Release-Reason"]) != 1 {
		t.Fatalf("released header: %q", block)
	}
	got := dec["X-Mugai-Release-Reason"]
	if got != CleanReason(hostileReason) || strings.ContainsAny(got, "\r\n\u2028\u2029\u0085\u202e\u200b\x00") {
		t.Errorf("reason header decodes to %q", got)
	}
	if dec["X-Mugai-Released"] != id+" by yamada" {
		t.Errorf("X-Mugai-Released: %q", dec["X-Mugai-Released"])
	}
	for _, r := range auditEvents(t, tg.cfg.Audit, id) {
		if r["event"] == "released" && r["reason"] != CleanReason(hostileReason) {
			t.Errorf("audited reason %q", r["reason"])
		}
	}
}
