package gateway

import (
	"sync"
	"time"
)

// probeRate is a token bucket bounding the probes the verifier starts:
// perSecond a second on average, a burst of twice that. The concurrency
// bound (deliver.workers slots) alone let one client with many sessions
// open thousands of connections to the LGWAN MTA in seconds with a
// dictionary of unknown names, which could get mugai's own deliveries
// throttled by the MTA's connection-rate limits (Postfix's anvil).
type probeRate struct {
	mu        sync.Mutex
	perSecond float64
	burst     float64
	tokens    float64
	last      time.Time
	now       func() time.Time
}

func newProbeRate(perSecond int, now func() time.Time) *probeRate {
	if perSecond < 1 {
		perSecond = 1
	}
	b := float64(2 * perSecond)
	return &probeRate{perSecond: float64(perSecond), burst: b, tokens: b, now: now}
}

// take spends a token when there is one.
func (r *probeRate) take() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.now()
	if !r.last.IsZero() && t.After(r.last) {
		r.tokens = min(r.burst, r.tokens+t.Sub(r.last).Seconds()*r.perSecond)
	}
	r.last = t
	if r.tokens < 1 {
		return false
	}
	r.tokens--
	return true
}
