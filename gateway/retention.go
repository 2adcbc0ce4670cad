package gateway

import (
	"context"
	"fmt"
	"strings"
	"time"

	"mugai/gateway/originals"
	"mugai/policy/audit"
)

// RetentionClause is the clause of the municipal policy that keeping and
// purging originals serves (operations: keeping records for inspection).
// The clause catalogue must hold it (Config.LoadClauses).
const RetentionClause = "6(7)"

// PurgeOriginals removes the originals whose day ended more than retention
// before now and audits what went (a purge that found nothing is not
// recorded). It is what serve runs daily and mugai originals purge runs.
func PurgeOriginals(store *originals.Store, log *audit.Log, retention time.Duration, now time.Time, operator string) (originals.Purged, error) {
	cutoff := now.Add(-retention)
	p, err := store.Purge(cutoff)
	if len(p.Days) > 0 {
		detail := fmt.Sprintf("retention %s (clause %s): removed %d originals, %d bytes, of the days %s",
			retention, RetentionClause, p.Messages, p.Bytes, strings.Join(p.Days, ", "))
		if aerr := log.Purged(operator, detail); aerr != nil && err == nil {
			err = aerr
		}
	}
	return p, err
}

// The automatic purge does not trust a clock that jumped ahead: it
// purges nothing newer than the audit log vouches for (purgeClockSlack
// past its newest record at start plus the time since, by the monotonic
// clock), and nothing at all when a run would take more than half of the
// originals kept (when at least purgeGuardMin are). What it leaves is
// logged as an error, for an admin to check the clock and run
// `mugai originals purge` (which applies the retention as it is told).
const purgeGuardMin = 10

// purgeClockSlack is how far ahead of the audit log the clock may be
// before the automatic purge stops following it: a day, or a tenth of
// the retention when that is longer (a gateway down over a weekend is not
// a clock that jumped).
func purgeClockSlack(retention time.Duration) time.Duration { return max(24*time.Hour, retention/10) }

// purgeCheck is what the automatic purge may do.
type purgeCheck struct {
	cutoff  time.Time // purge what ended before this
	clamped string    // why cutoff is before now − retention ("" when it is not)
	refused string    // why nothing may be purged ("" when the purge may run)
}

// checkPurge decides how far the automatic purge may go at now, given
// vouched, the latest time the audit log vouches for (zero: unknown).
func checkPurge(store *originals.Store, retention time.Duration, now, vouched time.Time) (purgeCheck, error) {
	pc := purgeCheck{cutoff: now.Add(-retention)}
	if !vouched.IsZero() {
		if limit := vouched.Add(purgeClockSlack(retention) - retention); pc.cutoff.After(limit) {
			want, err := store.Plan(pc.cutoff)
			if err != nil {
				return pc, err
			}
			pc.cutoff = limit
			got, err := store.Plan(limit)
			if err != nil {
				return pc, err
			}
			if want.Messages > got.Messages {
				pc.clamped = fmt.Sprintf("the clock (%s) is %s ahead of the audit log (newest record and time since start: %s): %d originals it would purge are kept",
					now.UTC().Format(time.RFC3339), now.Sub(vouched).Round(time.Minute), vouched.UTC().Format(time.RFC3339), want.Messages-got.Messages)
			}
		}
	}
	plan, err := store.Plan(pc.cutoff)
	if err != nil || plan.Messages == 0 {
		return pc, err
	}
	kept, err := store.Count()
	if err != nil {
		return pc, err
	}
	if kept >= purgeGuardMin && 2*plan.Messages > kept {
		pc.refused = fmt.Sprintf("the purge would remove %d of the %d originals kept (the days %s): more than half, as a clock that jumped ahead would",
			plan.Messages, kept, strings.Join(plan.Days, ", "))
	}
	return pc, nil
}

// autoPurge is the daily run: PurgeOriginals as checkPurge allows.
func (g *Gateway) autoPurge() (originals.Purged, error) {
	retention := g.cfg.OriginalsRetention.D()
	var vouched time.Time
	if !g.clockRef.IsZero() {
		vouched = g.clockRef.Add(time.Since(g.started)) // monotonic: immune to the wall clock
	}
	pc, err := checkPurge(g.originals, retention, g.Now(), vouched)
	if err != nil {
		return originals.Purged{}, err
	}
	const advice = "check the clock; if it is right, run `mugai originals purge`"
	if pc.refused != "" {
		g.log.Error("originals not purged: "+pc.refused+"; "+advice, "retention", retention.String())
		return originals.Purged{}, nil
	}
	if pc.clamped != "" {
		g.log.Error("originals purge limited: "+pc.clamped+"; "+advice, "retention", retention.String())
	}
	return PurgeOriginals(g.originals, g.audit, retention, pc.cutoff.Add(retention), "mugai serve (retention)")
}

// purgeLoop applies the retention at start and then once a day.
func (g *Gateway) purgeLoop(ctx context.Context) {
	for {
		p, err := g.autoPurge()
		if err != nil {
			g.log.Error("purging originals failed", "err", err)
		} else if len(p.Days) > 0 {
			g.log.Info("originals purged", "messages", p.Messages, "bytes", p.Bytes, "days", strings.Join(p.Days, ","))
		}
		if g.portal != nil {
			// Requests go with their original (their expiry is its purge).
			if n, err := g.portal.server.Purge(g.Now()); err != nil {
				g.log.Error("purging portal requests failed", "err", err)
			} else if n > 0 {
				g.log.Info("portal requests purged", "requests", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(24 * time.Hour):
		}
	}
}
