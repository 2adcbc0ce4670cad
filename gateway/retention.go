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

// purgeLoop applies the retention at start and then once a day.
func (g *Gateway) purgeLoop(ctx context.Context) {
	for {
		p, err := PurgeOriginals(g.originals, g.audit, g.cfg.OriginalsRetention.D(), g.Now(), "mugai serve (retention)")
		if err != nil {
			g.log.Error("purging originals failed", "err", err)
		} else if len(p.Days) > 0 {
			g.log.Info("originals purged", "messages", p.Messages, "bytes", p.Bytes, "days", strings.Join(p.Days, ","))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(24 * time.Hour):
		}
	}
}
