package gateway

import (
	"slices"
	"strings"
	"testing"
)

// finalReplies keeps the last line of each reply after the banner (a
// multi-line EHLO reply is one reply).
func finalReplies(lines []string) []string {
	var out []string
	for i, l := range lines {
		if i == 0 && strings.HasPrefix(l, "220 ") || len(l) < 4 || l[3] != ' ' {
			continue
		}
		out = append(out, l)
	}
	return out
}

// TestCommandCounter: accept.max_commands_before_mail counts parsed
// command lines (the verb at the start of the line, any case), never bytes
// elsewhere in a line, message data or BDAT chunks; a client over it gets
// 421 4.7.0 after exactly the allowed replies.
func TestCommandCounter(t *testing.T) {
	const limit = 5
	tg := startGateway(t, func(c *Config) { c.Accept.MaxCmdsBeforeMail = limit })
	tooMany := "421 4.7.0 " + tg.cfg.Hostname + " Too many commands before MAIL"
	body := "From: a@example.jp\r\nSubject: c\r\n\r\n" + strings.Repeat("NOOP\r\nMAIL FROM:<x@example.jp>\r\nRSET\r\nHELO x\r\n", 10)
	cases := []struct {
		name   string
		script string
		cut    int // replies before the 421; -1: never cut (ends with 221)
	}{
		// Cut off: the limit's worth of replies, then 421.
		{"bypass: MAIL FROM: later in a NOOP line", "NOOP MAIL FROM:<a@b>\r\n" + strings.Repeat("NOOP\r\n", 50), limit},
		{"verbs in one write", "HELO a\r\nEHLO a\r\nrset\r\nVRFY postmaster\r\nHELP\r\nXYZZY plugh\r\nnoop\r\nQUIT\r\n", limit},
		{"empty and mangled lines", "\r\nEHLO a\r\n  MAIL FROM:<a@example.jp>\r\nNOOP\r\nnoop MAIL FROM:<a@example.jp>\r\nQUIT\r\n", limit},
		{"MAIL refused counts", strings.Repeat("MAIL FROM:<a@example.jp>\r\n", 20), limit + 1},    // before EHLO: 502
		{"STARTTLS refused counts", "EHLO a\r\n" + strings.Repeat("STARTTLS\r\n", 20), limit + 1}, // no TLS configured: 502
		// Counting ends at the first MAIL go-smtp takes.
		{"lower-case mail from", "EHLO a\r\nmail from:<a@example.jp>\r\n" + strings.Repeat("NOOP\r\n", 20) + "QUIT\r\n", -1},
		{"MAIL as the last allowed", "EHLO a\r\n" + strings.Repeat("NOOP\r\n", limit-1) + "MAIL FROM:<a@example.jp>\r\n" + strings.Repeat("NOOP\r\n", 20) + "QUIT\r\n", -1},
		{"data lines that look like commands", "EHLO a\r\nMAIL FROM:<a@example.jp>\r\nRCPT TO:<b@city.example.lg.jp>\r\nDATA\r\n" + body + ".\r\n" +
			strings.Repeat("NOOP\r\n", 10) + "QUIT\r\n", -1},
		{"BDAT chunk holding MAIL FROM:", "EHLO a\r\nMAIL FROM:<a@example.jp>\r\nRCPT TO:<b@city.example.lg.jp>\r\n" +
			"BDAT " + itoa(len(body)) + " LAST\r\n" + body + strings.Repeat("NOOP\r\n", 10) + "QUIT\r\n", -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lines := rawDialogue(t, tg.addr, tc.script)
			got := finalReplies(lines)
			all := strings.Join(lines, "\n")
			if tc.cut < 0 {
				cut := slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, "421") }) // not "421" in a queued id
				if cut || len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "221 ") {
					t.Errorf("a session that reached MAIL was cut:\n%s", all)
				}
				return
			}
			i := 0
			for i < len(got) && !strings.HasPrefix(got[i], "421 ") {
				i++
			}
			if i != tc.cut || i == len(got) || !strings.HasPrefix(got[i], tooMany) {
				t.Fatalf("want %d replies then %q:\n%s", tc.cut, tooMany, all)
			}
			for _, l := range got[i+1:] {
				if !strings.HasPrefix(l, "421 ") {
					t.Errorf("a command ran after the 421: %q\n%s", l, all)
				}
			}
		})
	}
}
