package safeio

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// waitFiles waits until dir holds n entries.
func waitFiles(t *testing.T, dir string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := names(t, dir)
		if len(got) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d files, want %d: %v", dir, len(got), n, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPool: a pool creates nothing before its first Get; then it fills
// up to its size with empty temp files of its directory (which a start's
// clean-up takes for temp files); Get hands out one of them and the pool
// fills again; a file from it commits under a final name in another
// directory of the file system; Close removes what was not taken, and Get
// still works after it.
func TestPool(t *testing.T) {
	dir := t.TempDir()
	p := NewPool(dir, 0o640, 4)
	defer p.Close()
	time.Sleep(20 * time.Millisecond)
	if got := names(t, dir); len(got) != 0 {
		t.Fatalf("an unused pool created %v", got)
	}
	first, err := p.Get()
	if err != nil {
		t.Fatal(err)
	}
	Discard(first)
	waitFiles(t, dir, 4)
	for _, n := range names(t, dir) {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil || !IsTemp(n) || fi.Size() != 0 || fi.Mode().Perm() != 0o640 {
			t.Fatalf("pool file %s: %v, temp %v, size %d, mode %v", n, err, IsTemp(n), fi.Size(), fi.Mode())
		}
	}
	f, err := p.Get()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(f.Name()) != dir {
		t.Fatalf("Get gave %s, not a file of %s", f.Name(), dir)
	}
	waitFiles(t, dir, 5) // four ready again, and the one taken
	day := filepath.Join(dir, "2026-12-01")
	if err := os.Mkdir(day, 0o750); err != nil {
		t.Fatal(err)
	}
	var st Staged
	if err := st.WriteIn(f, filepath.Join(day, "m.json"), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(nil); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(day, "m.json")); err != nil || string(b) != "{}" {
		t.Fatalf("committed file: %q, %v", b, err)
	}
	waitFiles(t, dir, 5) // four ready and the day folder
	p.Close()
	if got := names(t, dir); len(got) != 1 || got[0] != "2026-12-01" {
		t.Fatalf("after Close the pool's directory holds %v", got)
	}
	g, err := p.Get()
	if err != nil {
		t.Fatalf("Get after Close: %v", err)
	}
	Discard(g)
}

// TestPoolNoRoom: when the directory cannot take files (here it does not
// exist: root writes into read-only ones) the pool stays empty and Get
// returns the create's error, not a file; once it can, Get works again
// and the pool fills.
func TestPoolNoRoom(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "spool")
	p := NewPool(dir, 0o640, 2) // dir does not exist yet
	defer p.Close()
	if f, err := p.Get(); err == nil {
		t.Fatalf("Get in a missing directory gave %s", f.Name())
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	f, err := p.Get()
	if err != nil {
		t.Fatal(err)
	}
	Discard(f)
	waitFiles(t, dir, 2) // the Get woke the filling again
}

// TestWriteInRefusesExisting: a staged name is a new name; the file
// handed in is removed, not left behind.
func TestWriteInRefusesExisting(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "x.msg")
	if err := os.WriteFile(final, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	f, err := CreateTemp(dir, "pool", 0o640)
	if err != nil {
		t.Fatal(err)
	}
	var st Staged
	if err := st.WriteIn(f, final, []byte("new")); err == nil {
		t.Fatal("WriteIn over an existing name succeeded")
	}
	if got := names(t, dir); len(got) != 1 || got[0] != "x.msg" {
		t.Fatalf("directory holds %v", got)
	}
}

// TestPoolCloseUnused: closing a pool that was never used returns at
// once and leaves nothing.
func TestPoolCloseUnused(t *testing.T) {
	dir := t.TempDir()
	p := NewPool(dir, 0o640, 4)
	p.Close()
	p.Close()
	if got := names(t, dir); len(got) != 0 {
		t.Fatalf("closed unused pool left %v", got)
	}
}
