package queue

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestValidID: ids are file names in the spool, never paths.
func TestValidID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		// What mugai and the tests use.
		{"20261126T163953-b0e299d1fb09", true},
		{"waiting-1", true},
		{"e1", true},
		{"a_b.c", true},
		{strings.Repeat("a", MaxIDLen), true},
		// Paths and what a shell or a file system treats specially.
		{"../../victimdir/ledger", false},
		{"..", false},
		{".hidden", false},
		{"/etc/passwd", false},
		{"a/b", false},
		{`a\b`, false},
		{"a\x00b", false},
		{"a b", false},
		{"a\nb", false},
		{"", false},
		{strings.Repeat("a", MaxIDLen+1), false},
		{"ｉｄ", false},
	} {
		if err := ValidID(tc.id); (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrBadID)) {
			t.Errorf("ValidID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}

// TestIDsNeverNamePaths: every function refuses a path as an id and
// touches nothing outside the spool (queue delete ../../victimdir/ledger
// used to delete ledger.msg and ledger.json there).
func TestIDsNeverNamePaths(t *testing.T) {
	root := t.TempDir()
	victim := filepath.Join(root, "victimdir")
	os.Mkdir(victim, 0o750)
	for _, f := range []string{"ledger.msg", "ledger.json"} {
		os.WriteFile(filepath.Join(victim, f), []byte("precious"), 0o640)
	}
	s, _, _, err := Open(filepath.Join(root, "a", "spool"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"../../victimdir/ledger", filepath.Join(victim, "ledger"), "ledger\x00", "", strings.Repeat("x", 300)} {
		e := &Entry{ID: id, Rcpts: []*Recipient{{Addr: "a@example.jp", Status: StatusPending}}}
		for name, err := range map[string]error{
			"Delete":       s.Delete(id),
			"DeleteFailed": s.DeleteFailed(id),
			"Remove":       s.Remove(id),
			"Finish":       s.Finish(id),
			"Update":       s.Update(e),
			"MoveToFailed": s.MoveToFailed(e),
			"Add":          s.Add(e, []byte("m")),
		} {
			if !errors.Is(err, ErrBadID) {
				t.Errorf("%s(%q) = %v, want ErrBadID", name, id, err)
			}
		}
		if _, err := s.Requeue(id, time.Now()); !errors.Is(err, ErrBadID) {
			t.Errorf("Requeue(%q) = %v", id, err)
		}
		if _, err := s.Message(id); !errors.Is(err, ErrBadID) {
			t.Errorf("Message(%q) = %v", id, err)
		}
		if _, err := s.MoveToBad(id); !errors.Is(err, ErrBadID) {
			t.Errorf("MoveToBad(%q) = %v", id, err)
		}
		if s.Has(id) {
			t.Errorf("Has(%q)", id)
		}
	}
	for _, f := range []string{"ledger.msg", "ledger.json"} {
		if b, err := os.ReadFile(filepath.Join(victim, f)); err != nil || string(b) != "precious" {
			t.Errorf("%s outside the spool touched: %q %v", f, b, err)
		}
	}
}

// TestDamagedNeverRead: a message file that was cut, overwritten at its
// start or changed in the middle is never returned as a message, whether
// its state lives in its entry line or in a meta.
func TestDamagedNeverRead(t *testing.T) {
	msg := []byte("Subject: x\r\n\r\n" + strings.Repeat("line of the message\r\n", 50))
	for _, tc := range []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"truncated to 0", func([]byte) []byte { return nil }},
		{"cut mid-line", func(b []byte) []byte { return b[:len(b)-30] }},
		{"cut in the entry line", func(b []byte) []byte { return b[:20] }},
		{"first bytes zeroed", func(b []byte) []byte { copy(b, make([]byte, 16)); return b }},
		{"byte flipped in the middle", func(b []byte) []byte { b[len(b)-len(msg)/2] ^= 0x20; return b }},
		{"grown", func(b []byte) []byte { return append(b, "more\r\n"...) }},
	} {
		for _, withMeta := range []bool{false, true} {
			s, _, _, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			e := &Entry{ID: "m1", Created: time.Now(), Rcpts: []*Recipient{{Addr: "a@example.jp", Status: StatusPending}}}
			if err := s.Add(e, msg); err != nil {
				t.Fatal(err)
			}
			if e.Size != int64(len(msg)) || len(e.SHA256) != 64 {
				t.Fatalf("Add left size %d sha256 %q", e.Size, e.SHA256)
			}
			if withMeta {
				e.Attempts = 1
				if err := s.Update(e); err != nil {
					t.Fatal(err)
				}
			}
			if got, err := s.Read(e); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("intact: %v", err)
			}
			p := s.msgPath("m1")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, tc.damage(b), 0o640)
			if got, err := s.Read(e); !errors.Is(err, ErrDamaged) {
				t.Errorf("%s (meta %v): Read = %d bytes, %v; want ErrDamaged", tc.name, withMeta, len(got), err)
			}
			if got, err := s.Message("m1"); err == nil {
				t.Errorf("%s (meta %v): Message = %d bytes, no error", tc.name, withMeta, len(got))
			}
			names, err := s.MoveToBad("m1")
			if err != nil || len(names) == 0 || s.Has("m1") {
				t.Errorf("MoveToBad = %v, %v", names, err)
			}
		}
	}
}

// TestOlderEntriesStillRead: entries written before the checksum (entry
// line without size and sha256; the older two-file form with a meta and
// a bare message) are read as they are.
func TestOlderEntriesStillRead(t *testing.T) {
	dir := t.TempDir()
	s, _, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "old1.msg"), []byte(entryLine+`{"id":"old1","from":"a@example.jp","rcpts":[{"addr":"b@example.jp","status":"pending"}]}`+"\nold message\r\n"), 0o640)
	os.WriteFile(filepath.Join(dir, "old2.json"), []byte(`{"id":"old2","from":"a@example.jp","rcpts":[{"addr":"b@example.jp","status":"pending"}]}`), 0o640)
	os.WriteFile(filepath.Join(dir, "old2.msg"), []byte("two-file message\r\n"), 0o640)
	_, entries, problems, err := Open(dir)
	if err != nil || len(entries) != 2 || len(problems) != 0 {
		t.Fatalf("Open = %v %v %v", entries, problems, err)
	}
	for _, e := range entries {
		if got, err := s.Read(e); err != nil || !strings.HasSuffix(string(got), "message\r\n") || strings.Contains(string(got), entryLine) {
			t.Errorf("%s: %q %v", e.ID, got, err)
		}
	}
}

// TestMoveToBadKeepsEarlier: a second damaged entry of the same id (one
// rebuilt from its original and damaged again) does not overwrite the
// first in bad/.
func TestMoveToBadKeepsEarlier(t *testing.T) {
	s, _, _, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"m1.msg", "m1.msg.1"} {
		e := &Entry{ID: "m1", Rcpts: []*Recipient{{Addr: "a@example.jp", Status: StatusPending}}}
		if err := s.Add(e, []byte{byte('a' + i)}); err != nil {
			t.Fatal(err)
		}
		names, err := s.MoveToBad("m1")
		if err != nil || len(names) != 1 || names[0] != want {
			t.Errorf("MoveToBad #%d = %v, %v; want %s", i, names, err, want)
		}
	}
}
