package gateway

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"mugai/gateway/delivery"
	"mugai/gateway/originals"
	"mugai/gateway/queue"
	"mugai/policy"
	"mugai/policy/audit"
)

// maxTailBytes bounds what start-up reads of the audit log (recoverAudit);
// a log that holds more than this within recoveryWindow is read only this
// far back, and the start-up log says so.
const maxTailBytes = 512 << 20

// recoveryWindow is how far back before the newest audit record a
// message can have been received and still lack its records.
//
// Why that bounds it: a session writes its records after its files and
// before its renames, and every commit round syncs the audit file,
// which makes every record written before it durable too (one
// append-only file). A kill leaves the page cache, so after a kill no
// visible message lacks records. After a power cut, a message whose
// renames survived but whose records did not was in its last commit
// round: no sync of the audit file finished after its records were
// written, so the durable log ends at most one round before them, and
// the message was received (DATA began) at most a session's life plus
// the rebuild's wait and time before that. Anything older was either
// audited durably or checked by an earlier start (recovery runs and
// syncs before delivery on every start). The margin covers small clock
// steps.
func recoveryWindow(cfg Config) time.Duration {
	w := cfg.Accept.SessionTimeout.D() + rebuildWait + cfg.Limits.RebuildTimeout.D() + 10*time.Minute
	return max(w, time.Hour)
}

// recoverAudit gives every message kept without its received or decision
// records (in the spool, or in the originals store) those records, rebuilt
// from its originals index and marked recovered, and syncs them, before
// any delivery starts. It looks at the messages received since tail.Since
// (see recoveryWindow) and at the audit records since then. A spool entry
// with no original of its own (a DSN, a release) has its own records and
// is left alone. A spool entry with no records whose index does not read
// (a power cut during its one commit round kept the entry and lost both)
// is moved to bad/ and left out of the entries returned: nothing is
// delivered without its records.
func (g *Gateway) recoverAudit(tail *audit.Tail, entries []*queue.Entry) ([]*queue.Entry, error) {
	if tail.Truncated {
		g.log.Warn("audit log read only part of the recovery window (too large); older messages not checked",
			"since", tail.Since, "bytes", maxTailBytes)
	}
	ms, problems, err := g.originals.List(originals.Filter{Since: tail.Since})
	if err != nil {
		return nil, fmt.Errorf("originals: %w", err)
	}
	for _, p := range problems {
		g.log.Error("originals index entry does not parse; not checked for audit records", "problem", p)
	}
	metas := map[string]originals.Meta{}
	var order []string
	for _, m := range ms {
		metas[m.ID] = m
		order = append(order, m.ID)
	}
	kept := entries[:0]
	for _, e := range entries {
		// A DSN or a release has no original of its own, and its own records.
		own := e.Bounce || delivery.Originated(e, g.cfg.releaseSender(), g.cfg.Hostname)
		if _, ok := metas[e.ID]; ok || own || e.Created.Before(tail.Since) {
			kept = append(kept, e)
			continue
		}
		m, _, err := g.originals.Get(e.ID)
		switch received, _ := tail.Has(e.ID); {
		case err == nil:
			metas[e.ID] = m
			order = append(order, e.ID)
		case !errors.Is(err, originals.ErrNotFound) && !received:
			// Its index does not read and the log has no record of it:
			// a power cut during its one commit round (no 250 given)
			// kept the spool entry and lost both. Nothing to rewrite
			// its records from, so it is not delivered.
			g.withoutRecords(e, err)
			continue
		}
		kept = append(kept, e)
	}
	entries = kept
	var recovered []string
	for _, id := range order {
		m := metas[id]
		received, decided := tail.Has(id)
		if received && (decided || len(m.Parts) == 0) {
			continue
		}
		env := audit.Envelope{From: m.From, Rcpts: m.Rcpts, MessageID: m.MessageID, Size: m.Size, Client: m.Client}
		if err := g.audit.Recovered(id, env, partDecisions(m), m.Policy); err != nil {
			return nil, fmt.Errorf("audit: recover %s: %w", id, err)
		}
		recovered = append(recovered, id)
	}
	if len(recovered) == 0 {
		return entries, nil
	}
	if err := g.audit.Sync(); err != nil {
		return nil, err
	}
	shown := recovered[:min(len(recovered), 20)]
	g.log.Warn("audit records rewritten from the originals index for messages kept without them (a crash before their commit finished)",
		"count", len(recovered), "ids", strings.Join(shown, ","))
	return entries, nil
}

// withoutRecords moves spool entry e, which has no audit records and
// whose originals index does not read (err), into bad/ with a damaged
// record saying why; it is not delivered.
func (g *Gateway) withoutRecords(e *queue.Entry, err error) {
	why := "no audit records and its originals index does not read (" + err.Error() + "): not delivered without records"
	p, merr := g.spool.MoveAside(e, why)
	if merr != nil {
		// Not moved: not scheduled either; the next start finds it again.
		g.log.Error("spool entry without audit records; cannot move it to bad/", "msg_id", e.ID, "reason", why, "err", merr)
		g.auditDamaged(e.ID, why, "cannot move to bad/ (retried at the next start): "+merr.Error())
		return
	}
	g.handleBad(p)
}

// partDecisions turns an originals index back into the decisions it records.
func partDecisions(m originals.Meta) []policy.Decision {
	ds := make([]policy.Decision, 0, len(m.Parts))
	for _, p := range m.Parts {
		ds = append(ds, policy.Decision{MsgID: m.ID, Path: p.Path, DeclaredType: p.DeclaredType, DetectedType: p.DetectedType,
			Filename: p.Filename, Size: p.Size, SHA256: p.SHA256, Action: policy.Action(p.Action), RuleID: p.Rule,
			Clause: p.Clause, Reason: policy.Reason(p.Reason), Detail: p.Detail, Delivered: p.Delivered})
	}
	return ds
}
