package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"mugai/gateway/originals"
	"mugai/gateway/queue"
	"mugai/gateway/safeio"
	"mugai/sanitize"
)

// errOriginalDamaged: the kept original does not match its index entry.
var errOriginalDamaged = originals.ErrDamaged

// spoolDamaged handles an entry that Read found damaged while the gateway
// runs: it is moved to the spool's bad/ (after a durable note there saying
// why, which the next start finishes if we crash: see queue.MoveDamaged),
// logged, audited, and rebuilt from its kept original when that verifies.
// It returns the rebuilt entry to schedule (nil when none).
func (g *Gateway) spoolDamaged(e *queue.Entry, why string) *queue.Entry {
	p, err := g.spool.MoveDamaged(e, why)
	if err != nil {
		// Not moved (or not all of it): it stays unscheduled until the
		// next start, which finishes the move its note announces (or,
		// with no note, finds it again), and is never delivered as it is.
		g.log.Error("damaged spool entry; cannot move it to bad/", "msg_id", e.ID, "reason", why, "err", err)
		g.auditDamaged(e.ID, why, "cannot move to bad/ (retried at the next start): "+err.Error())
		return nil
	}
	return g.handleBad(p)
}

// spoolProblem reports what spool recovery moved aside (now, or before a
// crash that left its note unhandled) or left at start, and rebuilds a
// damaged entry from its original; it returns the rebuilt entry (nil when
// none).
func (g *Gateway) spoolProblem(p queue.Problem) *queue.Entry {
	if p.Moved {
		return g.handleBad(p)
	}
	g.log.Warn("unknown file in the spool left in place", "file", p.Name, "reason", p.Reason)
	return nil
}

// handleBad logs and audits an entry moved into bad/ and, when its message
// file is damaged, rebuilds it from its original for the recipients still
// pending (all of the original's when p.Entry is nil); then it marks the
// entry handled in bad/, once its audit record is durable. Until then a
// crash leaves it to the next start, which does this again: the record
// may then be written twice, the message is never rebuilt twice (an entry
// of that id in the spool is the rebuild).
func (g *Gateway) handleBad(p queue.Problem) *queue.Entry {
	log := g.log.With("msg_id", p.ID)
	dir := g.cfg.Spool + "/bad"
	if !p.Damaged {
		log.Error("spool entry moved aside", "file", p.Name, "reason", p.Reason, "dir", dir, "files", strings.Join(p.Files, ","))
		g.auditDamaged(p.ID, p.Reason, "moved to bad/; not delivered")
		g.markBad(p, false)
		return nil
	}
	log.Error("damaged spool entry moved to bad/; never delivered as it is", "reason", p.Reason,
		"dir", dir, "files", strings.Join(p.Files, ","))
	if g.spool.Has(p.ID) {
		// Rebuilt and spooled before a crash: recovery has it already.
		log.Info("damaged spool entry was rebuilt from its original before a restart; not rebuilt again")
		g.auditDamaged(p.ID, p.Reason, "rebuilt from the original (sha256 verified) and queued again")
		g.markBad(p, true)
		return nil
	}
	e, err := g.rebuildFromOriginal(p.ID, p.Entry)
	if err != nil {
		log.Error("damaged spool entry not rebuilt; left in bad/ for an admin", "err", err)
		g.auditDamaged(p.ID, p.Reason, "left in bad/: not rebuilt: "+err.Error())
		g.markBad(p, false)
		return nil
	}
	log.Info("damaged spool entry rebuilt from its original and queued again", "rcpts", len(e.Pending()))
	g.auditDamaged(p.ID, p.Reason, "rebuilt from the original (sha256 verified) and queued again")
	g.markBad(p, true)
	return e
}

// markBad marks p handled in bad/ once the audit log is durable; when it
// is not, the next start handles p again.
func (g *Gateway) markBad(p queue.Problem, rebuilt bool) {
	if err := g.audit.Sync(); err != nil {
		g.log.Error("audit sync failed; the damaged entry is reported again at the next start", "msg_id", p.ID, "err", err)
		return
	}
	if err := g.spool.MarkBad(p, rebuilt); err != nil {
		g.log.Error("cannot mark the entry in bad/ handled; it is reported again at the next start", "msg_id", p.ID, "err", err)
	}
}

func (g *Gateway) auditDamaged(id, why, outcome string) {
	if err := g.audit.Damaged(id, why+"; "+outcome); err != nil {
		g.log.Error("audit write failed", "msg_id", id, "err", err)
	}
}

// openOriginal opens the kept original of message id, at its start,
// after checking it against its index entry (size and sha256). An entry
// without a sha256 (the gateway always writes one) vouches for nothing:
// the original is not rebuilt from, as one that does not match.
func (g *Gateway) openOriginal(id string) (originals.Meta, *os.File, error) {
	m, path, err := g.originals.Get(id)
	if err != nil {
		return m, nil, fmt.Errorf("no original to rebuild from: %w", err)
	}
	if m.SHA256 == "" { // m.Check would pass it
		return m, nil, fmt.Errorf("%w: %s: its index entry has no sha256 to check it against", errOriginalDamaged, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return m, nil, fmt.Errorf("original: %w", err)
	}
	err = m.Check(f)
	switch {
	case errors.Is(err, errOriginalDamaged):
		err = fmt.Errorf("%w: %s", err, path)
	case err != nil:
		err = fmt.Errorf("original: %w", err)
	default:
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return m, nil, err
	}
	return m, f, nil
}

// rebuildFromOriginal rebuilds message id again from its kept original,
// after checking the original against its index (size and sha256), under
// the policy in force now, and spools it under the same id.
func (g *Gateway) rebuildFromOriginal(id string, state *queue.Entry) (*queue.Entry, error) {
	if err := queue.ValidID(id); err != nil {
		return nil, err
	}
	m, f, err := g.openOriginal(id)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	e := &queue.Entry{ID: id, From: m.From, Created: m.Received}
	if state != nil {
		e.From, e.Created, e.Attempts, e.Bounce = state.From, state.Created, state.Attempts, state.Bounce
		for _, r := range state.Rcpts {
			c := *r
			e.Rcpts = append(e.Rcpts, &c)
		}
	} else {
		for _, r := range m.Rcpts {
			e.Rcpts = append(e.Rcpts, &queue.Recipient{Addr: r, Status: queue.StatusPending})
		}
	}
	if len(e.Pending()) == 0 {
		return nil, errors.New("no recipient is pending")
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.Limits.RebuildTimeout.D())
	defer cancel()
	mem, err := g.memory.reserve(ctx, max(64<<10, 3*m.Size))
	if err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	defer mem.release()
	eng := g.engine.Load()
	env := sanitize.Envelope{ID: id, From: m.From, Rcpts: m.Rcpts, ClientIP: m.Client, Helo: m.Helo, Received: m.Received}
	res, err := eng.rebuilder.RebuildContext(ctx, env, f, func(n int64) error { return mem.grow(ctx, n) })
	if err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	e.NextAttempt = g.Now()
	// Its new decisions are part of the new entry's commit, as every
	// spooled message's records are (auditJournal).
	var st safeio.Staged
	if err := g.spool.Stage(&st, e, res.Message); err != nil {
		st.Discard()
		return nil, err
	}
	st.Journal = auditJournal(g.audit, func() (*os.File, func(), error) {
		return g.audit.DecidedPinned(id, res.Decisions, eng.policy.SHA256)
	}, func(err error) {
		g.log.Error("audit log sync failed; refusing mail until restart", "msg_id", id, "err", err)
	})
	if err := st.Commit(g.committer); err != nil {
		return nil, err
	}
	return e, nil
}
