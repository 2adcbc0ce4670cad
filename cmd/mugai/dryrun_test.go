package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dryPolicy has rules on the sender, the recipients and authentication,
// each before a rule that would decide the CSV without them.
const dryPolicy = `name: dry run
authentication: {authserv_ids: [mx.city.example.lg.jp]}
rules:
  - id: body
    clause: "6(6)"
    match: {role: body}
    action: textify
    reason: {ja: "本文", en: "body"}
  - id: partner-office
    clause: "6(6)"
    match: {role: attachment, type: text/csv, sender: "*.lg.jp"}
    action: keep
    reason: {ja: "連携自治体", en: "partner"}
  - id: signed
    clause: "6(6)"
    match: {role: attachment, type: text/csv, authenticated: dmarc}
    action: disarm
    reason: {ja: "認証済み", en: "authenticated"}
  - id: to-it
    clause: "6(7)"
    match: {role: attachment, recipient: "it@city.example.lg.jp"}
    action: keep
    reason: {ja: "情報政策課", en: "IT"}
  - id: csv-strip
    clause: "6(6)"
    match: {role: attachment, type: text/csv}
    action: strip
    reason: {ja: "表", en: "tables"}
`

func dryMessage(top string) string {
	return top + "From: a@example.com\r\nTo: b@city.example.lg.jp\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n--b\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=list.csv\r\n\r\na,b\r\n1,2\r\n--b--\r\n"
}

// TestPolicyTestEnvelope: policy test gives the rebuild the envelope of
// the flags, else of the header (Return-Path; Delivered-To before
// X-Original-To before To), says which it assumed, and names each rule it
// could not evaluate for lack of data next to the part's decision.
func TestPolicyTestEnvelope(t *testing.T) {
	dir := t.TempDir()
	pol := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(pol, []byte(dryPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(name, top string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(dryMessage(top)), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := write("plain.eml", "")
	delivered := write("delivered.eml", "Return-Path: <soumu@town.example.lg.jp>\r\nDelivered-To: it@city.example.lg.jp\r\nX-Original-To: x@city.example.lg.jp\r\n")
	original := write("original.eml", "X-Original-To: it@city.example.lg.jp\r\n")
	nullSender := write("null.eml", "Return-Path: <>\r\n")
	signed := write("signed.eml", "Authentication-Results: mx.city.example.lg.jp; dmarc=pass header.from=example.com\r\n")
	tests := []struct {
		name string
		args []string
		want []string // lines (regexps) in the output
		not  []string
	}{
		// nothing given: the sender is missing, the recipients come from To
		{"no envelope", []string{plain}, []string{
			`envelope: from none \(pass -from\); rcpt b@city\.example\.lg\.jp \(To\); client -`,
			`(?m)^2\s+strip\s+csv-strip\s`,
			`part 2, decided by csv-strip: rule partner-office not applied: no envelope sender \(pass -from\)`,
			`rule signed not applied: no envelope sender \(pass -from\); no Authentication-Results from a trusted authserv-id \(mx\.city\.example\.lg\.jp\) in the message`,
		}, []string{`to-it not applied`}},
		// the flags give the envelope: the partner rule decides, nothing is reported
		{"flags", []string{"-from", "soumu@town.example.lg.jp", "-rcpt", "b@city.example.lg.jp", "-client", "192.0.2.7", plain}, []string{
			`envelope: from <soumu@town\.example\.lg\.jp> \(-from\); rcpt b@city\.example\.lg\.jp \(-rcpt\); client 192\.0\.2\.7`,
			`(?m)^2\s+keep\s+partner-office\s`,
		}, []string{`not applied`}},
		// the header gives it: Return-Path, and Delivered-To before X-Original-To
		{"header", []string{delivered}, []string{
			`envelope: from <soumu@town\.example\.lg\.jp> \(Return-Path\); rcpt it@city\.example\.lg\.jp \(Delivered-To\)`,
			`(?m)^2\s+keep\s+partner-office\s`,
		}, []string{`not applied`}},
		// X-Original-To before To: the recipient rule decides
		{"X-Original-To", []string{"-from", "a@example.com", original}, []string{
			`rcpt it@city\.example\.lg\.jp \(X-Original-To\)`, `(?m)^2\s+keep\s+to-it\s`,
			`rule signed not applied: no Authentication-Results from a trusted authserv-id`,
		}, []string{`no envelope sender`}},
		// -rcpt overrides the header
		{"-rcpt wins", []string{"-rcpt", "it@city.example.lg.jp", "-from", "a@example.com", delivered}, []string{
			`rcpt it@city\.example\.lg\.jp \(-rcpt\)`, `from <a@example\.com> \(-from\)`, `(?m)^2\s+keep\s+to-it\s`,
		}, nil},
		// Return-Path: <> is the null sender, known
		{"null sender", []string{nullSender}, []string{`envelope: from <> \(Return-Path\)`}, []string{`no envelope sender`}},
		// a trusted Authentication-Results and a sender: the authenticated rule decides
		{"authenticated", []string{"-from", "a@example.com", signed}, []string{`(?m)^2\s+disarm\s+signed\s`}, []string{`not applied`}},
	}
	for _, tc := range tests {
		code, out, stderr := runCLI(t, append([]string{"policy", "test"}, append(tc.args[:len(tc.args)-1:len(tc.args)-1], pol, tc.args[len(tc.args)-1])...)...)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", tc.name, code, stderr)
			continue
		}
		for _, w := range tc.want {
			if !regexp.MustCompile(w).MatchString(out) {
				t.Errorf("%s: no %q in\n%s", tc.name, w, out)
			}
		}
		for _, n := range tc.not {
			if regexp.MustCompile(n).MatchString(out) {
				t.Errorf("%s: %q in\n%s", tc.name, n, out)
			}
		}
	}
	if code, _, stderr := runCLI(t, "policy", "test", "-client", "nowhere", pol, plain); code != 2 || !strings.Contains(stderr, "-client") {
		t.Errorf("a bad -client: exit %d %s", code, stderr)
	}
}

// TestSanitizeEnvelope: sanitize takes the same envelope flags; with
// -explain it says which envelope it assumed and what it could not
// evaluate.
func TestSanitizeEnvelope(t *testing.T) {
	dir := t.TempDir()
	pol := filepath.Join(dir, "p.yaml")
	msg := filepath.Join(dir, "m.eml")
	if err := os.WriteFile(pol, []byte(dryPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(msg, []byte(dryMessage("")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "sanitize", "-policy", pol, "-explain", msg)
	if code != 0 || !strings.Contains(stderr, "envelope: from none (pass -from)") ||
		!strings.Contains(stderr, "rule partner-office not applied: no envelope sender (pass -from)") {
		t.Errorf("no envelope: exit %d\n%s", code, stderr)
	}
	code, out, stderr := runCLI(t, "sanitize", "-policy", pol, "-explain", "-from", "soumu@town.example.lg.jp", "-client", "192.0.2.7", msg)
	if code != 0 || strings.Contains(stderr, "not applied") || !regexp.MustCompile(`(?m)^2\s+keep\s+partner-office\s`).MatchString(stderr) ||
		!strings.Contains(stderr, "(-from); rcpt b@city.example.lg.jp (To); client 192.0.2.7") {
		t.Errorf("with -from: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(out, "\r\nSubject: x\r\n") {
		t.Errorf("no rebuilt message on stdout:\n%s", out)
	}
}

// FuzzDryEnvelope: any header gives an envelope without panicking, and
// every recipient taken from it is a non-empty address on one line.
func FuzzDryEnvelope(f *testing.F) {
	f.Add([]byte(dryMessage("Return-Path: <a@b.example>\r\nDelivered-To: c@d.example\r\n")))
	f.Add([]byte("Return-Path: <>\r\nX-Original-To: \"x\" <y@z>, =?utf-8?b?5pel?= <w@v>\r\n\r\n"))
	f.Add([]byte("Return-Path: <a\r\nTo: ,,<>\r\n"))
	var e envFlags
	f.Fuzz(func(t *testing.T, msg []byte) {
		d := e.forMessage(msg)
		for _, r := range d.env.Rcpts {
			if r == "" || strings.ContainsAny(r, "\r\n") {
				t.Fatalf("recipient %q from %q", r, msg)
			}
		}
		if strings.ContainsAny(d.env.From, "\r\n") {
			t.Fatalf("sender %q", d.env.From)
		}
	})
}

// TestDryEnvelopeTopmost: Delivered-To and X-Original-To are written by
// the last delivery at the top of the header, one recipient each; the
// ones below are the sender's (a forged Delivered-To) or an earlier
// hop's, and the dry run takes only the topmost, as the gateway's
// envelope had only that recipient.
func TestDryEnvelopeTopmost(t *testing.T) {
	var e envFlags
	for _, k := range []string{"Delivered-To", "X-Original-To"} {
		msg := k + ": staff@city.example.lg.jp\r\nFrom: a@b.example\r\n" + k + ": boss@partner.example\r\nSubject: x\r\n\r\nhi\r\n"
		d := e.forMessage([]byte(msg))
		if d.rcptSrc != k || len(d.env.Rcpts) != 1 || d.env.Rcpts[0] != "staff@city.example.lg.jp" {
			t.Errorf("%s: rcpts %q from %q", k, d.env.Rcpts, d.rcptSrc)
		}
	}
}
