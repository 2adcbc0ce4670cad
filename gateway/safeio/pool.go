package safeio

import (
	"fmt"
	"os"
	"sync"
	"syscall"
)

// Pool keeps empty temp files created ahead of need in one directory, so
// that a message's commit opens none while its sender waits: allocating an
// inode is the dearest step of a commit on some disks (0.2–0.8 ms of
// kernel CPU per create on the ext4 of our test machines, against ~20 µs
// for a rename), and a message takes three. A goroutine refills the pool
// after each Get, on another core while the session goes on; a Get that
// finds the pool empty creates its file itself, so the pool never makes a
// message wait longer than without it. The filling starts at the first
// Get: a pool that is never used creates nothing.
//
// The files are ordinary temp files (IsTemp): a start after a crash
// removes the ones left, as it removes every temp file. A file from the
// pool is renamed to its final name by a Staged commit, in its own
// directory or another one of the same file system.
//
// A recycling pool (NewRecyclingPool) also takes back files its owner is
// done with (Recycle: a delivered spool entry), emptied, instead of their
// being deleted, and creates files only when fewer than a quarter of its
// size are ready. Where every message is deleted once delivered, that
// takes both the create and the delete off each message. Why it matters:
// on ext4 without a journal, every create skips the inodes of its block
// group freed in the last seconds to minutes (find_inode_bit →
// recently_deleted), so the cost of a create grows with the deletes around
// it, ours and other programs': 0.6 ms per create in a busy /tmp of our
// test machine against 20 µs in a quiet folder of the same disk.
type Pool struct {
	dir  string
	perm os.FileMode
	low  int // the refill creates files while fewer than low are ready
	// recycle: Recycle keeps files (NewRecyclingPool), else deletes them.
	recycle bool
	// rename moves a recycled file to its pool name (nil:
	// renameNoReplace); tests make it fail.
	rename func(from, to string) error

	ready chan *os.File
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{} // closed when the filling has stopped (or never started)
	start sync.Once
	close sync.Once
}

// NewPool starts a pool of up to size files in dir, created with perm.
func NewPool(dir string, perm os.FileMode, size int) *Pool {
	size = max(size, 1)
	return &Pool{dir: dir, perm: perm, low: size, ready: make(chan *os.File, size),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// NewRecyclingPool starts a pool of up to size files in dir that Recycle
// refills: it creates files only when fewer than size/4 are ready.
func NewRecyclingPool(dir string, perm os.FileMode, size int) *Pool {
	p := NewPool(dir, perm, size)
	p.low, p.recycle = max(cap(p.ready)/4, 1), true
	return p
}

// Recycle takes the file at path, which its owner is done with, instead
// of deleting it: renamed under a new temp name of p's directory (so the
// path is gone at once, as with a delete), emptied, and kept for a later
// Get; removed when p has no room for it, is closed, is not a recycling
// pool, or the rename fails, and when it is not a regular file with no
// other name (openSole). path must be on p's file system. Like os.Remove
// it returns an error satisfying os.IsNotExist when path is not there. A
// nil pool removes the file.
//
// A reader that opened the file before Recycle may see it emptied, or
// later filled with another message: whoever reads such a file checks
// that what it read is what it asked for (the spool checks the entry's id
// and SHA-256, then that the path still names the file it read; see
// queue.Spool.Read).
func (p *Pool) Recycle(path string) error {
	if p == nil || !p.recycle {
		return os.Remove(path)
	}
	select {
	case <-p.stop:
		return os.Remove(path)
	default:
	}
	name, err := tempName(p.dir, "pool")
	if err != nil {
		return os.Remove(path)
	}
	rename := p.rename
	if rename == nil {
		rename = renameNoReplace
	}
	if err := rename(path, name); os.IsNotExist(err) {
		return err
	} else if err != nil { // no RENAME_NOREPLACE here (EINVAL), a name taken…: as a delete
		return os.Remove(path)
	}
	f, err := openSole(name)
	if err == nil {
		err = f.Truncate(0)
	}
	if err == nil {
		select {
		case p.ready <- f:
			select {
			case <-p.stop: // closed meanwhile, maybe after its drain
				p.drain()
			default:
			}
			return nil
		default: // full: as a delete
		}
	}
	if f != nil {
		f.Close()
	}
	return os.Remove(name)
}

// openSole opens the file name for reading and writing if it is a
// regular file with no other name, one Recycle may empty and hand out
// again: not a symbolic link (its target would be emptied), not a file
// with another hard link (an admin's or a backup's copy would lose its
// bytes, then show a later message).
func openSole(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); !fi.Mode().IsRegular() || !ok || st.Nlink != 1 {
			err = fmt.Errorf("%s: not a regular file with one name", name)
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// TempFile returns an empty temp file for a file to be named in dir: one
// of p's when p is not nil (p's directory must be on dir's file system;
// the file has p's permissions), else a new one in dir whose name starts
// with prefix, created with perm.
func (p *Pool) TempFile(dir, prefix string, perm os.FileMode) (*os.File, error) {
	if p == nil {
		return CreateTemp(dir, prefix, perm)
	}
	return p.Get()
}

// Get returns an empty temp file of the pool's directory, open for
// reading and writing: one created ahead when there is one, else a new
// one. The caller owns it (Discard removes it).
func (p *Pool) Get() (*os.File, error) {
	p.start.Do(func() { go p.refill() })
	select {
	case f := <-p.ready:
		p.kick()
		return f, nil
	default:
	}
	p.kick()
	return CreateTemp(p.dir, "pool", p.perm)
}

func (p *Pool) kick() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// refill fills the pool whenever woken, until Close. A create that fails
// (a full disk, a directory gone) ends this filling; the next Get wakes
// it again and creates its own file, whose error the caller sees.
func (p *Pool) refill() {
	defer close(p.done)
	for {
		select {
		case <-p.stop:
			return
		case <-p.wake:
		}
		if len(p.ready) >= p.low {
			continue
		}
		// The room seen now, no more: a Get meanwhile wakes this again,
		// and the pool is refilled only if fewer than low are ready then
		// (chasing every Get until full refilled above low).
		for n := cap(p.ready) - len(p.ready); n > 0; n-- {
			select {
			case <-p.stop:
				return
			default:
			}
			f, err := CreateTemp(p.dir, "pool", p.perm)
			if err != nil {
				break
			}
			select {
			case p.ready <- f:
			default: // Recycle filled the room meanwhile
				Discard(f)
			}
		}
	}
}

// Close stops the refilling and removes the files not taken. Get after
// Close still works: it creates its file itself. A nil pool has nothing
// to close.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.close.Do(func() {
		p.start.Do(func() { close(p.done) }) // never started: nothing to stop
		close(p.stop)
		<-p.done
		p.drain()
	})
}

// drain removes the files ready in the pool.
func (p *Pool) drain() {
	for {
		select {
		case f := <-p.ready:
			Discard(f)
		default:
			return
		}
	}
}
