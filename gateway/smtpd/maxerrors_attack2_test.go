package smtpd

import (
	"strings"
	"testing"
)

// TestMaxErrorsRecipientOvershootAttack2: an honest client that
// pipelines more recipients than MaxRecipients gets 452 4.5.3 for the
// extra ones (RFC 5321 4.5.3.1.10: it sends them again in another
// transaction) and its message for the ones accepted. Those 452s are the
// server's limit, not the client's error, and reveal nothing about the
// recipients (as Postfix's smtpd_recipient_overshoot_limit, they do not
// count towards the hard error limit): counted, a batch of
// MaxRecipients+MaxErrors recipients is cut before DATA on every retry,
// and the message is never delivered.
func TestMaxErrorsRecipientOvershootAttack2(t *testing.T) {
	const rcptMax, errMax, sent = 3, 3, 8
	_, rec, addr := start(t, &Server{MaxRecipients: rcptMax, MaxErrors: errMax})
	script := "EHLO c.test\r\nMAIL FROM:<a@example.jp>\r\n"
	for i := range sent {
		script += "RCPT TO:<r" + itoa(i) + "@example.jp>\r\n"
	}
	script += "DATA\r\nhello\r\n.\r\nQUIT\r\n"
	want := []string{"250", "250"}
	for i := range sent {
		if i < rcptMax {
			want = append(want, "250")
		} else {
			want = append(want, "452 4.5.3")
		}
	}
	want = append(want, "354", "250 2.0.0", "221")
	wantReplies(t, dialogue(t, addr, script), want...)
	if m := rec.messages(); len(m) != 1 {
		t.Errorf("messages %q", m)
	}
	// Real errors still count: unknown commands after the overshoot.
	lines := dialogue(t, addr, "EHLO c.test\r\n"+strings.Repeat("XYZZY\r\n", errMax+2))
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "421 4.7.0") {
		t.Errorf("errors after the limit: last reply %q", last)
	}
}
