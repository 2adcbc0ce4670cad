package smtpd

import (
	"strings"
	"testing"
)

func bdat(chunk string, last bool) string {
	cmd := "BDAT " + itoa(len(chunk))
	if last {
		cmd += " LAST"
	}
	return cmd + "\r\n" + chunk
}

// TestBDAT: exact counts, CRLF across chunk boundaries, strict line
// endings, the size limit; a faulty chunk is answered at its end and the
// transfer's next chunks each get the same reply until LAST, after which
// the session is in sync.
func TestBDAT(t *testing.T) {
	_, rec, addr := start(t, &Server{MaxMessageBytes: 100})
	next := "MAIL FROM:<a@example.jp>\r\nRCPT TO:<b@example.jp>\r\n" + bdat("ok\r\n", true) + "QUIT\r\n"
	cases := []struct {
		name, script string
		want         []string
		msg          string // the first message the session read to its end
	}{
		{"one chunk", bdat("a\r\nb\r\n", true) + "QUIT\r\n",
			[]string{"250 2.0.0 Ok: queued", "221"}, "a\r\nb\r\n"},
		{"CR LF across chunks", bdat("a\r", false) + "NOOP\r\n" + bdat("\nb\r\n", true) + "QUIT\r\n",
			[]string{"250 2.0.0 Ok: chunk", "250 2.0.0 Ok", "250 2.0.0 Ok: queued", "221"}, "a\r\nb\r\n"},
		{"empty last", bdat("a\r\n.\r\n", false) + bdat("", true) + "QUIT\r\n",
			[]string{"250 2.0.0 Ok: chunk", "250 2.0.0 Ok: queued", "221"}, "a\r\n.\r\n"},
		{"bare LF in the first of three", bdat("a\nMAIL FROM:<x@y>\r\n", false) + bdat("b\r\n", false) + bdat("c\r\n", true) + next,
			[]string{"550 5.6.0", "550 5.6.0", "550 5.6.0", "250 2.0.0 Sender ok", "250 2.0.0 Recipient ok", "250 2.0.0 Ok: queued", "221"}, "ok\r\n"},
		{"CR at the end of the last", bdat("a\r", true) + next,
			[]string{"550 5.6.0", "250 2.0.0", "250 2.0.0", "250 2.0.0 Ok: queued", "221"}, "ok\r\n"},
		{"NUL", bdat("a\x00\r\n", true) + next,
			[]string{"550 5.6.0 NUL", "250 2.0.0", "250 2.0.0", "250 2.0.0 Ok: queued", "221"}, "ok\r\n"},
		{"too big", bdat(strings.Repeat("x\r\n", 30), false) + bdat(strings.Repeat("y\r\n", 30), true) + next,
			[]string{"250 2.0.0 Ok: chunk", "552 5.3.4", "250 2.0.0", "250 2.0.0", "250 2.0.0 Ok: queued", "221"}, "ok\r\n"},
		// RSET between chunks aborts the transfer: no reply to it, the RSET is run.
		{"aborted", bdat("a\r\n", false) + "RSET\r\n" + next,
			[]string{"250 2.0.0 Ok: chunk", "250 2.0.0 Ok", "250 2.0.0", "250 2.0.0", "250 2.0.0 Ok: queued", "221"}, "ok\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rec.messages())
			lines := dialogue(t, addr, envelope+tc.script)
			wantReplies(t, lines[len(lines)-len(finals(lines))+3:], tc.want...)
			if m := rec.messages(); len(m) != before+1 || m[before] != tc.msg {
				t.Errorf("messages %q, want %q after %d", m, tc.msg, before)
			}
		})
	}
	// Without a transaction the chunk is discarded, not run as commands.
	wantReplies(t, dialogue(t, addr, "EHLO c.test\r\n"+bdat("NOOP\r\n", true)+"QUIT\r\n"), "250 ", "503 5.5.1", "221")
}
