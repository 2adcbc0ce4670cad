package safeio

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Committer makes files durable in rounds (group commit). Callers hand it
// the temp files they wrote, or the directories whose entries they
// changed, and wait; while one round runs, new requests gather and the
// next round serves them all. In filesystem mode a round is one
// syncfs(2) per file system involved, so twenty sessions share one journal
// commit and a single session pays one commit instead of one per file. In
// files mode (other systems, kernels before 5.8 whose syncfs does not
// report write errors, or when configured) a round syncs each file's data
// and each distinct directory once.
//
// A nil *Committer syncs in files mode, synchronously.
type Committer struct {
	filesystem bool
	// syncfs is syncfs(2) on the file system holding the open file; tests
	// replace it.
	syncfs func(f *os.File) error

	mu      sync.Mutex
	pending []*syncRequest
	running bool
}

type syncRequest struct {
	files []*os.File
	dirs  []string
	done  chan error
}

// NewCommitter returns a committer; filesystem asks for syncfs rounds,
// granted only where syncfs reports write errors (see FilesystemSync).
func NewCommitter(filesystem bool) *Committer {
	return &Committer{filesystem: filesystem && FilesystemSync(), syncfs: syncFS}
}

// Mode names how rounds are made durable, for the start-up log.
func (c *Committer) Mode() string {
	if c != nil && c.filesystem {
		return "filesystem"
	}
	return "files"
}

// Sync returns when the data of files and the entries of dirs are durable.
func (c *Committer) Sync(files []*os.File, dirs []string) error {
	if c == nil {
		return syncEach(files, dirs)
	}
	r := &syncRequest{files: files, dirs: dirs, done: make(chan error, 1)}
	c.mu.Lock()
	c.pending = append(c.pending, r)
	if !c.running {
		c.running = true
		go c.rounds()
	}
	c.mu.Unlock()
	return <-r.done
}

// rounds serves what is pending, round after round, until nothing is.
func (c *Committer) rounds() {
	for {
		c.mu.Lock()
		batch := c.pending
		c.pending = nil
		if len(batch) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		if c.filesystem {
			c.roundFS(batch)
		} else {
			roundFiles(batch)
		}
	}
}

// roundFS runs syncfs once per file system named in the batch.
func (c *Committer) roundFS(batch []*syncRequest) {
	type fsys struct {
		f   *os.File // any open file on it
		err error
	}
	byDev := map[uint64]*fsys{}
	devs := make([][]uint64, len(batch))
	failed := make([]error, len(batch)) // what could not be looked at
	var opened []*os.File
	note := func(i int, f *os.File) {
		dev, err := device(f)
		if err != nil {
			failed[i] = errors.Join(failed[i], err)
			return
		}
		if byDev[dev] == nil {
			byDev[dev] = &fsys{f: f}
		}
		devs[i] = append(devs[i], dev)
	}
	for i, r := range batch {
		for _, f := range r.files {
			note(i, f)
		}
		for _, d := range r.dirs {
			f, err := os.Open(d)
			if err != nil {
				failed[i] = errors.Join(failed[i], err)
				continue
			}
			opened = append(opened, f)
			note(i, f)
		}
	}
	for _, fs := range byDev {
		fs.err = c.syncfs(fs.f)
	}
	for _, f := range opened {
		f.Close()
	}
	for i, r := range batch {
		err := failed[i]
		for _, dev := range devs[i] {
			err = errors.Join(err, byDev[dev].err)
		}
		r.done <- err
	}
}

// roundFiles syncs every file, and every distinct directory once.
func roundFiles(batch []*syncRequest) {
	dirErr := map[string]error{}
	for _, r := range batch {
		for _, d := range r.dirs {
			dirErr[d] = nil
		}
	}
	for d := range dirErr {
		dirErr[d] = SyncDir(d)
	}
	for _, r := range batch {
		err := syncEach(r.files, nil)
		for _, d := range r.dirs {
			err = errors.Join(err, dirErr[d])
		}
		r.done <- err
	}
}

func syncEach(files []*os.File, dirs []string) error {
	for _, f := range files {
		if err := SyncData(f); err != nil {
			return err
		}
	}
	for _, d := range dirs {
		if err := SyncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// Staged is a set of files written under temp names, to be made durable
// together and then given their final names: every file's data is synced
// before any rename, and the renames, done in the order the files were
// added, are synced before Commit returns. So a crash never leaves a final
// name on data that was not written, and a commit marker added last is
// never durable before the files added before it (on journalling file
// systems, whose metadata commits in order).
type Staged struct {
	items  []stagedFile
	placed int // how many were renamed into place
}

type stagedFile struct {
	f    *os.File
	path string
}

// Add stages an open temp file (from CreateTemp) for path.
func (s *Staged) Add(f *os.File, path string) { s.items = append(s.items, stagedFile{f, path}) }

// Write stages data for path in a new temp file beside it. It refuses a
// path that exists: staged names are new names.
func (s *Staged) Write(path string, data []byte, perm os.FileMode) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s exists", path)
	}
	f, err := CreateTemp(filepath.Dir(path), filepath.Base(path), perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		Discard(f)
		return err
	}
	s.Add(f, path)
	return nil
}

// Commit makes every staged file durable under its final name. On error
// nothing staged is left: temp files and already placed names are
// removed (nothing was acknowledged yet).
func (s *Staged) Commit(c *Committer) error {
	files := make([]*os.File, len(s.items))
	var dirs []string
	seen := map[string]bool{}
	for i, it := range s.items {
		files[i] = it.f
		if d := filepath.Dir(it.path); !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	if err := c.Sync(files, nil); err != nil {
		s.Discard()
		return err
	}
	for _, it := range s.items {
		if err := it.f.Close(); err != nil {
			s.Discard()
			return err
		}
		if err := os.Rename(it.f.Name(), it.path); err != nil {
			s.Discard()
			return err
		}
		s.placed++
	}
	if err := c.Sync(nil, dirs); err != nil {
		s.Discard()
		return err
	}
	s.items, s.placed = nil, 0
	return nil
}

// Discard removes what is staged: temp files, and the final names placed
// by a Commit that then failed, newest first (commit markers go first).
func (s *Staged) Discard() {
	for i := len(s.items) - 1; i >= 0; i-- {
		it := s.items[i]
		it.f.Close()
		if i < s.placed {
			os.Remove(it.path)
		} else {
			os.Remove(it.f.Name())
		}
	}
	s.items, s.placed = nil, 0
}
