package smtpd

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	cases := []struct {
		line, verb, arg string
		bad             bool
	}{
		{"EHLO c.test\r\n", "EHLO", "c.test", false},
		{"mail FROM:<a@b>  \r\n", "MAIL", "FROM:<a@b>", false},
		{"NOOP\r\n", "NOOP", "", false},
		{"NOOP\n", "NOOP", "", true},
		{"NO\rOP\r\n", "NO\rOP", "", true},
		{"\r\n", "", "", true},
		{" NOOP\r\n", "", "", true},
		{"STARTTLSX\r\n", "STARTTLSX", "", false},
	}
	for _, tc := range cases {
		verb, arg, bad := parseCommand([]byte(tc.line))
		if verb != tc.verb || string(arg) != tc.arg || (bad != nil) != tc.bad {
			t.Errorf("%q: %q %q %v", tc.line, verb, arg, bad)
		}
	}
}

// FuzzCommandLine: the parsers never panic, and what they accept holds
// together: a command line that parses ended in CRLF and has no CR, LF or
// NUL elsewhere; a path is a mailbox without brackets or spaces (unless
// quoted), followed by nothing or a space; sizes are not negative.
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{"MAIL FROM:<a@b.test> SIZE=10 BODY=8BITMIME SMTPUTF8\r\n", "RCPT TO:<@x,@y:a@b>\r\n",
		"RCPT TO:<\"a>b\"@c>\r\n", "BDAT 10 LAST\r\n", "EHLO x\n", "MAIL FROM:<>\r\n", "BDAT 99999999999999999999\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		verb, arg, bad := parseCommand(line)
		if bad == nil {
			if !bytes.HasSuffix(line, []byte("\r\n")) || bytes.ContainsAny(line[:len(line)-2], "\r\x00") {
				t.Fatalf("%q parsed", line)
			}
			if verb == "" || verb != strings.ToUpper(verb) || strings.Contains(verb, " ") || bytes.ContainsAny(arg, "\r\n") {
				t.Fatalf("%q: verb %q arg %q", line, verb, arg)
			}
		}
		for _, prefix := range []string{"FROM:", "TO:"} {
			rest, ok := cutPrefixFold(arg, prefix)
			if !ok {
				continue
			}
			mbox, after, ok := parsePath(rest, prefix == "FROM:")
			if !ok {
				continue
			}
			if len(after) > 0 && after[0] != ' ' || prefix == "TO:" && mbox == "" {
				t.Fatalf("%q: mailbox %q, then %q", line, mbox, after)
			}
			if !strings.HasPrefix(mbox, `"`) && strings.ContainsAny(mbox, "<> \t") {
				t.Fatalf("%q: mailbox %q", line, mbox)
			}
			if p, ok := parseMailParams(after); ok && p.Size < 0 {
				t.Fatalf("%q: size %d", line, p.Size)
			}
		}
		if n, _, ok := parseBDAT(arg); ok && n < 0 {
			t.Fatalf("%q: BDAT %d", line, n)
		}
	})
}
