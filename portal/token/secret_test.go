package token

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLoadSecretCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var", "portal")
	path := filepath.Join(dir, "portal.key")
	key, err := LoadSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != SecretLen || bytes.Equal(key, make([]byte, SecretLen)) {
		t.Fatalf("new key %x", key)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", fi.Mode().Perm())
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("created dir %s: %v, %v; want mode 0700", d, fi.Mode(), err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want the key alone (no temp file left)", len(entries))
	}
	again, err := LoadSecret(path)
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("second load: %x, %v; want the same key", again, err)
	}
}

// An existing directory keeps its mode.
func TestLoadSecretExistingDir(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	if _, err := LoadSecret(filepath.Join(dir, "k")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o755 {
		t.Errorf("existing dir's mode changed to %04o", fi.Mode().Perm())
	}
}

// Processes starting at once agree on one key.
func TestLoadSecretConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := LoadSecret(path)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for i, k := range keys {
		if !bytes.Equal(k, keys[0]) {
			t.Fatalf("caller %d got another key", i)
		}
	}
}

func TestLoadSecretRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		data []byte
		mode os.FileMode
		want string
	}{
		{"short", bytes.Repeat([]byte{1}, SecretLen-1), 0o600, "shorter than 32"},
		{"empty", nil, 0o600, "shorter than 32"},
		{"group-readable", bytes.Repeat([]byte{1}, SecretLen), 0o640, "group or others"},
		{"world-readable", bytes.Repeat([]byte{1}, SecretLen), 0o604, "group or others"},
		{"group-writable", bytes.Repeat([]byte{1}, SecretLen), 0o620, "group or others"},
		{"huge", bytes.Repeat([]byte{1}, 5000), 0o600, "not a key file"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.data, tc.mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, tc.mode) // past the umask
		key, err := LoadSecret(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %x, %v; want an error naming %s and saying %q", tc.name, key, err, path, tc.want)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, tc.data) {
			t.Errorf("%s: the refused file was changed", tc.name)
		}
	}
	if _, err := LoadSecret(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory as key: %v", err)
	}
}

// A key an admin made (any 32 bytes or more, mode 0600) is used as is.
func TestLoadSecretAdminKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	want := []byte("R2VuZXJhdGVkIGJ5IG9wZW5zc2wgcmFuZCAtYmFzZTY0IDMy\n")
	if err := os.WriteFile(path, want, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadSecret(path); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%q, %v", got, err)
	}
}

// A dangling symlink is neither read nor replaced; the error names it.
func TestLoadSecretDanglingLink(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k")
	if err := os.Symlink(filepath.Join(dir, "gone"), path); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSecret(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("%v; want an error naming %s", err, path)
	}
	if _, err := os.Lstat(filepath.Join(dir, "gone")); err == nil {
		t.Error("created the link's target")
	}
}
