package delivery

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"mugai/gateway/courier"
	"mugai/gateway/queue"
)

// attempt delivers an entry's pending recipients once and returns the
// entry to schedule again (nil when it is done with). The message is
// checked against its entry first: a damaged one is never sent as it is.
func (d *Runner) attempt(e *queue.Entry) *queue.Entry {
	log := d.log.With("msg_id", e.ID)
	msg, err := d.deps.Spool.Read(e)
	switch {
	case errors.Is(err, queue.ErrNotFound):
		log.Info("entry no longer in the spool (deleted or finished meanwhile); dropped")
		return nil
	case errors.Is(err, queue.ErrDamaged):
		if d.deps.Damaged == nil {
			log.Error("damaged spool entry; left unscheduled until the next start", "err", err)
			return nil
		}
		return d.deps.Damaged(e, err.Error())
	case err != nil:
		log.Error("cannot read spooled message; will retry", "err", err)
		e.NextAttempt = d.deps.Now().Add(d.backoff(e.Attempts + 1))
		return e
	}
	c := d.route(e, log)
	if c == nil {
		return nil
	}
	pending := e.Pending()
	addrs := make([]string, len(pending))
	for i, r := range pending {
		addrs[i] = r.Addr
	}
	// In-flight deliveries are not cut short by shutdown; the courier's
	// own timeout bounds them.
	results := c.Deliver(context.Background(), e.From, addrs, msg)
	now := d.deps.Now()
	e.Attempts++
	expired := now.Sub(e.Created) >= d.cfg.Lifetime
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
	if err := d.deps.Spool.Update(e); errors.Is(err, queue.ErrNotFound) {
		log.Info("entry deleted from the spool meanwhile; dropped")
		return nil
	} else if err != nil {
		log.Error("cannot persist delivery state", "err", err)
	}
	return e
}

// route returns the courier for e: the next hop, or for a DSN the bounce
// route. A DSN in the spool with no bounce route configured (the
// configuration changed since) is kept in failed/ for the admin, and route
// returns nil.
func (d *Runner) route(e *queue.Entry, log *slog.Logger) courier.Courier {
	if !e.Bounce {
		return d.deps.Courier
	}
	if d.deps.Bounce == nil {
		log.Error("DSN in the spool but no bounce_relay configured; moved to failed/")
		if err := d.deps.Spool.MoveToFailed(e); err != nil {
			log.Error("cannot move spool entry", "err", err)
		}
		return nil
	}
	return d.deps.Bounce
}

// record sets recipient r's state from its result of an attempt on entry
// id by the courier named relay, and audits and counts it: delivered;
// failed when the next hop refused it for good or its lifetime ran out
// (expired); else deferred.
func (d *Runner) record(id string, r *queue.Recipient, res courier.Result, relay string, expired bool, log *slog.Logger) {
	r.Attempts++
	r.Last = replyOf(res)
	var out Outcome
	switch {
	case res.Err == nil:
		r.Status, out = queue.StatusDelivered, Delivered
	case r.Last.Permanent:
		r.Status, out = queue.StatusFailed, Bounced
	case expired:
		r.Status, out = queue.StatusFailed, Bounced
		r.Last.Expired = d.cfg.Lifetime
	default:
		out = Deferred
	}
	var aerr error
	switch out {
	case Delivered:
		aerr = d.deps.Journal.Delivered(id, r.Addr, relay, r.Last.String())
	case Bounced:
		aerr = d.deps.Journal.Bounced(id, r.Addr, relay, r.Last.String())
	default:
		aerr = d.deps.Journal.Deferred(id, r.Addr, relay, r.Last.String())
	}
	if aerr != nil {
		log.Error("audit write failed", "err", aerr)
	}
	if d.deps.Count != nil {
		d.deps.Count(out)
	}
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
func (d *Runner) backoff(attempts int) time.Duration {
	lo, hi := d.cfg.RetryMin, d.cfg.RetryMax
	b := lo
	for i := 1; i < attempts && b < hi; i++ {
		b *= 2
	}
	b = min(b, hi)
	return time.Duration(float64(b) * (0.9 + 0.2*rand.Float64()))
}
