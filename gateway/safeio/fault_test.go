package safeio

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// A write-back error that only one file's own descriptor reports (the
// shared syncfs saw nothing: an earlier round had reported it) fails that
// file's commit, which leaves nothing behind, and only that one: the
// other commits of the same rounds succeed.
func TestCommitterFileFault(t *testing.T) {
	for _, fsMode := range []bool{true, false} {
		for _, cm := range commits {
			c := &Committer{filesystem: fsMode, syncfs: func(*os.File) error { return nil }}
			t.Run(c.Mode()+"/"+cm.name, func(t *testing.T) {
				dir := t.TempDir()
				c.Fault = func(f *os.File) error {
					if strings.HasPrefix(filepath.Base(f.Name()), ".bad.msg.") { // its temp name (not "bad" in another's random part)
						return errors.New("EIO (injected)")
					}
					return nil
				}
				names := []string{"a.msg", "bad.msg", "c.msg", "d.msg"}
				errs := make([]error, len(names))
				var wg sync.WaitGroup
				for i, n := range names {
					wg.Add(1)
					go func() {
						defer wg.Done()
						var s Staged
						if err := s.Write(filepath.Join(dir, n), []byte(n), 0o640); err != nil {
							errs[i] = err
							return
						}
						errs[i] = cm.do(&s, c)
					}()
				}
				wg.Wait()
				for i, n := range names {
					_, statErr := os.Stat(filepath.Join(dir, n))
					if n == "bad.msg" {
						if errs[i] == nil {
							t.Errorf("%s: commit succeeded over a write-back error of its own file", n)
						}
						if statErr == nil {
							t.Errorf("%s: left in place after its commit failed", n)
						}
						continue
					}
					if errs[i] != nil || statErr != nil {
						t.Errorf("%s: %v, %v (another file's error must not fail it)", n, errs[i], statErr)
					}
				}
				if left := namesIn(t, dir); len(left) != len(names)-1 {
					t.Errorf("left in the directory: %v", left)
				}
			})
		}
	}
}

// The journal (the audit log) is written after the data round (Commit) or
// the writes (CommitVerified) and before any final name exists, is synced in the round with the renames (once
// for all the commits sharing it), and hears how the commit ended; a
// write-back error of the journal fails every commit that relied on it.
func TestStagedJournal(t *testing.T) {
	for _, fsMode := range []bool{true, false} {
		for _, cm := range commits {
			c := &Committer{filesystem: fsMode, syncfs: func(*os.File) error { return nil }}
			t.Run(c.Mode()+"/"+cm.name, func(t *testing.T) {
				dir := t.TempDir()
				jf, err := os.Create(filepath.Join(dir, "journal"))
				if err != nil {
					t.Fatal(err)
				}
				defer jf.Close()
				var mu sync.Mutex
				journalSyncs := 0
				failJournal := false
				c.Fault = func(f *os.File) error {
					mu.Lock()
					defer mu.Unlock()
					if f == jf {
						journalSyncs++
						if failJournal {
							return errors.New("EIO (injected)")
						}
					}
					return nil
				}
				commit := func(name string) (visibleAtJournal bool, doneErr error, err error) {
					var s Staged
					if err := s.Write(filepath.Join(dir, name), []byte(name), 0o640); err != nil {
						t.Fatal(err)
					}
					s.Journal = func() (*os.File, func(error), error) {
						_, statErr := os.Stat(filepath.Join(dir, name))
						visibleAtJournal = statErr == nil
						jf.WriteString(name + "\n")
						return jf, func(e error) { doneErr = FailedFile(e, jf) }, nil
					}
					err = cm.do(&s, c)
					return
				}
				visible, doneErr, err := commit("one.msg")
				if err != nil || doneErr != nil || visible {
					t.Fatalf("commit: %v, journal error %v, final name visible before the journal: %v", err, doneErr, visible)
				}
				if journalSyncs != 1 {
					t.Errorf("journal synced %d times in one commit, want 1", journalSyncs)
				}
				failJournal = true
				_, doneErr, err = commit("two.msg")
				if err == nil || doneErr == nil {
					t.Fatalf("a journal that failed to sync: commit %v, journal error %v", err, doneErr)
				}
				if _, err := os.Stat(filepath.Join(dir, "two.msg")); err == nil {
					t.Error("two.msg kept although its journal records may be lost")
				}
			})
		}
	}
}

func namesIn(t *testing.T, dir string) []string {
	t.Helper()
	return names(t, dir)
}
