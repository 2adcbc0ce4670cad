package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// rebuildWait is how long a message waits for its base rebuild memory
// before its client is told to retry (never past limits.rebuild_timeout).
// Postfix waits 600 s for the reply to DATA.
const rebuildWait = 2 * time.Minute

var (
	// errBusy is a rebuild that could not get its memory: 451 4.3.2, the
	// client retries later.
	errBusy = errors.New("gateway: rebuild memory budget exhausted")
	// errReleased is a grow asked for after the message's memory was
	// given back (a sanitizer still running past the rebuild's end).
	errReleased = errors.New("gateway: rebuild memory already released")
)

// budget bounds the memory that concurrent rebuilds hold
// (limits.rebuild_memory). Each message reserves an estimate before its
// rebuild starts (acquire, first come first served, waiting while the
// budget is spent) and grows the reservation while it runs, as the
// rebuild expands (lease.grow). A reservation or a growth larger than the
// whole budget is cut to it, so the message runs alone rather than never.
//
// Growth cannot deadlock: a growth that fits is granted at once (ahead of
// messages that have not started: finishing work in progress frees
// memory); otherwise at most one growth waits, and while it waits no new
// rebuild is admitted. Every other holder is a running rebuild that waits
// on nobody (a second growth that does not fit fails at once), so it ends
// and releases, and the waiting growth is granted or its deadline passes.
type budget struct {
	mu      sync.Mutex
	total   int64
	used    int64
	waiting []*reservation // rebuilds waiting to start, in order
	grower  *growth        // the one running rebuild waiting to grow; nil when none
}

type reservation struct {
	n     int64
	ready chan struct{}
}

// growth is a lease waiting for more memory. ready is closed when it was
// granted (held grew by n) or refused (refused set, by release).
type growth struct {
	l       *lease
	n       int64
	ready   chan struct{}
	refused bool
}

// lease is the memory one message holds: its base reservation and all it
// grew by, given back together by release. Fields are guarded by b.mu.
type lease struct {
	b      *budget
	held   int64
	closed bool
}

func newBudget(total int64) *budget { return &budget{total: total} }

// reserve is acquire as a lease that can grow.
func (b *budget) reserve(ctx context.Context, n int64) (*lease, error) {
	got, err := b.acquire(ctx, n)
	if err != nil {
		return nil, err
	}
	return &lease{b: b, held: got}, nil
}

// acquire reserves n bytes (cut to the total), waiting until they are free
// or ctx ends; it returns what was reserved, for release.
func (b *budget) acquire(ctx context.Context, n int64) (int64, error) {
	n = min(n, b.total)
	b.mu.Lock()
	if len(b.waiting) == 0 && b.grower == nil && b.used+n <= b.total {
		b.used += n
		b.mu.Unlock()
		return n, nil
	}
	r := &reservation{n: n, ready: make(chan struct{})}
	b.waiting = append(b.waiting, r)
	b.mu.Unlock()
	select {
	case <-r.ready:
		return n, nil
	case <-ctx.Done():
		b.mu.Lock()
		defer b.mu.Unlock()
		select {
		case <-r.ready: // granted meanwhile: give it back
			b.used -= n
			b.grant()
		default:
			for i, w := range b.waiting {
				if w == r {
					b.waiting = append(b.waiting[:i], b.waiting[i+1:]...)
					break
				}
			}
			b.grant() // the head may have changed
		}
		return 0, errBusy
	}
}

// release returns a reservation made by acquire.
func (b *budget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	b.grant()
}

// grow adds n bytes to the lease (cut so that the lease holds at most the
// whole budget). It is granted at once when they are free; otherwise it
// waits, while no other growth waits, until they are or ctx ends. It
// returns an error wrapping errBusy when another growth is already
// waiting, the ctx's cause (wrapped) when ctx ended, and errReleased after
// release.
func (l *lease) grow(ctx context.Context, n int64) error {
	b := l.b
	b.mu.Lock()
	if l.closed {
		b.mu.Unlock()
		return errReleased
	}
	n = min(n, b.total-l.held)
	if n <= 0 {
		b.mu.Unlock()
		return nil
	}
	if b.used+n <= b.total {
		b.used += n
		l.held += n
		b.mu.Unlock()
		return nil
	}
	if b.grower != nil {
		b.mu.Unlock()
		return fmt.Errorf("%w: another rebuild is already waiting to grow", errBusy)
	}
	w := &growth{l: l, n: n, ready: make(chan struct{})}
	b.grower = w
	b.mu.Unlock()
	select {
	case <-w.ready:
	case <-ctx.Done():
		b.mu.Lock()
		if b.grower == w {
			b.grower = nil
			b.grant() // rebuilds held back by this growth may start
			b.mu.Unlock()
			return fmt.Errorf("waiting for %d bytes of rebuild memory: %w", n, context.Cause(ctx))
		}
		b.mu.Unlock() // granted or refused meanwhile: ready is closed
	}
	if w.refused {
		return errReleased
	}
	return nil
}

// release gives back everything the lease holds; a growth still waiting
// is refused. Later grows fail. Safe to call more than once.
func (l *lease) release() {
	b := l.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	if w := b.grower; w != nil && w.l == l {
		b.grower, w.refused = nil, true
		close(w.ready)
	}
	b.used -= l.held
	l.held = 0
	b.grant()
}

// grant admits the waiting growth if it fits, then, while no growth
// waits, rebuilds waiting to start, in order, while they fit. Called with
// mu held.
func (b *budget) grant() {
	if w := b.grower; w != nil {
		if b.used+w.n > b.total {
			return
		}
		b.used += w.n
		w.l.held += w.n
		b.grower = nil
		close(w.ready)
	}
	for len(b.waiting) > 0 && b.used+b.waiting[0].n <= b.total {
		r := b.waiting[0]
		b.waiting = b.waiting[1:]
		b.used += r.n
		close(r.ready)
	}
}

// inUse is the memory reserved now, for the metrics.
func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
