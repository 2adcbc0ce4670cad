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
// commit and a single session pays one commit instead of one per file,
// followed by a check of each file's own write-back error (see roundFS).
// In files mode (other systems, kernels before 5.8 whose syncfs does not
// report write errors, or when configured) a round syncs each distinct
// file's data and each distinct directory once. A file named by several
// requests of a round (the audit log) is synced and checked once for all.
//
// A nil *Committer syncs in files mode, synchronously.
type Committer struct {
	filesystem bool
	// syncfs is syncfs(2) on the file system holding the open file; tests
	// replace it.
	syncfs func(f *os.File) error
	// syncDir syncs a directory in files mode (nil: SyncDir); tests
	// replace it to see the order of a round.
	syncDir func(dir string) error
	// Fault, when set, is called for every file of a round after its sync
	// and check, and an error it returns is that file's error: tests
	// inject a write-back error that only one file's descriptor reports.
	Fault func(f *os.File) error

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
			c.roundFiles(batch)
		}
	}
}

// roundFS runs syncfs once per file system named in the batch, then
// checks each file's own write-back error through its own descriptor.
//
// Why the check: since Linux 5.8 a write-back error is recorded in an
// error sequence (errseq_t) in the file's mapping and in its super block.
// syncfs(fd) reports the super block's errors that happened since the
// open file description fd was opened (f_sb_err is sampled at open) or
// since the last syncfs through it, then advances that sample; and once
// any caller has seen an error, a file opened later samples past it. The
// round calls syncfs through one descriptor per file system, whichever
// came first (or a directory it has just opened itself). So if page
// write-back of session B's file failed, and an earlier round's syncfs
// (through session A's descriptor) reported it, then B's round, going
// through a descriptor opened after that, sees nothing: B would get 250
// for data that is not on disk. Each file's own descriptor, opened by the
// session before it wrote, sampled its mapping's errseq before any of its
// data existed, so a check through it returns every error that hit this
// file's data, whoever reported it elsewhere (file_check_and_advance_wb_err
// compares against that descriptor's own sample). The check is
// sync_file_range(WAIT_BEFORE): after the syncfs there is nothing left to
// write, so it only waits on nothing and reads the errseq: no extra
// journal commit, no cache flush; the group commit keeps its one syncfs.
// Directories are synced through descriptors the round opens itself, so
// they get no such check; their entries are metadata, which ext4 and XFS
// commit through the journal, whose failure syncfs reports.
func (c *Committer) roundFS(batch []*syncRequest) {
	r := devicesOf(batch)
	for _, fs := range r.byDev {
		fs.err = c.syncfs(fs.f)
	}
	for _, f := range r.opened {
		f.Close()
	}
	// A file's error is its file system's syncfs error and its own.
	fileErr := c.eachFile(batch, func(f *os.File) error {
		var err error
		if dev, ok := r.fileDev[f]; ok {
			err = r.byDev[dev].err
		}
		return errors.Join(err, checkWriteback(f))
	})
	for i, req := range batch {
		err := r.failed[i]
		for _, dev := range r.dirDevs[i] {
			err = errors.Join(err, r.byDev[dev].err)
		}
		for _, f := range req.files {
			err = errors.Join(err, fileErr[f])
		}
		req.done <- err
	}
}

// fsys is one file system of a round.
type fsys struct {
	f   *os.File // any open file on it
	err error
}

// fsRound is what roundFS knows of its batch: the file systems involved
// and, by request (the index in the batch), where each file and directory
// lives.
type fsRound struct {
	byDev   map[uint64]*fsys
	fileDev map[*os.File]uint64
	dirDevs [][]uint64
	failed  []error    // what could not be looked at
	opened  []*os.File // the directories, opened by the round
}

// devicesOf finds the file system of every file and directory of the
// batch; the first open file seen on a file system is the one syncfs goes
// through. Directories are opened, and stay open until the round closes
// them.
func devicesOf(batch []*syncRequest) *fsRound {
	r := &fsRound{
		byDev:   map[uint64]*fsys{},
		fileDev: map[*os.File]uint64{},
		dirDevs: make([][]uint64, len(batch)),
		failed:  make([]error, len(batch)),
	}
	for i, req := range batch {
		for _, f := range req.files {
			dev, err := r.note(f)
			if err != nil {
				r.failed[i] = errors.Join(r.failed[i], err)
				continue
			}
			r.fileDev[f] = dev
		}
		for _, d := range req.dirs {
			f, err := os.Open(d)
			if err == nil {
				r.opened = append(r.opened, f)
				var dev uint64
				if dev, err = r.note(f); err == nil {
					r.dirDevs[i] = append(r.dirDevs[i], dev)
				}
			}
			r.failed[i] = errors.Join(r.failed[i], err)
		}
	}
	return r
}

// note returns the device of f's file system, recording f as the file to
// sync it through if it is the first seen there.
func (r *fsRound) note(f *os.File) (uint64, error) {
	dev, err := device(f)
	if err != nil {
		return 0, err
	}
	if r.byDev[dev] == nil {
		r.byDev[dev] = &fsys{f: f}
	}
	return dev, nil
}

// FileError is the error of one file of a round: its sync, its file
// system's syncfs, or its own write-back check failed.
type FileError struct {
	File *os.File
	Err  error
}

func (e *FileError) Error() string { return e.File.Name() + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// FailedFile returns the error a round reported for f inside err (joined
// or wrapped), or nil when err says nothing about f.
func FailedFile(err error, f *os.File) error {
	switch e := err.(type) {
	case nil:
		return nil
	case *FileError:
		if e.File == f {
			return e
		}
		return nil
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			if fe := FailedFile(x, f); fe != nil {
				return fe
			}
		}
		return nil
	case interface{ Unwrap() error }:
		return FailedFile(e.Unwrap(), f)
	}
	return nil
}

// eachFile runs op once on every distinct file of the batch, then Fault,
// and returns the errors by file.
func (c *Committer) eachFile(batch []*syncRequest, op func(*os.File) error) map[*os.File]error {
	errs := map[*os.File]error{}
	for _, r := range batch {
		for _, f := range r.files {
			if _, done := errs[f]; done {
				continue
			}
			err := op(f)
			if err == nil && c.Fault != nil {
				err = c.Fault(f)
			}
			if err != nil {
				err = &FileError{File: f, Err: err}
			}
			errs[f] = err
		}
	}
	return errs
}

// roundFiles syncs every distinct file, then every distinct directory
// once: the data before the names, so that a power cut during a
// one-round commit (CommitVerified) leaves a final name on unwritten data
// only where the file system commits a rename on its own first, and the
// journal (the audit log) before the renames that need its records.
func (c *Committer) roundFiles(batch []*syncRequest) {
	fileErr := c.eachFile(batch, SyncData)
	syncDir := c.syncDir
	if syncDir == nil {
		syncDir = SyncDir
	}
	dirErr := map[string]error{}
	for _, r := range batch {
		for _, d := range r.dirs {
			if _, done := dirErr[d]; !done {
				dirErr[d] = syncDir(d)
			}
		}
	}
	for _, r := range batch {
		var err error
		for _, f := range r.files {
			err = errors.Join(err, fileErr[f])
		}
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
// together and then given their final names, in the order the files were
// added: a commit marker added last is never durable before the files
// added before it (on journalling file systems, whose metadata commits in
// order), and nothing is placed before every file is written.
//
// Commit syncs every file's data before any rename and the renames after,
// so not even a power cut leaves a final name on data that was not
// written. CommitVerified does both in one round; see there.
//
// Journal, when set, is the append-only record that goes with the commit
// (the audit log). Commit calls it once, after the data round and before
// the first rename, so a final name is never visible (not even to a
// process that survives our crash) before the records are written; the
// file it returns is synced in the round that makes the renames durable,
// shared with every other commit in that round, so the records are
// durable when Commit returns nil. done is called once with Commit's
// outcome (nil: committed) after that round; the file must stay open
// until then.
type Staged struct {
	Journal func() (f *os.File, done func(err error), err error)

	items  []stagedFile
	placed int // how many items were renamed into place (or appended)
}

// stagedFile is a temp file to rename to path, or (append) a record to
// append to f, an append-only file of the commit's own (Append).
type stagedFile struct {
	f          *os.File
	path       string
	append     bool
	data, undo []byte
}

// Add stages an open temp file (from CreateTemp or a Pool) for path.
func (s *Staged) Add(f *os.File, path string) {
	s.items = append(s.items, stagedFile{f: f, path: path})
}

// Write stages data for path in a new temp file beside it. It refuses a
// path that exists: staged names are new names.
func (s *Staged) Write(path string, data []byte, perm os.FileMode) error {
	f, err := CreateTemp(filepath.Dir(path), filepath.Base(path), perm)
	if err != nil {
		return err
	}
	return s.WriteIn(f, path, data)
}

// WriteIn stages data for path, written into f: an empty temp file on
// path's file system (from a Pool), which it then owns. It refuses a path
// that exists: staged names are new names.
func (s *Staged) WriteIn(f *os.File, path string, data []byte) error {
	if _, err := os.Lstat(path); err == nil {
		Discard(f)
		return fmt.Errorf("%s exists", path)
	}
	if _, err := f.Write(data); err != nil {
		Discard(f)
		return err
	}
	s.Add(f, path)
	return nil
}

// Append stages data to be appended to f, a file of the commit's own,
// opened with O_APPEND (an index shared by many commits, each through its
// own descriptor, so the round's write-back check through it sees every
// error that hit its data): written in staging order among the renames,
// after the files staged before it (it is their commit marker) and
// before those staged after it, and made durable in the same round; then
// f is closed. Commit owns f from now on. Appended data cannot be taken
// back: when the commit fails after it was written, undo (when not nil)
// is appended too, a record that withdraws it, and readers honour the
// last record.
func (s *Staged) Append(f *os.File, data, undo []byte) {
	s.items = append(s.items, stagedFile{f: f, append: true, data: data, undo: undo})
}

// Commit makes every staged file durable under its final name, and the
// Journal's records with them, in two rounds: the files' data, then the
// renames and the journal. On error nothing staged is left: temp files
// and already placed names are removed (nothing was acknowledged yet);
// records the Journal wrote stay, and its done hears the error.
func (s *Staged) Commit(c *Committer) error { return s.commit(c, false) }

// CommitVerified is Commit in one round: the files are written, the
// journal written, the files renamed, and one round makes the data, the
// renames and the journal durable together. When it returns nil all is
// on disk, as after Commit, and a process crash (the kernel going on)
// never shows a final name on unwritten data either: the page cache
// holds the data before the rename. What differs is a power cut during
// the round: the renames may then reach the disk before the data, and a
// final name may show a file cut short or reading as zeros. Such a
// commit never returned, so nothing was acknowledged; use CommitVerified
// only for files whose every reader checks them before trusting them (a
// checksum, a size, a parse) and treats a failed check as damage. It
// saves one round per commit: on ext4 a journal commit and a cache flush
// (0.1–0.3 ms on our test machine).
func (s *Staged) CommitVerified(c *Committer) error { return s.commit(c, true) }

func (s *Staged) commit(c *Committer, oneRound bool) (err error) {
	var files, appended []*os.File // renamed; appended to
	var dirs []string
	seen := map[string]bool{}
	for _, it := range s.items {
		if it.append {
			appended = append(appended, it.f)
			continue
		}
		files = append(files, it.f)
		if d := filepath.Dir(it.path); !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	defer func() {
		if err != nil {
			s.Discard()
		}
	}()
	if !oneRound {
		if err := c.Sync(files, nil); err != nil {
			return err
		}
	}
	var journal []*os.File
	if s.Journal != nil {
		f, done, jerr := s.Journal()
		if jerr != nil {
			return jerr
		}
		if done != nil {
			defer func() { done(err) }() // err: Commit's named result
		}
		if f != nil {
			journal = append(journal, f)
		}
	}
	for _, it := range s.items {
		switch {
		case it.append:
			if _, err := it.f.Write(it.data); err != nil {
				return err
			}
		case !oneRound: // synced: closed now (one round syncs through them after)
			if err := it.f.Close(); err != nil {
				return err
			}
			fallthrough
		default:
			if err := os.Rename(it.f.Name(), it.path); err != nil {
				return err
			}
		}
		s.placed++
	}
	round := append(journal, appended...)
	if oneRound {
		round = append(files, round...)
	}
	if err = c.Sync(round, dirs); err != nil {
		return err // Discard closes the files, after the appends' undo
	}
	closing := appended
	if oneRound {
		closing = append(closing, files...)
	}
	for _, f := range closing {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return err
	}
	s.items, s.placed = nil, 0
	return nil
}

// Discard removes what is staged: temp files, and the final names placed
// by a Commit that then failed, newest first (commit markers go first).
// Appends are closed; those a failed Commit had written get their undo
// record appended (best effort, not synced).
func (s *Staged) Discard() {
	for i := len(s.items) - 1; i >= 0; i-- {
		it := s.items[i]
		if it.append {
			if i < s.placed && it.undo != nil {
				it.f.Write(it.undo) // best effort: the commit failed already
			}
			it.f.Close()
			continue
		}
		it.f.Close()
		if i < s.placed {
			os.Remove(it.path)
		} else {
			os.Remove(it.f.Name())
		}
	}
	s.items, s.placed = nil, 0
}

// PinnedJournal is a Staged.Journal over an append-only log whose file is
// kept open while pinned (the audit log): write appends the commit's
// records and returns the log's file and its unpin. When the commit's
// round fails to make that file durable, failed hears the error (the log
// can no longer vouch for what it holds: the caller stops taking
// records); the file is unpinned after.
func PinnedJournal(write func() (*os.File, func(), error), failed func(error)) func() (*os.File, func(error), error) {
	return func() (*os.File, func(error), error) {
		f, unpin, err := write()
		if err != nil {
			return nil, nil, err
		}
		return f, func(cerr error) {
			if ferr := FailedFile(cerr, f); ferr != nil && f != nil {
				failed(ferr)
			}
			unpin()
		}, nil
	}
}
