package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// health is what /healthz reports: one field per check, "ok" or what is
// wrong, in words the admin can act on.
type health struct {
	OK        bool   `json:"ok"`
	Spool     string `json:"spool"`     // a file written, synced and removed in the spool
	Originals string `json:"originals"` // likewise in the originals store
	Audit     string `json:"audit"`     // the audit log not broken, and a file written next to it
	Space     string `json:"space"`     // free space above backpressure.min_free_bytes
	NextHop   string `json:"next_hop"`  // the relay greets and answers EHLO (or the Maildir takes a file)
	Policy    string `json:"policy"`    // a policy in force, and the file on disk loads
	// Failed names the checks that failed, in the order above.
	Failed []string `json:"failed,omitempty"`
	// Checked is when the probes ran: results are shared for healthTTL.
	Checked time.Time `json:"checked"`
}

const (
	// healthTTL is how long one probe's result answers /healthz: many
	// requests (it has no authentication) cost one probe.
	healthTTL = 3 * time.Second
	// healthTimeout bounds the next hop's probe (greeting, EHLO, QUIT).
	healthTimeout = 3 * time.Second
)

// health runs every check a message needs to get through: the stores
// writable, free space, the next hop, the policy. The relay must greet
// with 220 and answer EHLO within healthTimeout (a relay that accepts the
// connection but is frozen fails); a Maildir must take a file.
func (g *Gateway) health(ctx context.Context) health {
	h := health{Checked: g.Now()}
	check := func(name string, field *string, err error) {
		*field = "ok"
		if err != nil {
			*field = flatLine(err.Error())
			h.Failed = append(h.Failed, name)
		}
	}
	check("spool", &h.Spool, probeStore("spool", g.cfg.Spool))
	check("originals", &h.Originals, probeStore("originals", g.cfg.Originals))
	check("audit", &h.Audit, g.probeAudit())
	check("space", &h.Space, g.probeSpace())
	check("next_hop", &h.NextHop, g.probeNextHop(ctx))
	check("policy", &h.Policy, g.policyHealth())
	h.OK = len(h.Failed) == 0
	return h
}

// probeStore says why the directory of a store (its config key) does not
// take a file.
func probeStore(key, dir string) error {
	if err := probeWrite(dir); err != nil {
		return fmt.Errorf("%s %s is not writable: %w", key, dir, err)
	}
	return nil
}

// probeAudit fails when an earlier sync of the audit log failed (mail is
// refused until a restart) or its directory does not take a file.
func (g *Gateway) probeAudit() error {
	if err := g.audit.Broken(); err != nil {
		return fmt.Errorf("%w; restart mugai (its recovery rewrites what is missing)", err)
	}
	return probeStore("audit", filepath.Dir(g.cfg.Audit))
}

// probeSpace checks the file systems of the spool, the originals and the
// audit log against backpressure.min_free_bytes.
func (g *Gateway) probeSpace() error {
	floor := g.cfg.Backpressure.MinFreeBytes
	var errs []error
	seen := map[string]bool{}
	for _, s := range []struct{ key, dir string }{{"spool", g.cfg.Spool}, {"originals", g.cfg.Originals},
		{"audit", filepath.Dir(g.cfg.Audit)}} {
		if seen[s.dir] {
			continue
		}
		seen[s.dir] = true
		free, err := g.FreeSpace(s.dir)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: cannot read free space: %w", s.key, err))
		case int64(free) < int64(floor):
			effect := "mail is refused with 452"
			if s.key != "spool" {
				effect = "mail fails with 451 once it is full"
			}
			errs = append(errs, fmt.Errorf("%s %s: %d bytes free, below backpressure.min_free_bytes %d (%s); free space there",
				s.key, s.dir, free, floor, effect))
		}
	}
	return errors.Join(errs...)
}

func (g *Gateway) probeNextHop(ctx context.Context) error {
	if relay := g.cfg.Deliver.Relay; relay != "" {
		if err := probeSMTP(ctx, relay, g.cfg.Hostname, healthTimeout); err != nil {
			return fmt.Errorf("deliver.relay %s: %w", relay, err)
		}
		return nil
	}
	return probeStore("deliver.maildir", g.cfg.Deliver.Maildir)
}

// policyHealth fails when no policy is in force, or when the last reload
// found a policy file on disk that does not load: the policy in force
// stays, but a restart would fail.
func (g *Gateway) policyHealth() error {
	e := g.engine.Load()
	if e == nil || e.policy == nil {
		return errors.New("no policy loaded")
	}
	if err := g.PolicyFileError(); err != nil {
		return fmt.Errorf("policy file on disk does not load; a restart would fail (still in force: %s sha256 %.12s): %w",
			e.policy.Source, e.policy.SHA256, err)
	}
	return nil
}

// loadFailure is why the policy file on disk did not load at the last
// reload.
type loadFailure struct{ err error }

// PolicyFileError returns why the policy file on disk did not load at the
// last reload (SIGHUP), or nil when it loaded then or at start.
func (g *Gateway) PolicyFileError() error {
	if f := g.policyFile.Load(); f != nil {
		return f.err
	}
	return nil
}

// probeSMTP has a short SMTP conversation with addr: the 220 greeting,
// EHLO, QUIT.
func probeSMTP(ctx context.Context, addr, hostname string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	dl, _ := ctx.Deadline()
	c.SetDeadline(dl)
	tc := textproto.NewConn(c)
	if _, _, err := tc.ReadResponse(220); err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if err := tc.PrintfLine("EHLO %s", hostname); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if _, _, err := tc.ReadResponse(250); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	tc.PrintfLine("QUIT")
	tc.ReadResponse(221) // its reply changes nothing
	return nil
}

// healthCache shares probes among /healthz requests: a result is reused
// for ttl, and one probe runs at a time; requests that come meanwhile wait
// for it (or for their own context).
type healthCache struct {
	probe func(context.Context) health
	ttl   time.Duration
	now   func() time.Time

	mu      sync.Mutex
	last    health
	at      time.Time
	running chan struct{} // closed when the probe in flight ends
}

func (c *healthCache) get(ctx context.Context) (health, error) {
	c.mu.Lock()
	if !c.at.IsZero() && c.now().Sub(c.at) < c.ttl {
		h := c.last
		c.mu.Unlock()
		return h, nil
	}
	if c.running == nil {
		done := make(chan struct{})
		c.running = done
		// Not the request's context: a client that goes away does not
		// cancel the probe the others wait for.
		go func() {
			h := c.probe(context.Background())
			c.mu.Lock()
			c.last, c.at, c.running = h, c.now(), nil
			c.mu.Unlock()
			close(done)
		}()
	}
	done := c.running
	c.mu.Unlock()
	select {
	case <-done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.last, nil
	case <-ctx.Done():
		return health{}, ctx.Err()
	}
}

// probeWrite creates, syncs and removes a small file in dir.
func probeWrite(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, healthProbePattern)
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, werr := f.WriteString("ok\n")
	return errors.Join(werr, f.Sync(), f.Close())
}

// healthProbePattern names probeWrite's files.
const healthProbePattern = ".healthz-*"

// removeHealthProbes removes the probe files a /healthz check cut short
// by a crash left in the directories it writes to. Called at start,
// before anything probes: the spool's recovery would otherwise warn
// about an unknown file at every start, and nothing else removes them.
func (g *Gateway) removeHealthProbes() {
	for _, dir := range []string{g.cfg.Spool, g.cfg.Originals, filepath.Dir(g.cfg.Audit), g.cfg.Deliver.Maildir} {
		names, _ := filepath.Glob(filepath.Join(dir, healthProbePattern))
		for _, name := range names {
			if err := os.Remove(name); err != nil {
				g.log.Warn("health probe file left in place", "file", name, "err", err)
			}
		}
	}
}
