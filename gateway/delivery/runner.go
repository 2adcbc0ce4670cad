// Package delivery runs the queue: it hands the spool's entries to the
// courier when they are due, records each attempt's outcome per recipient
// (audit log, spool, metrics), retries with backoff until the lifetime
// runs out, and answers failures with a delivery status notification
// (RFC 3464) to the sender, as chasquid's queue owns its send loop and
// its DSNs. It works on the spool (gateway/queue) and the couriers
// (gateway/courier) it is given, never on the gateway itself.
//
// Lifecycle: New; Resume with the entries the spool recovered; Start runs
// the scheduler and workers until its context ends; Stop waits for the
// attempts in flight. Add, Drop, Rescan and AddFromSpool may be called
// from any goroutine at any time, before Start too.
package delivery

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"mugai/gateway/courier"
	"mugai/gateway/queue"
	"mugai/gateway/safeio"
	"mugai/policy"
	"mugai/policy/audit"
)

// Config is the delivery settings (the deliver section of the gateway's
// configuration), read at New.
type Config struct {
	Hostname string        // our name: a DSN's Reporting-MTA, Message-ID and From
	Workers  int           // parallel delivery attempts
	Lifetime time.Duration // how long a recipient is retried before it fails
	RetryMin time.Duration // the first retry's wait, doubled per attempt…
	RetryMax time.Duration // …up to this
	// ReleaseSender is the envelope sender of mail the gateway itself
	// originates (releases): its failures are kept for the admin, never
	// answered with a DSN.
	ReleaseSender string
}

// Journal is what delivery writes to the audit log (*audit.Log): one
// record per recipient and attempt, and a DSN's records, pinned for the
// commit of its spool entry (see safeio.PinnedJournal). Fail marks the
// log broken when such a commit could not make it durable.
type Journal interface {
	Delivered(id, rcpt, relay, reply string) error
	Deferred(id, rcpt, relay, reply string) error
	Bounced(id, rcpt, relay, reply string) error
	AcceptedPinned(id string, env audit.Envelope, decisions []policy.Decision, policySHA string) (*os.File, func(), error)
	Fail(err error)
}

var _ Journal = (*audit.Log)(nil)

// Outcome is what one attempt came to for one recipient (the label of
// the gateway's mugai_deliveries_total).
type Outcome string

const (
	Delivered Outcome = "delivered"
	Deferred  Outcome = "deferred"
	Bounced   Outcome = "bounced"
)

// Outcomes are all the outcomes, for metrics that start at 0.
var Outcomes = []Outcome{Delivered, Deferred, Bounced}

// Deps are what the runner works with, all owned by the caller. Courier,
// Spool, Journal, Log and Now are required.
type Deps struct {
	Spool   *queue.Spool
	Courier courier.Courier // the next hop
	Bounce  courier.Courier // the route for DSNs; nil when none is configured
	Journal Journal
	// Committer groups a DSN's commit with other commits (nil: alone).
	Committer *safeio.Committer
	Log       *slog.Logger
	Now       func() time.Time
	// NewID names a DSN's spool entry; PolicySHA is the policy in force,
	// for a DSN's received record.
	NewID     func(time.Time) string
	PolicySHA func() string
	// Damaged takes an entry whose message Read found damaged (why says
	// how) out of the spool, and returns the entry rebuilt in its place
	// to schedule, or nil. Nil Damaged: the entry is left unscheduled,
	// and the next start finds it.
	Damaged func(e *queue.Entry, why string) *queue.Entry
	// Count, when set, hears each recipient's outcome of each attempt.
	Count func(Outcome)
}

// Runner moves spooled messages to the next hop: a scheduler hands due
// entries to a fixed pool of workers; each attempt's per-recipient
// outcome is audited and persisted before the entry is rescheduled or
// removed.
//
// Deliver once: the scheduler knows each id at most once, waiting or in
// flight, and only while its message file is in the spool. Everything
// that schedules (Add, a worker rescheduling after an attempt, Rescan)
// checks both under mu, so that neither a session's Add racing a Rescan
// that found its entry first, nor a Rescan that read the directory before
// an entry finished, can schedule a message a second time: an entry's
// files are removed (Finish, MoveToFailed, Delete) before its id leaves
// flight, so under mu "not known" and "file present" together mean new.
//
// Waiting entries are kept in a heap by next attempt (schedule.go): the
// scheduler takes each due entry in O(log n), so neither it nor a
// session's Add, which takes the same mu, waits on a scan of the queue.
type Runner struct {
	cfg  Config
	deps Deps
	log  *slog.Logger

	mu      sync.Mutex
	waiting *waitList       // not in flight
	flying  int             // being delivered now
	flyIDs  map[string]bool // which
	flush   map[string]bool // in flight when a rescan asked for "now"
	wake    chan struct{}
	work    chan *queue.Entry
	wg      sync.WaitGroup
}

// New returns a runner, not started.
func New(cfg Config, deps Deps) *Runner {
	return &Runner{cfg: cfg, deps: deps, log: deps.Log.With("component", "deliver"),
		waiting: newWaitList(), flyIDs: map[string]bool{}, flush: map[string]bool{},
		wake: make(chan struct{}, 1), work: make(chan *queue.Entry)}
}

// Resume schedules the entries the spool held at start. Mail that became
// due while the gateway was down resumes spread over a window (the first
// retry's wait, at most a minute), not all at once: no thundering herd at
// the next hop.
func (d *Runner) Resume(entries []*queue.Entry) {
	window := min(d.cfg.RetryMin, time.Minute)
	now := d.deps.Now()
	for _, e := range entries {
		if e.NextAttempt.Before(now) && window > 0 {
			e.NextAttempt = now.Add(time.Duration(rand.Int64N(int64(window))))
		}
		d.Add(e)
	}
}

// Add schedules an entry (new, or recovered from the spool at startup)
// unless the scheduler knows its id already (a rescan got there first) or
// its message file is gone (it was delivered meanwhile). It reports
// whether it added e.
func (d *Runner) Add(e *queue.Entry) bool {
	d.mu.Lock()
	ok := d.schedule1(e, false)
	d.mu.Unlock()
	d.poke()
	return ok
}

// schedule1 puts e in the schedule unless its id is known (waiting or, for
// a new entry, in flight) or its entry left the spool; d.mu is held. A
// worker passes again for the entry it is finishing.
func (d *Runner) schedule1(e *queue.Entry, again bool) bool {
	if d.waiting.get(e.ID) != nil || (!again && d.flyIDs[e.ID]) || !d.deps.Spool.Has(e.ID) {
		return false
	}
	if d.flush[e.ID] { // a flush came while this attempt was under way
		delete(d.flush, e.ID)
		e.NextAttempt = d.deps.Now()
	}
	d.waiting.put(e)
	return true
}

// Drop takes an entry an admin deleted out of the schedule (an attempt
// in flight finds it gone when it persists its state).
func (d *Runner) Drop(id string) bool {
	d.mu.Lock()
	ok := d.waiting.remove(id)
	d.mu.Unlock()
	return ok
}

func (d *Runner) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Oldest returns when the oldest waiting message was received (zero when
// none waits). It reads every waiting entry: once per metrics scrape,
// never per entry delivered.
func (d *Runner) Oldest() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	var t time.Time
	d.waiting.each(func(e *queue.Entry) {
		if t.IsZero() || e.Created.Before(t) {
			t = e.Created
		}
	})
	return t
}

// Queued returns how many messages wait for delivery or are in flight.
func (d *Runner) Queued() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.waiting.Len() + d.flying
}

// Start runs the scheduler and Config.Workers workers until ctx ends;
// Stop waits for the attempts in flight.
func (d *Runner) Start(ctx context.Context) {
	for range d.cfg.Workers {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			for e := range d.work {
				d.finished(e, d.attempt(e))
			}
		}()
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer close(d.work)
		d.schedule(ctx)
	}()
}

// Stop waits until the scheduler and the workers are done (after the
// context given to Start ended), then closes the connections the couriers
// keep idle (see IdleCloser).
func (d *Runner) Stop() {
	d.wg.Wait()
	for _, c := range []courier.Courier{d.deps.Courier, d.deps.Bounce} {
		if ic, ok := c.(IdleCloser); ok {
			ic.CloseIdle()
		}
	}
}

// IdleCloser is a courier that keeps connections open between deliveries
// (*courier.SMTP): Stop closes them once no attempt is in flight.
type IdleCloser interface{ CloseIdle() }

// ConnCounter is a courier that counts its connections (*courier.SMTP).
type ConnCounter interface{ Stats() courier.Stats }

// Connections sums the connection counts of the couriers (the next hop
// and the bounce route, when they count them): for the metrics.
func (d *Runner) Connections() courier.Stats {
	var sum courier.Stats
	for _, c := range []courier.Courier{d.deps.Courier, d.deps.Bounce} {
		if cc, ok := c.(ConnCounter); ok {
			st := cc.Stats()
			sum.Opened += st.Opened
			sum.Reused += st.Reused
		}
	}
	return sum
}

// finished ends the attempt on e that a worker made: next (when not nil)
// waits for its next attempt, and e's id leaves flight, in one step under
// mu, so that no Add or Rescan sees the id neither waiting nor in flight
// while its file is still in the spool.
func (d *Runner) finished(e, next *queue.Entry) {
	d.mu.Lock()
	if next != nil {
		d.schedule1(next, true)
	}
	d.flying--
	delete(d.flyIDs, e.ID)
	delete(d.flush, e.ID)
	d.mu.Unlock()
	if next != nil {
		d.poke()
	}
}

func (d *Runner) schedule(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := d.dispatch(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(d.deps.Now()), 10*time.Millisecond)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// dispatch hands every due entry to a worker, earliest first, and returns
// the earliest future attempt time (zero when nothing waits). Each entry
// costs one heap pop under mu, O(log n).
func (d *Runner) dispatch(ctx context.Context) time.Time {
	for {
		now := d.deps.Now()
		d.mu.Lock()
		due, next := d.waiting.takeDue(now)
		if due != nil {
			d.flying++
			d.flyIDs[due.ID] = true
		}
		d.mu.Unlock()
		if due == nil {
			return next
		}
		select {
		case d.work <- due:
		case <-ctx.Done():
			d.mu.Lock()
			d.flying--
			delete(d.flyIDs, due.ID)
			d.schedule1(due, true)
			d.mu.Unlock()
			return time.Time{}
		}
	}
}
