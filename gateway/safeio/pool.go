package safeio

import (
	"os"
	"sync"
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
type Pool struct {
	dir  string
	perm os.FileMode

	ready chan *os.File
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{} // closed when the filling has stopped (or never started)
	start sync.Once
	close sync.Once
}

// NewPool starts a pool of up to size files in dir, created with perm.
func NewPool(dir string, perm os.FileMode, size int) *Pool {
	return &Pool{dir: dir, perm: perm, ready: make(chan *os.File, max(size, 1)),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
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
		for len(p.ready) < cap(p.ready) {
			select {
			case <-p.stop:
				return
			default:
			}
			f, err := CreateTemp(p.dir, "pool", p.perm)
			if err != nil {
				break
			}
			p.ready <- f // never blocks: only this goroutine fills, and there was room
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
		for {
			select {
			case f := <-p.ready:
				Discard(f)
			default:
				return
			}
		}
	})
}
