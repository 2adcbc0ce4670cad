package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mugai/portal/auth"
)

// TestPortalPasswd: the password comes from standard input, never the
// command line; the approver can then log in; a config without
// portal.users says what to do.
func TestPortalPasswd(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "approvers.htpasswd")
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("portal:\n  users: "+users+"\n"), 0o644)
	stdin = strings.NewReader("shonin-pass\n")
	t.Cleanup(func() { stdin = os.Stdin })
	code, out, stderr := runCLI(t, "portal", "passwd", "-config", cfg, "suzuki")
	if code != 0 || !strings.Contains(out, "password of suzuki set in "+users) {
		t.Fatalf("exit %d: %s%s", code, out, stderr)
	}
	u, err := auth.LoadUsers(users)
	if err != nil || !u.Check("suzuki", "shonin-pass") || u.Check("suzuki", "shonin-pass\n") {
		t.Errorf("the approver cannot log in with the password given: %v", err)
	}
	stdin = strings.NewReader("")
	if code, _, stderr := runCLI(t, "portal", "passwd", "-config", cfg, "suzuki"); code != 2 || !strings.Contains(stderr, "no password on standard input") {
		t.Errorf("empty password: exit %d %s", code, stderr)
	}
	stdin = strings.NewReader("pw\n")
	if code, _, stderr := runCLI(t, "portal", "passwd", "-config", cfg, "bad name"); code != 2 || !strings.Contains(stderr, "bad operator name") {
		t.Errorf("a name the audit log cannot carry: exit %d %s", code, stderr)
	}
	stdin = strings.NewReader("pw\n")
	missing := filepath.Join(dir, "c2.yaml")
	os.WriteFile(missing, []byte("portal:\n  users: "+filepath.Join(dir, "no", "such", "dir", "u")+"\n"), 0o644)
	if code, _, stderr := runCLI(t, "portal", "passwd", "-config", missing, "suzuki"); code != 2 || !strings.Contains(stderr, "(from "+missing+")") {
		t.Errorf("a users file in a missing folder: exit %d %s", code, stderr)
	}
	os.WriteFile(cfg, []byte("portal:\n  users: \"\"\n"), 0o644)
	if code, _, stderr := runCLI(t, "portal", "passwd", "-config", cfg, "suzuki"); code != 2 || !strings.Contains(stderr, "portal.users is not set") {
		t.Errorf("no users file: exit %d %s", code, stderr)
	}
}
