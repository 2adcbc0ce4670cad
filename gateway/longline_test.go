package gateway

import (
	"strings"
	"testing"
)

// TestLineTooLong: a command or data line longer than
// accept.max_line_length gets exactly one "500 5.5.2", nothing of it is
// executed, and the session goes on (RFC 5321 3.8: a server closes only
// after QUIT or with 421).
func TestLineTooLong(t *testing.T) {
	tg := startGateway(t, func(c *Config) { c.Accept.MaxLineLength = 1000 })
	long := strings.Repeat("a", 1200)
	body := "From: a@example.jp\r\nSubject: long\r\n\r\nok\r\n"
	cases := []struct {
		name   string
		script string
		want   []string // reply lines after the EHLO block, in order (prefixes)
	}{
		// Command lines: one 500 5.5.2, the command is not executed.
		{"noop", "NOOP " + long + "\r\nNOOP\r\nQUIT\r\n",
			[]string{"500 5.5.2 Line too long", "250 2.0.0", "221 2.0.0"}},
		{"mail not executed", "MAIL FROM:<a@example.jp> " + long + "\r\nRCPT TO:<b@city.example.lg.jp>\r\nQUIT\r\n",
			[]string{"500 5.5.2 Line too long", "503 5.5.1", "221 2.0.0"}},
		{"long line in pieces", "NOOP " + strings.Repeat("b", 70000) + "\r\nNOOP\r\nQUIT\r\n",
			[]string{"500 5.5.2 Line too long", "250 2.0.0", "221 2.0.0"}},
		{"exactly the limit", "NOOP " + strings.Repeat("c", 1000-len("NOOP \r\n")) + "\r\nQUIT\r\n",
			[]string{"250 2.0.0", "221 2.0.0"}},
		// Data lines: the message is refused with one 500 5.5.2, the rest
		// of the data is drained, and the next transaction works.
		{"data", "MAIL FROM:<a@example.jp>\r\nRCPT TO:<b@city.example.lg.jp>\r\nDATA\r\n" +
			"Subject: x\r\n\r\n" + long + "\r\nmore\r\n.\r\n" +
			"MAIL FROM:<a@example.jp>\r\nRCPT TO:<b@city.example.lg.jp>\r\nDATA\r\n" + body + ".\r\nQUIT\r\n",
			[]string{"250 2.0.0", "250 2.0.0", "354", "500 5.5.2 Line too long", "250 2.0.0", "250 2.0.0", "354", "250 2.0.0 Ok: queued as", "221 2.0.0"}},
		// A BDAT chunk has no lines: a long one passes.
		{"bdat", "MAIL FROM:<a@example.jp>\r\nRCPT TO:<b@city.example.lg.jp>\r\n" +
			"BDAT " + itoa(len(body)+len(long)+2) + " LAST\r\n" + body + long + "\r\nNOOP\r\nQUIT\r\n",
			[]string{"250 2.0.0", "250 2.0.0", "250 2.0.0 Ok: queued as", "250 2.0.0", "221 2.0.0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lines := rawDialogue(t, tg.addr, "EHLO client.test\r\n"+tc.script)
			var got []string
			for _, l := range lines {
				if !strings.HasPrefix(l, "220 ") && !strings.HasPrefix(l, "250-") && !strings.HasPrefix(l, "250 LIMITS") {
					got = append(got, l)
				}
			}
			ok := len(got) == len(tc.want)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.HasPrefix(got[i], tc.want[i])
			}
			if !ok {
				t.Errorf("replies:\n%s\nwant prefixes:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
