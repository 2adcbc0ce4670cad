package gateway

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDictionaryAttackCut: a client guessing recipients is refused each
// unknown one (550 5.1.1) until accept.max_errors, then told 421 4.7.0
// and disconnected: one session cannot probe the city's address book, or
// fill the audit log, without end.
func TestDictionaryAttackCut(t *testing.T) {
	list := filepath.Join(t.TempDir(), "recipients")
	if err := os.WriteFile(list, []byte("staff@city.example.lg.jp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tg := startGateway(t, func(c *Config) { c.Accept.Recipients = list; c.Accept.MaxErrors = 5 })
	script := "EHLO guess.test\r\nMAIL FROM:<a@example.jp>\r\n"
	for i := range 50 {
		script += fmt.Sprintf("RCPT TO:<user%d@city.example.lg.jp>\r\n", i)
	}
	lines := rawDialogue(t, tg.addr, script+"QUIT\r\n")
	all := strings.Join(lines, "\n")
	if n := strings.Count(all, "550 5.1.1"); n != 5 || !strings.HasSuffix(lines[len(lines)-1], "Too many errors, closing") {
		t.Fatalf("want 5 refusals then 421 4.7.0:\n%s", all)
	}
}
