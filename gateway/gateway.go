// Package gateway is mugai's SMTP side: it accepts mail from the
// Internet-side MTA, keeps the original, has every message rebuilt by
// sanitize, spools the result durably before answering 250, and delivers it
// to the LGWAN-side MTA (or a Maildir), auditing every step.
//
// Lifecycle: New opens and recovers the stores; Serve accepts connections
// and runs delivery until Shutdown. A Gateway serves one listener.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"mugai/gateway/courier"
	"mugai/gateway/delivery"
	"mugai/gateway/originals"
	"mugai/gateway/queue"
	"mugai/gateway/safeio"
	"mugai/gateway/smtpd"
	"mugai/policy"
	"mugai/policy/audit"
	"mugai/sanitize"
	"mugai/sanitize/format"
)

// Gateway is one running relay.
type Gateway struct {
	cfg        Config
	log        *slog.Logger
	engine     atomic.Pointer[engine] // the policy in force and its rebuilder
	sanitizers *format.Registry
	audit      *audit.Log
	spool      *queue.Spool
	originals  *originals.Store
	committer  *safeio.Committer // group commit of accepted messages
	memory     *budget           // limits.rebuild_memory
	delivery   *delivery.Runner
	accept     atomic.Pointer[acceptRules] // accept.networks and accept.domains; swapped by ApplyConfig
	policyFile atomic.Pointer[loadFailure] // set when a reload found the policy file broken
	rcpt       *recipientCheck             // accept.recipients and accept.verify_recipients
	server     *smtpd.Server

	metrics  *metrics
	metricsL net.Listener // when cfg.Metrics is set
	portal   *portalSide  // when cfg.Portal.Listen is set

	background sync.WaitGroup // the retention loop; waited for before the audit log closes

	// clockRef is the time of the newest audit record before this start,
	// and started the (monotonic) time of the start: together the latest
	// time the records vouch for, against which a clock that jumped ahead
	// is caught before it purges originals (retention.go).
	clockRef, started time.Time

	panics    atomic.Int64
	closing   atomic.Bool
	lifecycle sync.Mutex         // orders Serve's start against Shutdown
	cancel    context.CancelFunc // set by Serve under lifecycle
	listener  net.Listener       // likewise

	// Now is the clock; tests replace it before Serve.
	Now func() time.Time
	// FreeSpace reports the bytes free on the file system of a path; tests
	// replace it to simulate a full disk.
	FreeSpace func(path string) (uint64, error)
}

// New validates cfg, loads the policy, opens what can fail on a
// configuration mistake (TLS files, the metrics and portal listeners),
// then opens (and recovers) the audit log, the originals store and the
// spool. sanitizers carries out the policy's disarm actions (nil: those
// parts are stripped). The policy record is written last, once every
// listener New opens is up: a start that fails leaves the audit log as it
// found it, unless recovery had to record what it did.
func New(cfg Config, log *slog.Logger, sanitizers *format.Registry) (_ *Gateway, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pol, err := loadPolicy(cfg)
	if err != nil {
		return nil, err
	}
	g := &Gateway{cfg: cfg, log: log, sanitizers: sanitizers, Now: time.Now, FreeSpace: diskFree}
	if g.rcpt, err = newRecipientCheck(cfg, log, func() time.Time { return g.Now() }); err != nil {
		return nil, err
	}
	g.engine.Store(g.newEngine(pol))
	g.accept.Store(newAcceptRules(cfg.Accept))
	defer func() {
		if err != nil {
			g.closeListeners()
		}
	}()
	if err := g.preflight(); err != nil {
		return nil, err
	}
	g.removeHealthProbes()
	if g.audit, err = audit.Open(cfg.Audit); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	// Read before this start writes anything: the newest record is the
	// last time the log vouches for, and the records of the messages
	// recovery checks (recover.go).
	tail, err := audit.ReadTail(cfg.Audit, recoveryWindow(cfg), maxTailBytes)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	g.clockRef, g.started = tail.Last, time.Now()
	g.committer = safeio.NewCommitter(cfg.Durability == DurabilityFilesystem)
	g.memory = newBudget(int64(cfg.Limits.RebuildMemory))
	log.Info("durability", "mode", g.committer.Mode(), "configured", cfg.Durability)
	warnSoftReject(log, cfg)
	if g.originals, err = originals.Open(cfg.Originals); err != nil {
		return nil, fmt.Errorf("originals: %w", err)
	}
	entries, err := g.openSpool(tail)
	if err != nil {
		return nil, err
	}
	if g.delivery, err = g.newDelivery(); err != nil {
		return nil, err
	}
	g.metrics = newMetrics(g)
	g.metrics.reg.MustRegister(g.rcpt.collectors()...)
	g.delivery.Resume(entries)
	if len(entries) > 0 {
		log.Info("resuming spooled messages", "count", len(entries))
	}
	if err := g.audit.Policy(pol.Source, pol.SHA256, "", ""); err != nil {
		return nil, err
	}
	// Each message takes a file of the originals store (its .eml; its
	// index entry is a line appended to the day's index) and one of the
	// spool; created ahead, off the sender's wait (safeio.Pool). The
	// spool's pool takes back the files of delivered entries (a file
	// waits in it until the next message instead of being deleted and
	// created again), with room for the messages in flight at full load.
	g.originals.UsePool(2 * filePool)
	g.spool.UsePool(4 * filePool)
	return g, nil
}

// filePool is how many files a pool keeps ready per message file: about
// the sessions that commit at once at full load.
const filePool = 16

// openSpool opens and recovers the spool, rebuilds what recovery found
// damaged from its original, and gives every kept message its audit
// records; it returns the entries to deliver.
func (g *Gateway) openSpool(tail *audit.Tail) ([]*queue.Entry, error) {
	spool, entries, problems, err := queue.Open(g.cfg.Spool)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	g.spool = spool
	for _, p := range problems {
		if e := g.spoolProblem(p); e != nil { // damaged, rebuilt from its original
			entries = append(entries, e)
		}
	}
	// Before any delivery: every kept message gets its audit records.
	// (One it cannot give them is moved to bad/, not delivered.)
	return g.recoverAudit(tail, entries)
}

// newDelivery builds the delivery runner: the courier to the relay (or
// the Maildirs), the bounce route when one is configured, and what the
// runner works with from the gateway.
func (g *Gateway) newDelivery() (*delivery.Runner, error) {
	cfg := g.cfg
	var c courier.Courier = &courier.Maildir{Root: cfg.Deliver.Maildir}
	if cfg.Deliver.Relay != "" {
		tc, err := clientTLS(cfg.Deliver)
		if err != nil {
			return nil, err
		}
		c = &courier.SMTP{Addr: cfg.Deliver.Relay, Hostname: cfg.Hostname, Timeout: cfg.Deliver.Timeout.D(),
			TLS: tc, RequireTLS: cfg.Deliver.TLS == TLSRequired, Reuse: cfg.Deliver.Reuse()}
	}
	var bounce courier.Courier
	if cfg.Deliver.BounceRelay != "" {
		bounce = &courier.SMTP{Addr: cfg.Deliver.BounceRelay, Hostname: cfg.Hostname, Timeout: cfg.Deliver.Timeout.D(),
			Reuse: cfg.Deliver.Reuse()}
	}
	return delivery.New(delivery.Config{Hostname: cfg.Hostname, Workers: cfg.Deliver.Workers,
		Lifetime: cfg.Deliver.Lifetime.D(), RetryMin: cfg.Deliver.RetryMin.D(), RetryMax: cfg.Deliver.RetryMax.D(),
		ReleaseSender: cfg.releaseSender(),
	}, delivery.Deps{Spool: g.spool, Courier: c, Bounce: bounce, Journal: g.audit, Committer: g.committer,
		Log: g.log, Now: func() time.Time { return g.Now() }, NewID: NewID,
		PolicySHA: func() string { return g.Policy().SHA256 },
		Damaged:   g.spoolDamaged,
		Count:     func(o delivery.Outcome) { g.metrics.deliveries.WithLabelValues(string(o)).Inc() },
	}), nil
}

func (g *Gateway) newServer() (*smtpd.Server, error) {
	tc, err := serverTLS(g.cfg.Accept)
	if err != nil {
		return nil, err
	}
	a := g.cfg.Accept
	return &smtpd.Server{
		Hostname:              g.cfg.Hostname,
		Backend:               g,
		TLSConfig:             tc, // STARTTLS is offered when set
		MaxMessageBytes:       int64(a.MaxMessageBytes),
		MaxLineLength:         a.MaxLineLength,
		MaxRecipients:         a.MaxRecipients,
		MaxCommandsBeforeMail: a.MaxCmdsBeforeMail,
		MaxErrors:             a.MaxErrors,
		ReadTimeout:           a.ReadTimeout.D(),
		WriteTimeout:          a.WriteTimeout.D(),
		Log:                   g.log.With("component", "smtp"),
	}, nil
}

// engine is what rebuilds messages under one policy. A message is rebuilt
// and audited with the engine it started with; a reload swaps the pointer
// for the messages after it.
type engine struct {
	policy    *policy.Policy
	rebuilder *sanitize.Rebuilder
}

func (g *Gateway) newEngine(pol *policy.Policy) *engine {
	c := g.cfg
	return &engine{policy: pol, rebuilder: &sanitize.Rebuilder{Policy: pol, Hostname: c.Hostname, Sanitizers: g.sanitizers,
		Limits: c.sanitizeLimits()}}
}

// Policy returns the policy in force.
func (g *Gateway) Policy() *policy.Policy { return g.engine.Load().policy }

// loadPolicy reads the clause catalogue (LoadClauses) and the policy
// checked against it, at start and on every reload. The policy carries its
// catalogue: a reload that fails changes nothing.
func loadPolicy(cfg Config) (*policy.Policy, error) {
	cs, err := cfg.LoadClauses()
	if err != nil {
		return nil, err
	}
	pol, err := policy.LoadFile(cfg.Policy, cs)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return pol, nil
}

// Reload is what SIGHUP does: the audit log is reopened (logrotate) and
// the clause catalogue (if configured) and the policy file are read again.
// A policy that does not load is refused: the error is logged and audited
// and the policy in force stays, but the file on disk would fail the next
// start: the log line says so, and so do /healthz and
// mugai_policy_on_disk_ok until a reload succeeds. Messages
// being rebuilt finish under the policy they started with.
func (g *Gateway) Reload() error {
	var errs []error
	if err := g.audit.Reopen(); err != nil {
		g.log.Error("cannot reopen the audit log", "err", err)
		errs = append(errs, err)
	}
	if err := g.rcpt.reload(); err != nil { // logged by reload; the list in force stays
		errs = append(errs, err)
	}
	old := g.engine.Load().policy
	pol, err := loadPolicy(g.cfg)
	if err != nil {
		g.policyFile.Store(&loadFailure{err})
		g.metrics.reloadFail.Inc()
		g.log.Error("new policy refused; the previous one stays in force, but the policy file on disk does not load: "+
			"a restart would fail until it is fixed", "policy", old.Source, "policy_sha256", old.SHA256, "err", err)
		if aerr := g.audit.Policy(g.cfg.Policy, old.SHA256, old.SHA256, err.Error()); aerr != nil {
			errs = append(errs, aerr)
		}
		return errors.Join(append(errs, err)...)
	}
	g.policyFile.Store(nil)
	g.engine.Store(g.newEngine(pol))
	g.log.Info("policy reloaded", "policy", pol.Source, "policy_sha256", pol.SHA256, "previous_sha256", old.SHA256)
	if err := g.audit.Policy(pol.Source, pol.SHA256, old.SHA256, ""); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Rescan makes the delivery schedule follow the spool after an admin
// changed it: requeued entries are picked up, deleted ones dropped, and
// everything waiting is tried now (SIGUSR1, mugai queue flush).
func (g *Gateway) Rescan() error {
	_, _, err := g.delivery.Rescan(true)
	return err
}

// MetricsAddr is where /metrics and /healthz listen ("" when off).
func (g *Gateway) MetricsAddr() string {
	if g.metricsL == nil {
		return ""
	}
	return g.metricsL.Addr().String()
}

// Panics returns how many panics were recovered since start.
func (g *Gateway) Panics() int64 { return g.panics.Load() }

// Serve runs delivery and accepts SMTP connections on l until Shutdown.
func (g *Gateway) Serve(l net.Listener) error {
	// Start the background work under the lifecycle lock, so a Shutdown
	// that comes first (or at the same time) either sees it started and
	// waits for it, or keeps it from starting.
	g.lifecycle.Lock()
	if g.closing.Load() {
		g.lifecycle.Unlock()
		l.Close()
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel, g.listener = cancel, l
	g.delivery.Start(ctx)
	g.background.Add(1)
	go func() { defer g.background.Done(); g.purgeLoop(ctx) }()
	g.lifecycle.Unlock()
	if g.metricsL != nil {
		go g.serveMetrics(ctx, g.metricsL)
		g.log.Info("metrics and health", "addr", g.metricsL.Addr().String(), "paths", "/metrics /healthz")
	}
	if g.portal != nil {
		go g.servePortal(ctx)
		g.log.Info("portal", "addr", g.portal.l.Addr().String(), "url", g.portal.base)
	}
	g.log.Info("listening", "addr", l.Addr().String(), "policy", g.Policy().Source, "policy_sha256", g.Policy().SHA256)
	a := g.cfg.Accept
	err := g.server.Serve(newLimitListener(l, g.cfg.Hostname, a.MaxConnections, a.MaxConnsPerIP, a.SessionTimeout.D()))
	if errors.Is(err, smtpd.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, lets sessions finish their current command,
// waits for deliveries in flight, and closes the audit log.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.lifecycle.Lock()
	g.closing.Store(true)
	cancel, l := g.cancel, g.listener
	g.lifecycle.Unlock()
	err := g.server.Shutdown(ctx)
	if g.portal != nil {
		g.portal.l.Close() // Serve may never have started it; servePortal shuts the server down with ctx
	}
	if l != nil {
		// The server closes only the listeners its Serve registered; a
		// Shutdown between our start and its Serve must stop it too.
		l.Close()
	}
	if cancel != nil {
		cancel()
		done := make(chan struct{})
		go func() { g.delivery.Stop(); g.background.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			err = errors.Join(err, ctx.Err())
		}
	}
	g.closePools()
	return errors.Join(err, g.audit.Close())
}

// closePools removes the files created ahead and not used (a session
// still committing creates its own).
func (g *Gateway) closePools() {
	if g.originals != nil {
		g.originals.Close()
	}
	if g.spool != nil {
		g.spool.Close()
	}
}

// overloaded says why new mail cannot be taken now (nil when it can):
// too little free space for the spool, or too long a queue.
func (g *Gateway) overloaded() error {
	bp := g.cfg.Backpressure
	if free, err := g.FreeSpace(g.cfg.Spool); err != nil {
		return &localError{audit.ClassSpace, fmt.Errorf("cannot read free space of %s: %w", g.cfg.Spool, err)}
	} else if int64(free) < int64(bp.MinFreeBytes) {
		return &localError{audit.ClassSpace, fmt.Errorf("%d bytes free on the file system of the spool %s, below backpressure.min_free_bytes %d",
			free, g.cfg.Spool, bp.MinFreeBytes)}
	}
	if n := g.delivery.Queued(); n >= bp.MaxQueued {
		return &localError{audit.ClassQueue, fmt.Errorf("%d messages queued, at backpressure.max_queued %d", n, bp.MaxQueued)}
	}
	return nil
}

// newID returns a gateway id: sortable by time, unique, safe in file names.
func (g *Gateway) newID() string { return NewID(g.Now()) }

// NewID returns a fresh gateway id: the UTC time and 48 random bits
// (20261126T163953-b0e299d1fb09). The date in it names the originals day.
func NewID(now time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}
