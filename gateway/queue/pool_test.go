package queue

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mugai/gateway/safeio"
)

// TestPooledSpool: with a pool, entries are written into files created
// ahead in the spool and read back as before; listing and recovery take
// the files waiting in the pool for what they are (not entries, not
// unknown files); Close removes them; a start removes what a killed
// gateway's pool left.
func TestPooledSpool(t *testing.T) {
	dir := t.TempDir()
	s, _, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.UsePool(3)
	for _, id := range []string{"p1", "p2"} {
		if err := s.Add(&Entry{ID: id, Rcpts: []*Recipient{{Addr: "a@example.jp", Status: StatusPending}}}, []byte("message "+id)); err != nil {
			t.Fatal(err)
		}
	}
	// The first Add created its own file and started the filling (3),
	// the second took one: 2 left, not below a quarter, none created.
	for deadline := time.Now().Add(10 * time.Second); len(spoolTemps(t, dir)) < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the pool holds %v, not 2 files created ahead", spoolTemps(t, dir))
		}
	}
	if m, err := s.Message("p2"); err != nil || string(m) != "message p2" {
		t.Fatalf("Message = %q, %v", m, err)
	}
	if waiting, _, err := s.List(); err != nil || len(waiting) != 2 {
		t.Fatalf("List = %v, %v", waiting, err)
	}
	s.Close()
	if left := spoolTemps(t, dir); len(left) != 0 {
		t.Errorf("Close left %v", left)
	}
	if err := os.WriteFile(filepath.Join(dir, ".pool.0123456789ab.tmp"), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	_, entries, problems, err := Open(dir)
	if err != nil || len(entries) != 2 || len(problems) != 0 {
		t.Fatalf("Open after a kill: %v %v %v", entries, problems, err)
	}
	if left := spoolTemps(t, dir); len(left) != 0 {
		t.Errorf("Open left %v", left)
	}
}

func spoolTemps(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		if safeio.IsTemp(de.Name()) {
			out = append(out, de.Name())
		}
	}
	return out
}

// waitTemps waits until the spool directory holds at least n temp files
// (the pool's filling runs in the background).
func waitTemps(t *testing.T, dir string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); len(spoolTemps(t, dir)) < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the pool holds %v, not %d", spoolTemps(t, dir), n)
		}
	}
}

// recyclingSpool opens a spool with a pool of 4 files, filled once: from
// then on each entry added takes a file and each Finish gives one back.
func recyclingSpool(t *testing.T) (*Spool, string) {
	t.Helper()
	dir := t.TempDir()
	s, _, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.UsePool(4)
	t.Cleanup(s.Close)
	takeOne(t, s) // starts the filling
	waitTemps(t, dir, 4)
	return s, dir
}

// takeOne takes a file out of s's pool and removes it: room for the file
// of the next Finish (a full pool deletes).
func takeOne(t *testing.T, s *Spool) {
	t.Helper()
	f, err := s.pool.Get()
	if err != nil {
		t.Fatal(err)
	}
	safeio.Discard(f)
}

// nextEntryFile is a spool file as Stage writes it for another message:
// its own id, entry line and checksum.
func nextEntryFile() []byte {
	msg := []byte("another sender's message")
	sum := sha256.Sum256(msg)
	js, _ := json.Marshal(&Entry{ID: "next", Rcpts: []*Recipient{{Addr: "b@example.jp", Status: StatusPending}},
		Size: int64(len(msg)), SHA256: hex.EncodeToString(sum[:])})
	return append(append(append([]byte(entryLine), js...), '\n'), msg...)
}

// recycleUnderReader sets testAfterOpen so that entry id is delivered
// (Finish) right after a reader opened its file, and with refill the
// recycled file then carries the next message (nextEntryFile).
func recycleUnderReader(t *testing.T, s *Spool, dir, id string, refill bool) {
	testAfterOpen = func(path string) {
		testAfterOpen = nil
		before, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(id); err != nil {
			t.Fatal(err)
		}
		if !refill {
			return
		}
		for _, n := range spoolTemps(t, dir) {
			p := filepath.Join(dir, n)
			if fi, err := os.Stat(p); err == nil && os.SameFile(fi, before) {
				if err := os.WriteFile(p, nextEntryFile(), 0o640); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
		t.Fatal("the recycled file is not in the pool")
	}
	t.Cleanup(func() { testAfterOpen = nil })
}

// TestFinishRecycles: with a pool, a delivered entry's message file goes
// back to the pool emptied (its name gone at once, the file not deleted)
// and carries the next entry; without one (the admin commands) Finish
// deletes it.
func TestFinishRecycles(t *testing.T) {
	dir := t.TempDir()
	s, _, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.UsePool(4)
	defer s.Close()
	add := func(id string) os.FileInfo {
		t.Helper()
		if err := s.Add(&Entry{ID: id, Rcpts: []*Recipient{{Addr: "a@example.jp", Status: StatusPending}}}, []byte("message "+id)); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(s.msgPath(id))
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	first := add("r1")
	waitTemps(t, dir, 4)
	takeOne(t, s) // room for one (a full pool deletes what it cannot keep)
	if err := s.Finish("r1"); err != nil {
		t.Fatal(err)
	}
	if s.Has("r1") {
		t.Fatal("r1 still waits after Finish")
	}
	if _, err := s.Message("r1"); err != ErrNotFound {
		t.Fatalf("Message(r1) after Finish: %v", err)
	}
	kept := false
	for _, n := range spoolTemps(t, dir) {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && os.SameFile(fi, first) {
			kept = fi.Size() == 0
		}
	}
	if !kept {
		t.Fatal("r1's file is not in the pool, emptied")
	}
	// The pool hands its files out first in, first out: r1's comes
	// after the ones made ahead.
	reused := ""
	for i := range 6 {
		id := fmt.Sprintf("r%d", i+2)
		if os.SameFile(add(id), first) {
			reused = id
			break
		}
	}
	if reused == "" {
		t.Fatal("no later entry was written into r1's recycled file")
	}
	if m, err := s.Message(reused); err != nil || string(m) != "message "+reused {
		t.Fatalf("Message(%s) = %q, %v", reused, m, err)
	}

	s.Close() // the gateway stops; its pool's files are removed
	admin, err := Attach(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Finish(reused); err != nil {
		t.Fatal(err)
	}
	if temps := spoolTemps(t, dir); admin.Has(reused) || len(temps) != 0 {
		t.Fatalf("Finish without a pool: %s still there %v, temp files %v", reused, admin.Has(reused), temps)
	}
}

// TestReadWhileRecycled: a reader that opened an entry's file just before
// its delivery recycled it (Finish) and the next message was written into
// it must not take that message for the entry, nor call the entry
// damaged: the entry is gone (ErrNotFound). A file changed in place under
// its own name is still damaged.
func TestReadWhileRecycled(t *testing.T) {
	s, dir := recyclingSpool(t)
	add := func(id, body string) *Entry {
		t.Helper()
		e := &Entry{ID: id, Rcpts: []*Recipient{{Addr: "a@example.jp", Status: StatusPending}}}
		if err := s.Add(e, []byte(body)); err != nil {
			t.Fatal(err)
		}
		return e
	}
	// Under the reader: old is delivered and its file recycled, emptied,
	// or emptied and filled with the next message (written into it here).
	for _, refill := range []bool{false, true} {
		for _, read := range []string{"Message", "Read", "Entry"} {
			old := add("old", "the old message")
			recycleUnderReader(t, s, dir, "old", refill)
			var err error
			switch read {
			case "Message":
				_, err = s.Message("old")
			case "Read":
				_, err = s.Read(old)
			case "Entry":
				_, err = s.Entry("old")
			}
			testAfterOpen = nil
			if err != ErrNotFound {
				t.Errorf("%s of an entry recycled under it (refilled %v): %v, want ErrNotFound", read, refill, err)
			}
		}
	}
	// Changed in place, under its own name: damaged, as before.
	e := add("inplace", "the message")
	if err := os.WriteFile(s.msgPath("inplace"), []byte("MUGAI-SPOOL {}\nsomething else"), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(e); !errors.Is(err, ErrDamaged) {
		t.Errorf("Read of a file changed in place: %v, want ErrDamaged", err)
	}
}

// TestReadLegacyWhileRecycled: an entry from before checksums (no
// sha256, maybe no size) has nothing but its name to vouch for the bytes
// read: recycled under the reader, emptied or holding the next message
// with that message's own entry line and checksum, it is gone
// (ErrNotFound), never read as that other message or as an empty one.
func TestReadLegacyWhileRecycled(t *testing.T) {
	s, dir := recyclingSpool(t)
	legacy := &Entry{ID: "legacy", Rcpts: []*Recipient{{Addr: "a@example.jp", Status: StatusPending}}}
	js, err := json.Marshal(legacy)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		file   []byte
		refill bool
	}{
		{"entry line without checksum, refilled", append(append(append([]byte(entryLine), js...), '\n'), "the legacy message"...), true},
		{"no entry line, no size, emptied", []byte("the legacy message"), false},
		{"no entry line, no size, refilled", []byte("the legacy message"), true},
	} {
		takeOne(t, s)
		if err := os.WriteFile(s.msgPath("legacy"), tc.file, 0o640); err != nil {
			t.Fatal(err)
		}
		if m, err := s.Read(legacy); err != nil || !strings.HasSuffix(string(m), "the legacy message") {
			t.Fatalf("%s: Read before it was recycled: %q, %v", tc.name, m, err)
		}
		recycleUnderReader(t, s, dir, "legacy", tc.refill)
		m, err := s.Read(legacy)
		testAfterOpen = nil
		if err != ErrNotFound {
			t.Errorf("%s: Read = %q, %v; want ErrNotFound", tc.name, m, err)
		}
	}
}

// TestEntryGoneMeanwhile: an entry whose message file is gone by the time
// it is opened (delivered between Has and the read) is reported not found
// by Entry and Message, not unreadable or damaged.
func TestEntryGoneMeanwhile(t *testing.T) {
	dir := t.TempDir()
	s, _, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readEntry(dir, "gone"); !errors.Is(err, os.ErrNotExist) || !errors.Is(err, errUnreadableMsg) {
		t.Errorf("readEntry of a missing file: %v, want unreadable and not-exist", err)
	}
	if _, err := s.Entry("gone"); err != ErrNotFound {
		t.Errorf("Entry: %v", err)
	}
}
