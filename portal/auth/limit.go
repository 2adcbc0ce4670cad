package auth

import (
	"sync"
	"time"
)

// Limiter counts failed attempts per key (a ZIP part's unlock, a login
// name, a client address): the max-th failure within window locks the
// key for lockout. Call Allow before an attempt, Fail after a failed
// one, Reset after a success.
//
// Memory is bounded: keys whose failures are older than window, and
// locks that ended, are swept; past 100,000 keys the oldest counting key
// is evicted first, and the oldest lock only when the table holds nothing
// but locks (so a flood of new keys cannot lift a lock unless it first
// locks 100,000 keys itself, max failures each). A Limiter may be used concurrently.
type Limiter struct {
	max             int
	window, lockout time.Duration
	now             func() time.Time
	cap             int

	mu       sync.Mutex
	counting *ordered[[]time.Time] // recent failures; newest failure first
	locked   *ordered[time.Time]   // end of the lock; newest lock first
}

// NewLimiter returns a limiter allowing max-1 failures per window (max
// >= 1; e.g. 5 per 15 minutes, then locked for an hour). now is the
// clock (time.Now in production).
func NewLimiter(max int, window, lockout time.Duration, now func() time.Time) *Limiter {
	if max < 1 || window <= 0 || lockout <= 0 {
		panic("auth: NewLimiter needs max >= 1 and positive durations")
	}
	return &Limiter{
		max: max, window: window, lockout: lockout, now: now, cap: defaultKeyCap,
		counting: newOrdered[[]time.Time](), locked: newOrdered[time.Time](),
	}
}

// Allow reports whether key may try now; while it is locked, false and
// how long the lock still lasts.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	if until := l.locked.get(key); until != nil {
		if now.Before(*until) {
			return false, until.Sub(now)
		}
		l.locked.del(key)
	}
	return true, 0
}

// Fail counts a failed attempt of key; the max-th within window locks
// it. A failure while key is locked (an attempt that passed Allow just
// before the lock) neither counts nor extends the lock.
func (l *Limiter) Fail(key string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	if until := l.locked.get(key); until != nil {
		if now.Before(*until) {
			return
		}
		l.locked.del(key)
	}
	var recent []time.Time
	if at := l.counting.get(key); at != nil {
		for _, t := range *at {
			if now.Sub(t) < l.window {
				recent = append(recent, t)
			}
		}
	}
	recent = append(recent, now)
	if len(recent) >= l.max {
		l.counting.del(key)
		l.locked.put(key, now.Add(l.lockout))
	} else {
		l.counting.put(key, recent)
	}
	l.evict(key)
}

// evict brings the keys down to the cap: counting keys first, the oldest
// first, but never keep, the key just counted; locks, the oldest first,
// when no other counting key is left.
func (l *Limiter) evict(keep string) {
	for l.counting.len()+l.locked.len() > l.cap {
		if k, ok := l.counting.oldest(); ok && k != keep {
			l.counting.del(k)
		} else if !l.locked.evictOldest() {
			l.counting.evictOldest()
		}
	}
}

// Reset forgets key's failures and lock (after a success).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counting.del(key)
	l.locked.del(key)
}

// Len returns how many keys are held.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counting.len() + l.locked.len()
}

func (l *Limiter) sweep(now time.Time) {
	// The newest failure of a key is its last; all of them out of the
	// window means the key counts as new.
	l.counting.sweep(func(at *[]time.Time) bool { return now.Sub((*at)[len(*at)-1]) >= l.window })
	l.locked.sweep(func(until *time.Time) bool { return !now.Before(*until) })
}

// Rate limits requests per client with a token bucket: burst requests at
// once, then perMinute a minute. A client unseen for as long as its
// bucket takes to fill is forgotten (it would start full anyway); past
// 100,000 clients the least recently seen is forgotten first. A Rate may
// be used concurrently.
type Rate struct {
	perSecond float64
	burst     float64
	fill      time.Duration // from empty to full
	now       func() time.Time
	cap       int

	mu      sync.Mutex
	buckets *ordered[bucket]
}

type bucket struct {
	tokens float64
	at     time.Time
}

// NewRate returns a limiter of perMinute requests a minute, burst at
// once (both >= 1). now is the clock (time.Now in production).
func NewRate(perMinute, burst int, now func() time.Time) *Rate {
	if perMinute < 1 || burst < 1 {
		panic("auth: NewRate needs perMinute and burst >= 1")
	}
	return &Rate{
		perSecond: float64(perMinute) / 60,
		burst:     float64(burst),
		fill:      time.Duration(float64(burst) / float64(perMinute) * float64(time.Minute)),
		now:       now,
		cap:       defaultKeyCap,
		buckets:   newOrdered[bucket](),
	}
}

// Allow takes one request from client's bucket: false when it is empty.
func (r *Rate) Allow(client string) bool {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buckets.sweep(func(b *bucket) bool { return now.Sub(b.at) >= r.fill })
	b := bucket{tokens: r.burst, at: now}
	if old := r.buckets.get(client); old != nil {
		b = *old
		if d := now.Sub(b.at); d > 0 {
			b.tokens = min(r.burst, b.tokens+d.Seconds()*r.perSecond)
		}
		b.at = now
	}
	ok := b.tokens >= 1
	if ok {
		b.tokens--
	}
	r.buckets.put(client, b)
	for r.buckets.len() > r.cap {
		r.buckets.evictOldest()
	}
	return ok
}

// Len returns how many clients are held.
func (r *Rate) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buckets.len()
}
