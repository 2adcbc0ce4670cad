package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSetPassword: a missing file is created 0600; a user's line is
// replaced in place, others and comments kept; Check sees the change;
// bad names and a file with problems are refused without a change.
func TestSetPassword(t *testing.T) {
	path := filepath.Join(t.TempDir(), "approvers")
	if err := SetPassword(path, "suzuki", []byte("first-pass")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	data, _ := os.ReadFile(path)
	os.WriteFile(path, append([]byte("# approvers of the city\n"), data...), 0o600)
	if err := SetPassword(path, "tanaka", []byte("tanaka-pass")); err != nil {
		t.Fatal(err)
	}
	if err := SetPassword(path, "suzuki", []byte("second-pass")); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 3 || lines[0] != "# approvers of the city" || !strings.HasPrefix(lines[1], "suzuki:$2a$12$") || !strings.HasPrefix(lines[2], "tanaka:") {
		t.Errorf("file:\n%s", data)
	}
	u, err := LoadUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	if !u.Check("suzuki", "second-pass") || u.Check("suzuki", "first-pass") || !u.Check("tanaka", "tanaka-pass") {
		t.Error("the passwords set are not the ones that log in")
	}
	for _, name := range []string{"", "a:b", "x\u202e", strings.Repeat("n", MaxNameLen+1)} {
		if err := SetPassword(path, name, []byte("p")); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	if err := SetPassword(path, "sato", nil); err == nil {
		t.Error("empty password accepted")
	}
	// Root editing a file the gateway's user owns keeps that owner.
	if os.Getuid() == 0 {
		os.Chown(path, 4242, 4343)
		if err := SetPassword(path, "sato", []byte("sato-pass")); err != nil {
			t.Fatal(err)
		}
		if o := ownerOf(path); o == nil || o.uid != 4242 || o.gid != 4343 {
			t.Errorf("owner after an edit by root: %+v, want 4242:4343", o)
		}
	}
	os.WriteFile(path, []byte("bad line\n"), 0o600)
	if err := SetPassword(path, "sato", []byte("p")); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Errorf("a broken file: %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "bad line\n" {
		t.Errorf("a broken file was changed: %q", data)
	}
}
