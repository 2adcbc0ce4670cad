package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"mugai/gateway/courier"
	"mugai/gateway/queue"
	"mugai/gateway/safeio"
	"mugai/policy/audit"
)

// deliverer moves spooled messages to the next hop: a scheduler hands due
// entries to a fixed pool of workers; each attempt's per-recipient outcome
// is audited and persisted before the entry is rescheduled or removed.
//
// Deliver once: the scheduler knows each id at most once, waiting or in
// flight, and only while its message file is in the spool. Everything
// that schedules (add, a worker rescheduling after an attempt, rescan)
// checks both under mu, so that neither a session's add racing a rescan
// that found its entry first, nor a rescan that read the directory before
// an entry finished, can schedule a message a second time: an entry's
// files are removed (Finish, MoveToFailed, Delete) before its id leaves
// flight, so under mu "not known" and "file present" together mean new.
//
// Waiting entries are kept in a heap by next attempt (schedule.go): the
// scheduler takes each due entry in O(log n), so neither it nor a
// session's add, which takes the same mu, waits on a scan of the queue.
type deliverer struct {
	g       *Gateway
	courier courier.Courier
	bounce  courier.Courier // the route for DSNs; nil when none is configured
	log     *slog.Logger

	mu      sync.Mutex
	waiting *waitList       // not in flight
	flying  int             // being delivered now
	flyIDs  map[string]bool // which
	flush   map[string]bool // in flight when a rescan asked for "now"
	wake    chan struct{}
	work    chan *queue.Entry
	wg      sync.WaitGroup
}

func newDeliverer(g *Gateway, c courier.Courier) *deliverer {
	return &deliverer{g: g, courier: c, log: g.log.With("component", "deliver"),
		waiting: newWaitList(), flyIDs: map[string]bool{}, flush: map[string]bool{}, wake: make(chan struct{}, 1), work: make(chan *queue.Entry)}
}

// add schedules an entry (new, or recovered from the spool at startup)
// unless the scheduler knows its id already (a rescan got there first) or
// its message file is gone (it was delivered meanwhile). It reports
// whether it added e.
func (d *deliverer) add(e *queue.Entry) bool {
	d.mu.Lock()
	ok := d.schedule1(e, false)
	d.mu.Unlock()
	d.poke()
	return ok
}

// schedule1 puts e in the schedule unless its id is known (waiting or, for
// a new entry, in flight) or its entry left the spool; d.mu is held. A
// worker passes again for the entry it is finishing.
func (d *deliverer) schedule1(e *queue.Entry, again bool) bool {
	if d.waiting.get(e.ID) != nil || (!again && d.flyIDs[e.ID]) || !d.g.spool.Has(e.ID) {
		return false
	}
	if d.flush[e.ID] { // a flush came while this attempt was under way
		delete(d.flush, e.ID)
		e.NextAttempt = d.g.Now()
	}
	d.waiting.put(e)
	return true
}

// drop takes an entry an admin deleted out of the schedule (an attempt
// in flight finds it gone when it persists its state).
func (d *deliverer) drop(id string) bool {
	d.mu.Lock()
	ok := d.waiting.remove(id)
	d.mu.Unlock()
	return ok
}

func (d *deliverer) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// inFlight reports whether an entry is being delivered; d.mu is held.
func (d *deliverer) inFlight(id string) bool { return d.flyIDs[id] }

// oldest returns when the oldest waiting message was received (zero when
// none waits). It reads every waiting entry: once per metrics scrape,
// never per entry delivered.
func (d *deliverer) oldest() time.Time {
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

// queued returns how many messages wait for delivery or are in flight.
func (d *deliverer) queued() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.waiting.Len() + d.flying
}

// start runs the scheduler and workers until ctx ends; stop waits for the
// attempts in flight.
func (d *deliverer) start(ctx context.Context, workers int) {
	for range workers {
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

func (d *deliverer) stop() { d.wg.Wait() }

// finished ends the attempt on e that a worker made: next (when not nil)
// waits for its next attempt, and e's id leaves flight, in one step under
// mu, so that no add or rescan sees the id neither waiting nor in flight
// while its file is still in the spool.
func (d *deliverer) finished(e, next *queue.Entry) {
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

func (d *deliverer) schedule(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := d.dispatch(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(d.g.Now()), 10*time.Millisecond)
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
func (d *deliverer) dispatch(ctx context.Context) time.Time {
	for {
		now := d.g.Now()
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

// attempt delivers an entry's pending recipients once and returns the
// entry to schedule again (nil when it is done with). The message is
// checked against its entry first: a damaged one is never sent as it is.
func (d *deliverer) attempt(e *queue.Entry) *queue.Entry {
	g := d.g
	log := d.log.With("msg_id", e.ID)
	msg, err := g.spool.Read(e)
	switch {
	case errors.Is(err, queue.ErrNotFound):
		log.Info("entry no longer in the spool (deleted or finished meanwhile); dropped")
		return nil
	case errors.Is(err, queue.ErrDamaged):
		return g.spoolDamaged(e, err.Error())
	case err != nil:
		log.Error("cannot read spooled message; will retry", "err", err)
		e.NextAttempt = g.Now().Add(d.backoff(e.Attempts + 1))
		return e
	}
	pending := e.Pending()
	addrs := make([]string, len(pending))
	for i, r := range pending {
		addrs[i] = r.Addr
	}
	c := d.courier
	if e.Bounce {
		c = d.bounce
		if c == nil { // configuration changed since: keep it for the admin
			log.Error("DSN in the spool but no bounce_relay configured; moved to failed/")
			if err := g.spool.MoveToFailed(e); err != nil {
				log.Error("cannot move spool entry", "err", err)
			}
			return nil
		}
	}
	// In-flight deliveries are not cut short by shutdown; the courier's
	// own timeout bounds them.
	results := c.Deliver(context.Background(), e.From, addrs, msg)
	now := g.Now()
	e.Attempts++
	expired := now.Sub(e.Created) >= g.cfg.Deliver.Lifetime.D()
	for i, res := range results {
		d.record(e.ID, pending[i], res, c.Name(), expired, log)
	}
	if len(e.Pending()) == 0 {
		// retire decides: delivered, a DSN, failed/, or nothing when an
		// admin deleted the entry meanwhile (deleted means no DSN).
		if err := d.retire(e, msg, now); err != nil {
			log.Error("cannot finish spool entry", "err", err)
		}
		return nil
	}
	e.NextAttempt = now.Add(d.backoff(e.Attempts))
	if err := g.spool.Update(e); errors.Is(err, queue.ErrNotFound) {
		log.Info("entry deleted from the spool meanwhile; dropped")
		return nil
	} else if err != nil {
		log.Error("cannot persist delivery state", "err", err)
	}
	return e
}

// rescan brings the schedule in line with the spool after an admin changed
// it (mugai queue requeue/delete/flush, SIGUSR1): entries that appeared
// are added, entries that vanished are dropped, and with flush everything
// waiting is due now. It returns how many entries it added and dropped.
//
// The directory is read without d.mu, so by the time mu is held what it
// read may be stale both ways: an entry it saw may have finished since
// (its file is gone: not added), an entry a session committed after the
// read may be waiting already (its file is there: not dropped), and one it
// saw may be known already (a session's add came first, or it is in
// flight: not added twice). schedule1 checks all three under mu.
func (d *deliverer) rescan(flush bool) (added, dropped int, err error) {
	waiting, _, err := d.g.spool.List()
	if err != nil {
		return 0, 0, err
	}
	now := d.g.Now()
	present := map[string]*queue.Entry{}
	for _, e := range waiting {
		present[e.ID] = e
	}
	d.mu.Lock()
	var gone, due []string
	d.waiting.each(func(e *queue.Entry) {
		if present[e.ID] == nil && !d.g.spool.Has(e.ID) {
			gone = append(gone, e.ID)
		}
	})
	for _, id := range gone {
		d.waiting.remove(id)
		dropped++
	}
	for id, e := range present {
		switch {
		case d.waiting.get(id) != nil:
			if flush {
				due = append(due, id)
			}
		case d.inFlight(id):
			// Its attempt is under way; if it ends deferred, the
			// retry is now, not at the backoff it computed.
			if flush {
				d.flush[id] = true
			}
		default:
			if flush {
				e.NextAttempt = now
			}
			if d.schedule1(e, false) {
				added++
			}
		}
	}
	d.waiting.dueAt(due, now) // once for all: O(n) for a flush of everything
	d.mu.Unlock()
	d.poke()
	return added, dropped, nil
}

// addFromSpool schedules the entry id that an admin command put in the
// spool (requeue, release), read from its files; false when it is not in
// the spool or is known already.
func (d *deliverer) addFromSpool(id string) (bool, error) {
	e, err := d.g.spool.Entry(id)
	if err != nil {
		return false, err
	}
	return d.add(e), nil
}

// queueDSN spools a delivery status notification for e's failed
// recipients, durably, as its own entry from <> to e's sender, and then
// retires e. Never for a DSN (e.Bounce) and never to <>: callers check.
func (d *deliverer) queueDSN(e *queue.Entry, rebuilt []byte, now time.Time) error {
	g := d.g
	id := g.newID()
	dsn := &queue.Entry{ID: id, From: "", Created: now, NextAttempt: now, Bounce: true,
		Rcpts: []*queue.Recipient{{Addr: e.From, Status: queue.StatusPending}}}
	// The DSN's records are part of its commit, as an accepted message's
	// are (session.go): no DSN is spooled, nor sent, without them.
	var st safeio.Staged
	if err := g.spool.Stage(&st, dsn, buildDSN(g.cfg.Hostname, id, e, rebuilt, now)); err != nil {
		st.Discard()
		return fmt.Errorf("queue DSN: %w", err)
	}
	aenv := audit.Envelope{From: "", Rcpts: []string{e.From}, MessageID: "<" + id + "@" + g.cfg.Hostname + ">"}
	st.Journal = auditJournal(g.audit, func() (*os.File, func(), error) {
		return g.audit.AcceptedPinned(id, aenv, nil, g.Policy().SHA256)
	}, func(err error) {
		d.log.Error("audit log sync failed; refusing mail until restart", "dsn_id", id, "err", err)
	})
	if err := st.Commit(g.committer); err != nil {
		return fmt.Errorf("queue DSN: %w", err)
	}
	d.log.Info("DSN queued", "msg_id", e.ID, "dsn_id", id, "to", e.From)
	d.add(dsn)
	return g.spool.Remove(e.ID)
}

// record sets recipient r's state from its result of an attempt on entry
// id by the courier named relay, and audits and counts it: delivered;
// failed when the next hop refused it for good or its lifetime ran out
// (expired); else deferred.
func (d *deliverer) record(id string, r *queue.Recipient, res courier.Result, relay string, expired bool, log *slog.Logger) {
	g := d.g
	r.Attempts++
	r.Last = replyOf(res)
	out := "deferred"
	switch {
	case res.Err == nil:
		r.Status, out = queue.StatusDelivered, "delivered"
	case r.Last.Permanent:
		r.Status, out = queue.StatusFailed, "bounced"
	case expired:
		r.Status, out = queue.StatusFailed, "bounced"
		r.Last.Expired = g.cfg.Deliver.Lifetime.D()
	}
	var aerr error
	switch out {
	case "delivered":
		aerr = g.audit.Delivered(id, r.Addr, relay, r.Last.String())
	case "bounced":
		aerr = g.audit.Bounced(id, r.Addr, relay, r.Last.String())
	default:
		aerr = g.audit.Deferred(id, r.Addr, relay, r.Last.String())
	}
	if aerr != nil {
		log.Error("audit write failed", "err", aerr)
	}
	g.metrics.deliveries.WithLabelValues(out).Inc()
	log.Info("delivery attempt", "rcpt", r.Addr, "status", r.Status, "reply", res.Reply)
}

// replyOf is the typed record of a courier's result: its reply as the
// courier reported it, with the SMTP codes and permanence of a failure
// from the courier's own error (never read back from the text).
func replyOf(res courier.Result) *queue.Reply {
	r := &queue.Reply{Text: res.Reply, Permanent: courier.IsPermanent(res.Err)}
	var ce *courier.Error
	if errors.As(res.Err, &ce) && ce.Code != 0 {
		r.Code, r.Enhanced = ce.Code, ce.Enhanced
	}
	return r
}

// backoff is retry_min doubled per attempt up to retry_max, with ±10%
// jitter so that retries after an outage do not arrive all at once.
func (d *deliverer) backoff(attempts int) time.Duration {
	min, max := d.g.cfg.Deliver.RetryMin.D(), d.g.cfg.Deliver.RetryMax.D()
	b := min
	for i := 1; i < attempts && b < max; i++ {
		b *= 2
	}
	b = minDur(b, max)
	return time.Duration(float64(b) * (0.9 + 0.2*rand.Float64()))
}

func minDur(a, b time.Duration) time.Duration {
	if a < b {
		return a
	}
	return b
}
