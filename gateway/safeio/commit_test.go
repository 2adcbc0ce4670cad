package safeio

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestKernelAtLeast(t *testing.T) {
	for _, tc := range []struct {
		release string
		want    bool
	}{
		{"6.1.0-18-amd64", true}, {"5.8.0", true}, {"5.10.0-28-cloud-amd64", true}, {"5.7.19", false},
		{"4.18.0-513.el8.x86_64", false}, {"10.0", true}, {"5", false}, {"", false}, {"x.y", false},
	} {
		if got := kernelAtLeast(tc.release, 5, 8); got != tc.want {
			t.Errorf("kernelAtLeast(%q, 5, 8) = %v", tc.release, got)
		}
	}
}

func stage(t *testing.T, s *Staged, path, data string) {
	t.Helper()
	if err := s.Write(path, []byte(data), 0o640); err != nil {
		t.Fatal(err)
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

// commits are the two ways to commit a Staged, for tests that hold for
// both.
var commits = []struct {
	name string
	do   func(*Staged, *Committer) error
}{
	{"two-rounds", (*Staged).Commit},
	{"verified", (*Staged).CommitVerified},
}

func TestStagedCommit(t *testing.T) {
	for _, c := range []*Committer{nil, NewCommitter(false), NewCommitter(true)} {
		for _, cm := range commits {
			t.Run(c.Mode()+"/"+cm.name, func(t *testing.T) {
				a, b := t.TempDir(), t.TempDir()
				var s Staged
				stage(t, &s, filepath.Join(a, "m.eml"), "message")
				stage(t, &s, filepath.Join(a, "m.json"), "{}")
				stage(t, &s, filepath.Join(b, "m.msg"), "rebuilt")
				if err := cm.do(&s, c); err != nil {
					t.Fatal(err)
				}
				for path, want := range map[string]string{filepath.Join(a, "m.eml"): "message", filepath.Join(a, "m.json"): "{}", filepath.Join(b, "m.msg"): "rebuilt"} {
					if got, err := os.ReadFile(path); err != nil || string(got) != want {
						t.Errorf("%s = %q, %v", path, got, err)
					}
				}
				if n := names(t, a); len(n) != 2 {
					t.Errorf("left in %s: %v", a, n)
				}
				if err := s.Write(filepath.Join(a, "m.eml"), nil, 0o640); err == nil {
					t.Error("staging over an existing name succeeded")
				}
			})
		}
	}
}

// Commit takes two rounds, the data's and then the names', and nothing
// is renamed before the first is over; CommitVerified takes one, after
// the renames, which syncs the files through their own descriptors.
func TestCommitRounds(t *testing.T) {
	for _, cm := range commits {
		t.Run(cm.name, func(t *testing.T) {
			dir := t.TempDir()
			final := filepath.Join(dir, "m.msg")
			var rounds []string // per syncfs: whether the final name existed, and what the round checked
			c := &Committer{filesystem: true, syncfs: func(*os.File) error { return nil }}
			var checked []string
			c.Fault = func(f *os.File) error {
				checked = append(checked, filepath.Base(f.Name()))
				return nil
			}
			c.syncfs = func(*os.File) error {
				_, err := os.Stat(final)
				rounds = append(rounds, fmt.Sprintf("placed=%v", err == nil))
				return nil
			}
			var s Staged
			stage(t, &s, final, "rebuilt")
			tmp := filepath.Base(s.items[0].f.Name())
			if err := cm.do(&s, c); err != nil {
				t.Fatal(err)
			}
			want := []string{"placed=false", "placed=true"}
			if cm.name == "verified" {
				want = []string{"placed=true"}
			}
			if !slices.Equal(rounds, want) {
				t.Errorf("rounds %v, want %v", rounds, want)
			}
			// The file is checked through its own descriptor (opened under
			// its temp name) in the round that makes its data durable.
			if len(checked) != 1 || checked[0] != tmp {
				t.Errorf("checked %v, want [%s]", checked, tmp)
			}
			if got, err := os.ReadFile(final); err != nil || string(got) != "rebuilt" {
				t.Errorf("%s = %q, %v", final, got, err)
			}
		})
	}
}

// A commit that fails half way leaves nothing: neither temp files nor the
// names already placed.
func TestStagedCommitFailureLeavesNothing(t *testing.T) {
	a := t.TempDir()
	gone := filepath.Join(t.TempDir(), "gone")
	if err := os.Mkdir(gone, 0o750); err != nil {
		t.Fatal(err)
	}
	var s Staged
	stage(t, &s, filepath.Join(a, "1.eml"), "one")
	stage(t, &s, filepath.Join(gone, "2.msg"), "two")
	stage(t, &s, filepath.Join(a, "3.json"), "three")
	// The second file's directory disappears before the renames.
	tmp := s.items[1].f.Name()
	if err := os.Rename(tmp, filepath.Join(a, "moved")); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(a, "moved"))
	if err := s.Commit(nil); err == nil {
		t.Fatal("commit succeeded without one of its files")
	}
	if n := names(t, a); len(n) != 0 {
		t.Errorf("left after a failed commit: %v", n)
	}
	if n := names(t, gone); len(n) != 0 {
		t.Errorf("left after a failed commit: %v", n)
	}
}

// A one-round commit whose round fails (after the renames) removes the
// final names it placed and the files: nothing was acknowledged.
func TestCommitVerifiedFailureLeavesNothing(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	c := &Committer{filesystem: true, syncfs: func(*os.File) error { return errors.New("EIO (injected)") }}
	var s Staged
	stage(t, &s, filepath.Join(a, "1.eml"), "one")
	stage(t, &s, filepath.Join(a, "1.json"), "{}")
	stage(t, &s, filepath.Join(b, "1.msg"), "two")
	if err := s.CommitVerified(c); err == nil {
		t.Fatal("commit succeeded over a failed round")
	}
	for _, d := range []string{a, b} {
		if n := names(t, d); len(n) != 0 {
			t.Errorf("left after a failed commit: %v", n)
		}
	}
}

func TestStagedDiscard(t *testing.T) {
	a := t.TempDir()
	var s Staged
	stage(t, &s, filepath.Join(a, "1.eml"), "one")
	f, err := CreateTemp(a, "2.msg", 0o640)
	if err != nil {
		t.Fatal(err)
	}
	s.Add(f, filepath.Join(a, "2.msg"))
	s.Discard()
	if n := names(t, a); len(n) != 0 {
		t.Errorf("left after Discard: %v", n)
	}
}

// Concurrent requests share rounds, and every request in a round that
// failed gets the error.
func TestCommitterGroupsRounds(t *testing.T) {
	dir := t.TempDir()
	var rounds atomic.Int64
	var fail atomic.Bool
	release := make(chan struct{})
	c := &Committer{filesystem: true, syncfs: func(*os.File) error {
		if rounds.Add(1) == 1 {
			<-release // hold the first round so that the others gather
		}
		if fail.Load() {
			return errors.New("write-back error")
		}
		return nil
	}}
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	send := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := CreateTemp(dir, "f", 0o640)
			if err != nil {
				errs <- err
				return
			}
			defer Discard(f)
			if i%2 == 0 {
				errs <- c.Sync([]*os.File{f}, nil)
			} else {
				errs <- c.Sync(nil, []string{dir})
			}
		}()
	}
	send(0)
	for rounds.Load() == 0 { // the first round runs, held
		time.Sleep(time.Millisecond)
	}
	for i := 1; i < n; i++ {
		send(i)
	}
	for c.pendingLen() < n-1 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if r := rounds.Load(); r != 2 {
		t.Errorf("%d requests took %d rounds, want 2 (the held one and one for the rest)", n, r)
	}

	fail.Store(true)
	f, err := CreateTemp(dir, "f", 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer Discard(f)
	if err := c.Sync([]*os.File{f}, []string{dir}); err == nil {
		t.Error("a failed round reported success")
	}
	// A directory that cannot be opened fails its request, not the others.
	ok := NewCommitter(true)
	if err := ok.Sync(nil, []string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("syncing a missing directory succeeded")
	}
	if err := ok.Sync(nil, []string{dir}); err != nil {
		t.Error(err)
	}
}

func (c *Committer) pendingLen() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// In files mode a round syncs the files' data (and the journal) before
// the directories that hold their new names: a one-round commit then
// makes no rename durable itself before the data it names.
func TestRoundFilesDataBeforeNames(t *testing.T) {
	var order []string
	c := &Committer{
		syncDir: func(d string) error { order = append(order, "dir"); return SyncDir(d) },
		Fault:   func(f *os.File) error { order = append(order, filepath.Base(f.Name())[:2]); return nil },
	}
	dir := t.TempDir()
	var s Staged
	stage(t, &s, filepath.Join(dir, "m1.eml"), "one")
	stage(t, &s, filepath.Join(dir, "m2.msg"), "two")
	jf, err := os.Create(filepath.Join(dir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer jf.Close()
	s.Journal = func() (*os.File, func(error), error) { return jf, nil, nil }
	if err := s.CommitVerified(c); err != nil {
		t.Fatal(err)
	}
	if want := []string{".m", ".m", "jo", "dir"}; !slices.Equal(order, want) {
		t.Errorf("round synced %v, want the files, the journal, then the directory once: %v", order, want)
	}
}

// A journal that cannot write the commit's records (an audit write that
// fails) stops the commit before any rename, in both ways: nothing is
// placed and no temp file is left.
func TestJournalErrorPlacesNothing(t *testing.T) {
	for _, cm := range commits {
		t.Run(cm.name, func(t *testing.T) {
			dir := t.TempDir()
			var s Staged
			stage(t, &s, filepath.Join(dir, "m.eml"), "one")
			stage(t, &s, filepath.Join(dir, "m.msg"), "two")
			s.Journal = func() (*os.File, func(error), error) { return nil, nil, errors.New("audit write failed") }
			if err := cm.do(&s, NewCommitter(true)); err == nil {
				t.Fatal("commit succeeded without its records")
			}
			if n := names(t, dir); len(n) != 0 {
				t.Errorf("left after a failed journal: %v", n)
			}
			s.Discard() // a caller's Discard after the failed commit finds nothing
		})
	}
}
