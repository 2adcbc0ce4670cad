package smtpd

import (
	"slices"
	"strings"
	"testing"
)

// TestMaxErrors: a session that has been given MaxErrors error replies
// gets 421 4.7.0 and is closed, whatever the errors were (refused
// recipients after an accepted MAIL, commands out of sequence, unknown
// commands, lines too long, a refused message); commands pipelined after
// the limit are never run. The repeated reply to the discarded chunks of
// one failed BDAT transfer counts once; good replies do not count.
func TestMaxErrors(t *testing.T) {
	const limit = 3
	_, rec, addr := start(t, &Server{MaxErrors: limit, MaxLineLength: 100})
	tooMany := "421 4.7.0 mx.test Too many errors"
	env := "EHLO c.test\r\nMAIL FROM:<a@b.test>\r\n"
	cases := []struct {
		name, script string
		want         []string
	}{
		{"rcpt syntax after MAIL", env + strings.Repeat("RCPT TO:bad\r\n", 5) + "RCPT TO:<late@example.jp>\r\n",
			[]string{"250", "250", "501", "501", "501", tooMany}},
		{"out of sequence", strings.Repeat("RCPT TO:<a@example.jp>\r\n", 5), []string{"503", "503", "503", tooMany}},
		{"unknown and too long", "XYZZY\r\nNOOP " + strings.Repeat("x", 200) + "\r\nFOO\r\nNOOP\r\n",
			[]string{"500", "500", "500", tooMany}},
		{"good replies do not count", strings.Repeat("NOOP\r\n", 10) + "XYZZY\r\nXYZZY\r\nQUIT\r\n",
			append(slices.Repeat([]string{"250"}, 10), "500", "500", "221")},
		{"one failed BDAT transfer counts once", env + "RCPT TO:<b@example.jp>\r\n" +
			"BDAT 3\r\na\nb" + "BDAT 1\r\nc" + "BDAT 1\r\nd" + "BDAT 1\r\ne" + "BDAT 1 LAST\r\nf" + "QUIT\r\n",
			[]string{"250", "250", "250", "550", "550", "550", "550", "550", "221"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantReplies(t, dialogue(t, addr, tc.script), tc.want...)
		})
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if got := strings.Join(rec.rcpts, ","); strings.Contains(got, "late@") {
		t.Errorf("a command after the limit was run: %s", got)
	}
}
