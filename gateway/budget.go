package gateway

import (
	"context"
	"errors"
	"sync"
	"time"
)

// rebuildWait is how long a message waits for rebuild memory before its
// client is told to retry. Postfix waits 600 s for the reply to DATA.
const rebuildWait = 2 * time.Minute

// errBusy is a rebuild that waited too long for memory: 451 4.3.2, the
// client retries later.
var errBusy = errors.New("gateway: rebuild memory budget exhausted")

// budget bounds the memory that concurrent rebuilds hold
// (limits.rebuild_memory): each reserves an estimate before it starts and
// waits, first come first served, while the budget is spent. A reservation
// larger than the whole budget is cut to it, so it runs alone rather than
// never.
type budget struct {
	mu      sync.Mutex
	total   int64
	used    int64
	waiting []*reservation
}

type reservation struct {
	n     int64
	ready chan struct{}
}

func newBudget(total int64) *budget { return &budget{total: total} }

// acquire reserves n bytes (cut to the total), waiting until they are free
// or ctx ends; it returns what was reserved, for release.
func (b *budget) acquire(ctx context.Context, n int64) (int64, error) {
	n = min(n, b.total)
	b.mu.Lock()
	if len(b.waiting) == 0 && b.used+n <= b.total {
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

// release returns a reservation.
func (b *budget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	b.grant()
}

// grant admits waiters in order while they fit. Called with mu held.
func (b *budget) grant() {
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
