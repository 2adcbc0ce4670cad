package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"mugai/gateway/courier"
)

// verdict is what a probe of the next hop found out about an address.
type verdict int

const (
	verdictUndecided verdict = iota // timeout, 4xx, no connection: ask again later
	verdictValid                    // the next hop accepted RCPT TO
	verdictUnknown                  // the next hop refused RCPT TO with 5xx
)

func (v verdict) String() string {
	switch v {
	case verdictValid:
		return "valid"
	case verdictUnknown:
		return "unknown"
	}
	return "undecided"
}

// verifyResult is a verdict and the next hop's reply (or the error) that
// led to it, for the log.
type verifyResult struct {
	verdict verdict
	reply   string
	cached  bool
}

// verifier asks the LGWAN-side MTA whether it would take an address, as
// Postfix's verify(8) does for reject_unverified_recipient: MAIL FROM
// (the probe sender, <> by default), RCPT TO, QUIT; never DATA.
// Answers are cached, a positive one for longer than a negative one;
// undecided answers are not cached. At most deliver.workers probes run
// at once. Concurrent questions about one
// address share one probe. verify may be called from any goroutine.
type verifier struct {
	relay, hostname, sender string
	tls                     *tls.Config // nil: plain text
	requireTLS              bool
	timeout                 time.Duration // one probe, connect to QUIT
	positive, negative      time.Duration // how long each answer is trusted
	now                     func() time.Time
	dial                    func(ctx context.Context, network, addr string) (net.Conn, error)

	slots chan struct{} // one per probe running: deliver.workers at most
	rate  *probeRate    // probes started per second: accept.verify_rate

	mu       sync.Mutex
	cache    *verifyCache
	inflight map[string]*probeCall // by lower-case address

	probes  *prometheus.CounterVec // result: valid, unknown, undecided
	lookups *prometheus.CounterVec // result: hit_valid, hit_unknown, miss, joined
}

// probeCall is one probe in flight; done closes once res is set.
type probeCall struct {
	done chan struct{}
	res  verifyResult
}

func newVerifier(cfg Config, tc *tls.Config, now func() time.Time) *verifier {
	a := cfg.Accept
	v := &verifier{relay: cfg.Deliver.Relay, hostname: cfg.Hostname, sender: a.VerifySender, tls: tc,
		requireTLS: cfg.Deliver.TLS == TLSRequired, timeout: a.VerifyTimeout.D(),
		positive: a.VerifyCachePositive.D(), negative: a.VerifyCacheNegative.D(), now: now,
		dial: (&net.Dialer{}).DialContext, slots: make(chan struct{}, cfg.Deliver.Workers), cache: newVerifyCache(a.VerifyCacheSize), inflight: map[string]*probeCall{},
		rate: newProbeRate(a.VerifyRate, now),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mugai_recipient_probes_total",
			Help: "RCPT probes of deliver.relay (accept.verify_recipients), by result: valid, unknown (5xx), undecided (timeout, 4xx, no connection), limited (not started: accept.verify_rate reached)."},
			[]string{"result"}),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mugai_recipient_cache_lookups_total",
			Help: "Recipient verifications, by how they were answered: hit_valid, hit_unknown (from the cache), miss (a probe), joined (a probe already in flight)."},
			[]string{"result"}),
	}
	for _, r := range []string{"valid", "unknown", "undecided", "limited"} {
		v.probes.WithLabelValues(r)
	}
	for _, r := range []string{"hit_valid", "hit_unknown", "miss", "joined"} {
		v.lookups.WithLabelValues(r)
	}
	return v
}

// collectors are the verifier's metrics.
func (v *verifier) collectors() []prometheus.Collector {
	size := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mugai_recipient_cache_entries",
		Help: "Addresses whose verification is cached (accept.verify_cache_size bounds it)."}, func() float64 {
		v.mu.Lock()
		defer v.mu.Unlock()
		return float64(v.cache.len())
	})
	return []prometheus.Collector{v.probes, v.lookups, size}
}

// verify returns what the next hop says of addr: from the cache, from a
// probe already in flight, or from a new probe. ctx bounds only this
// caller's wait (undecided when it ends first); the probe itself is
// bounded by the verifier's timeout.
func (v *verifier) verify(ctx context.Context, addr string) verifyResult {
	key := strings.ToLower(addr)
	v.mu.Lock()
	if res, ok := v.cache.get(key, v.now()); ok {
		v.mu.Unlock()
		v.lookups.WithLabelValues("hit_" + res.verdict.String()).Inc()
		res.cached = true
		return res
	}
	call, joined := v.inflight[key]
	if !joined {
		call = &probeCall{done: make(chan struct{})}
		v.inflight[key] = call
		go v.run(key, addr, call)
	}
	v.mu.Unlock()
	if joined {
		v.lookups.WithLabelValues("joined").Inc()
	} else {
		v.lookups.WithLabelValues("miss").Inc()
	}
	select {
	case <-call.done:
		return call.res
	case <-ctx.Done():
		return verifyResult{verdict: verdictUndecided, reply: "gave up waiting for the probe: " + ctx.Err().Error()}
	}
}

// run probes addr, caches a decided answer and hands it to every caller
// waiting on call.
func (v *verifier) run(key, addr string, call *probeCall) {
	var res verifyResult
	if v.rate.take() {
		res = v.probe(addr)
		v.probes.WithLabelValues(res.verdict.String()).Inc()
	} else {
		// Undecided, so not cached: the client retries later.
		res = verifyResult{reply: "probe rate limit reached (accept.verify_rate): not asked"}
		v.probes.WithLabelValues("limited").Inc()
	}
	v.mu.Lock()
	switch res.verdict {
	case verdictValid:
		v.cache.put(key, res, v.now().Add(v.positive))
	case verdictUnknown:
		v.cache.put(key, res, v.now().Add(v.negative))
	}
	delete(v.inflight, key)
	v.mu.Unlock()
	call.res = res
	close(call.done)
}

// probe runs one EHLO, MAIL, RCPT, QUIT dialogue with the next hop.
func (v *verifier) probe(rcpt string) verifyResult {
	ctx, cancel := context.WithTimeout(context.Background(), v.timeout)
	defer cancel()
	// No more probes at once than deliveries (deliver.workers): a
	// dictionary attack must not become a flood of connections to the
	// LGWAN MTA. The wait for a slot counts in the probe's timeout.
	select {
	case v.slots <- struct{}{}:
		defer func() { <-v.slots }()
	case <-ctx.Done():
		return verifyResult{reply: "no probe slot free within accept.verify_timeout (deliver.workers probes running)"}
	}
	c, err := v.connect(ctx)
	if err != nil {
		return undecided("connect", err)
	}
	defer c.Close()
	if err := c.Mail(v.sender, nil); err != nil {
		return undecided("MAIL", err) // even a 5xx: it says nothing about the recipient
	}
	err = c.Rcpt(rcpt, nil)
	// QUIT ends the transaction without DATA (go-smtp's Reset would
	// greet again before it); its reply changes nothing.
	if err == nil {
		_ = c.Quit()
		return verifyResult{verdict: verdictValid, reply: "250"}
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code >= 500 && se.Code < 600 {
		_ = c.Quit()
		return verifyResult{verdict: verdictUnknown, reply: smtpReplyText(se)}
	}
	return undecided("RCPT", err)
}

func undecided(stage string, err error) verifyResult {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return verifyResult{reply: stage + ": " + smtpReplyText(se)}
	}
	return verifyResult{reply: stage + ": " + err.Error()}
}

func smtpReplyText(se *smtp.SMTPError) string {
	e := se.EnhancedCode
	if e == smtp.NoEnhancedCode || e == smtp.EnhancedCodeNotSet {
		return fmt.Sprintf("%d %s", se.Code, se.Message)
	}
	return fmt.Sprintf("%d %d.%d.%d %s", se.Code, e[0], e[1], e[2], se.Message)
}

// connect dials the next hop and says EHLO, with STARTTLS as deliver.tls
// says (as the courier does): required → it must succeed; opportunistic
// → plain text on a new connection when it does not. Every connection
// closes when ctx ends, which bounds the whole dialogue.
func (v *verifier) connect(ctx context.Context) (*smtp.Client, error) {
	open := func() (net.Conn, error) {
		conn, err := v.dial(ctx, "tcp", v.relay)
		if err != nil {
			return nil, err
		}
		// go-smtp sets its own deadline on every command: closing
		// the connection is what stops a dialogue at the timeout.
		context.AfterFunc(ctx, func() { conn.Close() })
		return conn, nil
	}
	conn, err := open()
	if err != nil {
		return nil, err
	}
	if v.tls != nil {
		c, err := smtp.NewClientStartTLS(courier.HelloAs(conn, v.hostname), v.tls)
		if err == nil {
			if err = c.Hello(v.hostname); err == nil {
				return c, nil
			}
			c.Close()
		}
		if v.requireTLS {
			return nil, fmt.Errorf("STARTTLS (deliver.tls: required): %w", err)
		}
		if conn, err = open(); err != nil {
			return nil, err
		}
	}
	c := smtp.NewClient(conn)
	if err := c.Hello(v.hostname); err != nil {
		c.Close()
		return nil, fmt.Errorf("EHLO: %w", err)
	}
	return c, nil
}
