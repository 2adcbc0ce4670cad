package gateway

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMaxErrorsForgivenAfterMessageAttack2: the deployment the README
// describes (a front Postfix relaying to the gateway over a cached
// connection) carries many senders' mail on one session; a message now
// and then names a recipient who has left (550 5.1.1) beside valid ones.
// As Postfix's smtpd_hard_error_limit ("errors ... without delivering
// mail"; its smtpd forgives earlier errors when a message is queued), the
// errors before an accepted message must not add up over the session:
// counted for ever, every max_errors-th stale recipient cuts the cached
// connection with 421 in the middle of some unrelated sender's
// transaction, deferring that message.
func TestMaxErrorsForgivenAfterMessageAttack2(t *testing.T) {
	list := filepath.Join(t.TempDir(), "recipients")
	if err := os.WriteFile(list, []byte("staff@city.example.lg.jp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const limit, messages = 3, 6
	tg := startGateway(t, func(c *Config) { c.Accept.Recipients = list; c.Accept.MaxErrors = limit })
	script := "EHLO relay.test\r\n"
	for i := range messages {
		script += fmt.Sprintf("MAIL FROM:<s%d@example.jp>\r\nRCPT TO:<left%d@city.example.lg.jp>\r\nRCPT TO:<staff@city.example.lg.jp>\r\n"+
			"DATA\r\nSubject: m%d\r\n\r\nbody\r\n.\r\n", i, i, i)
	}
	lines := rawDialogue(t, tg.addr, script+"QUIT\r\n")
	all := strings.Join(lines, "\n")
	if n := strings.Count(all, "250 2.0.0 Ok: queued"); n != messages || strings.Contains(all, "Too many errors") {
		t.Fatalf("%d of %d messages queued on one relay session:\n%s", n, messages, all)
	}
}
