package gateway

import (
	"strings"
	"testing"
)

// TestBDATAbortedByClient: a client that sends a chunk without LAST and
// then RSET (or MAIL again) has withdrawn its message (RFC 3030): nothing
// is kept or audited, the log says it at info level, not as a temporary
// failure, and the session goes on to queue the next message.
func TestBDATAbortedByClient(t *testing.T) {
	cfg := testConfig(t, nil)
	tg, lb := startLogged(t, cfg)
	env := "EHLO client.test\r\nMAIL FROM:<a@example.jp>\r\nRCPT TO:<b@city.example.lg.jp>\r\n"
	chunk := "Subject: first\r\n\r\n"
	for _, then := range []string{"RSET\r\n", ""} {
		script := env + "BDAT " + itoa(len(chunk)) + "\r\n" + chunk + then +
			env[len("EHLO client.test\r\n"):] + "BDAT 19 LAST\r\nSubject: second\r\n\r\n" + "QUIT\r\n"
		lines := strings.Join(rawDialogue(t, tg.addr, script), "\n")
		if strings.Count(lines, "Ok: queued as") != 1 {
			t.Fatalf("after %q: want the second message queued:\n%s", then, lines)
		}
	}
	if got := lb.lines("temporary failure"); len(got) > 0 {
		t.Errorf("an aborted transfer logged as a failure:\n%s", strings.Join(got, "\n"))
	}
	if got := lb.lines("level=INFO", "aborted by the client"); len(got) != 2 {
		t.Errorf("want two info lines for the aborted transfers, got %q", got)
	}
	names := eventNames(auditEvents(t, tg.cfg.Audit, ""))
	if n := countQueued(t, tg); n != 2 || strings.Contains(strings.Join(names, " "), "tempfail") || strings.Contains(strings.Join(names, " "), "rejected") {
		t.Errorf("audit events %v, want two messages queued and nothing else said", names)
	}
}
