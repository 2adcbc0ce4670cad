package safeio

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// commitVia writes data through a file of p and commits it under name in
// dir, as a spool entry is written.
func commitVia(t *testing.T, p *Pool, dir, name, data string) os.FileInfo {
	t.Helper()
	f, err := p.Get()
	if err != nil {
		t.Fatal(err)
	}
	var st Staged
	if err := st.WriteIn(f, filepath.Join(dir, name), []byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(nil); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

// waitReady waits until n files are ready in p (handed to it, not only
// created: the refill creates a file before it puts it in the pool).
func waitReady(t *testing.T, p *Pool, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); len(p.ready) != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d files ready in the pool, want %d", len(p.ready), n)
		}
	}
}

// TestRecycle: a recycling pool takes a finished file back (its name is
// gone at once; the file waits emptied under a temp name) and hands that
// same file out again, so a message delivered and the next one received
// cost no create and no delete; it creates ahead only below a quarter of
// its size; a full pool, a closed one, a plain one and a nil one delete
// instead; a missing path is reported as not existing.
func TestRecycle(t *testing.T) {
	dir := t.TempDir()
	p := NewRecyclingPool(dir, 0o640, 8)
	defer p.Close()
	first := commitVia(t, p, dir, "a.msg", "message a") // Get on an empty pool creates, and starts the filling
	waitFiles(t, dir, 9)                                // a.msg and 8 ahead
	for range 5 {                                       // down to 3 ready: not below 8/4, nothing created
		f, err := p.Get()
		if err != nil {
			t.Fatal(err)
		}
		Discard(f)
	}
	time.Sleep(50 * time.Millisecond)
	if got := len(names(t, dir)); got != 4 {
		t.Fatalf("%d files after taking 5 of 8 (the pool refilled above a quarter)", got)
	}
	if err := p.Recycle(filepath.Join(dir, "a.msg")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "a.msg")); !os.IsNotExist(err) {
		t.Fatalf("a.msg after Recycle: %v", err)
	}
	var back os.FileInfo
	for _, n := range names(t, dir) {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil || !IsTemp(n) || fi.Size() != 0 {
			t.Fatalf("%s after Recycle: %v, temp %v, size %d", n, err, IsTemp(n), fi.Size())
		}
		if os.SameFile(fi, first) {
			back = fi
		}
	}
	if back == nil {
		t.Fatal("the recycled file is not in the pool")
	}
	// First in, first out: the three made ahead, then a.msg's file.
	var again os.FileInfo
	for i := range 4 {
		again = commitVia(t, p, dir, "b"+string(rune('0'+i))+".msg", "message b")
	}
	if !os.SameFile(again, first) {
		t.Fatal("the fourth Get did not hand out the recycled file")
	}
	if b, err := os.ReadFile(filepath.Join(dir, "b3.msg")); err != nil || string(b) != "message b" {
		t.Fatalf("the recycled file holds %q, %v", b, err)
	}
	if err := p.Recycle(filepath.Join(dir, "gone.msg")); !os.IsNotExist(err) {
		t.Fatalf("Recycle of a missing path: %v", err)
	}

	// Full: the file is deleted, not kept beyond the size.
	full := NewRecyclingPool(t.TempDir(), 0o640, 1)
	defer full.Close()
	fdir := full.dir
	commitVia(t, full, fdir, "x.msg", "x")
	waitReady(t, full, 1) // the file made ahead is in the pool, not only on disk
	if err := full.Recycle(filepath.Join(fdir, "x.msg")); err != nil {
		t.Fatal(err)
	}
	if got := names(t, fdir); len(got) != 1 || !IsTemp(got[0]) {
		t.Fatalf("a full pool kept %v", got)
	}
	// Plain, nil and closed pools delete.
	for name, q := range map[string]*Pool{"plain": NewPool(t.TempDir(), 0o640, 4), "nil": nil, "closed": NewRecyclingPool(t.TempDir(), 0o640, 4)} {
		d := t.TempDir()
		if q != nil {
			d = q.dir
		}
		if name == "closed" {
			q.Close()
		}
		path := filepath.Join(d, "y.msg")
		if err := os.WriteFile(path, []byte("y"), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := q.Recycle(path); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := names(t, d); len(got) != 0 {
			t.Errorf("%s pool: Recycle left %v", name, got)
		}
		q.Close()
	}
}

// TestRecycleRacesRefill: files recycled while the refill creates fill
// the pool under it; the refill must not block on a full pool (it held
// Close forever), and nothing is left after Close.
func TestRecycleRacesRefill(t *testing.T) {
	for round := range 50 {
		dir := t.TempDir()
		p := NewRecyclingPool(dir, 0o640, 4)
		for range 4 { // the first Get starts the refill, which creates 4
			f, err := p.Get()
			if err != nil {
				t.Fatal(err)
			}
			Discard(f)
		}
		for i := range 4 { // while it creates, recycled files fill the pool
			name := filepath.Join(dir, "m"+strconv.Itoa(i))
			if err := os.WriteFile(name, []byte("delivered"), 0o640); err != nil {
				t.Fatal(err)
			}
			if err := p.Recycle(name); err != nil {
				t.Fatal(err)
			}
		}
		closed := make(chan struct{})
		go func() { p.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: Close did not return: the refill is stuck", round)
		}
		if left := names(t, dir); len(left) != 0 {
			t.Fatalf("round %d: after Close: %v", round, left)
		}
	}
}

// TestRecycleRenameFails: where the rename to a pool name fails (a file
// system or kernel without renameat2's RENAME_NOREPLACE answers EINVAL or
// ENOSYS, a seccomp filter EPERM), Recycle deletes the file as a plain
// pool does: a Finish that failed would leave a delivered entry's message
// in the spool, its meta already gone, to be sent again from its entry
// line by the next rescan or start.
func TestRecycleRenameFails(t *testing.T) {
	dir := t.TempDir()
	p := NewRecyclingPool(dir, 0o640, 4)
	defer p.Close()
	p.rename = func(from, to string) error {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: syscall.EINVAL}
	}
	path := filepath.Join(dir, "y.msg")
	if err := os.WriteFile(path, []byte("delivered"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := p.Recycle(path); err != nil {
		t.Fatalf("Recycle when the rename fails: %v", err)
	}
	if got := names(t, dir); len(got) != 0 {
		t.Fatalf("Recycle when the rename fails left %v", got)
	}
	if err := p.Recycle(path); !os.IsNotExist(err) {
		t.Fatalf("Recycle of a missing path when the rename fails: %v", err)
	}
}

// TestRecycleKeepsOnlyItsOwnFile: a file that is not the spool's alone
// is deleted, never emptied and rewritten: one with another name (a hard
// link an admin or a backup made) would lose its bytes there and then
// show a later sender's message; a symbolic link would have its target
// emptied.
func TestRecycleKeepsOnlyItsOwnFile(t *testing.T) {
	dir := t.TempDir()
	p := NewRecyclingPool(dir, 0o640, 4)
	defer p.Close()
	elsewhere := t.TempDir()

	linked := filepath.Join(dir, "linked.msg")
	kept := filepath.Join(elsewhere, "kept.msg")
	if err := os.WriteFile(linked, []byte("kept by an admin"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(linked, kept); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(elsewhere, "target")
	if err := os.WriteFile(target, []byte("not the spool's"), 0o640); err != nil {
		t.Fatal(err)
	}
	symlink := filepath.Join(dir, "symlink.msg")
	if err := os.Symlink(target, symlink); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{linked, symlink} {
		if err := p.Recycle(path); err != nil {
			t.Fatalf("Recycle(%s): %v", path, err)
		}
	}
	if got := names(t, dir); len(got) != 0 {
		t.Errorf("the pool kept %v", got)
	}
	for path, want := range map[string]string{kept: "kept by an admin", target: "not the spool's"} {
		if b, err := os.ReadFile(path); err != nil || string(b) != want {
			t.Errorf("%s after Recycle: %q, %v; want %q", path, b, err, want)
		}
	}
}
