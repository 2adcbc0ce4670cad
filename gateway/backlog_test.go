package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mugai/gateway/courier"
	"mugai/gateway/queue"
	"mugai/gateway/safeio"
)

// TestBacklogDrainsOnce: the LGWAN side is down (connection refused)
// while 20,000 messages come into the spool; every one is tried and
// deferred; then the next hop comes up on the same address, the admin
// flushes the queue (mugai queue flush, while attempts are under way),
// and the backlog drains: each message reaches the next hop exactly once,
// one delivered record each, and the queue and the spool end empty. The
// entries are written with the queue package and scheduled as a session
// does after its commit, so intake runs alongside the scheduler.
func TestBacklogDrainsOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 spool entries")
	}
	const n = 20_000
	addr := freeAddr(t) // nothing listens: connection refused
	cfg := testConfig(t, func(c *Config) {
		c.Deliver.Relay = addr
		// Enough workers for the deferrals' fsyncs (meta and directory)
		// to share journal commits. Each entry is deferred once while
		// the hop is down: the flush, not the backoff, ends the wait.
		c.Deliver.Workers = 32
		c.Deliver.RetryMin = Duration(time.Minute)
		c.Deliver.RetryMax = Duration(time.Minute)
		c.Backpressure.MaxQueued = 2 * n
	})
	// Only warnings and errors reach the test log: 20,000 messages'
	// worth of info lines would cost more than the delivery.
	g, err := New(cfg, slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})), nil)
	if err != nil {
		t.Fatal(err)
	}
	cc := &countingCourier{Courier: g.deliverer.courier, deferred: map[string]bool{}}
	g.deliverer.courier = cc // before Serve: no attempt races with it
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(l)
	tg := &testGateway{g: g, addr: l.Addr().String(), cfg: cfg}
	t.Cleanup(func() { tg.stop(t) })

	start := time.Now()
	ids := spoolBacklog(t, g, n)
	spooled := time.Since(start)
	waitLong(t, "every message deferred", func() bool { return cc.deferredCount() == n })
	down, triedDown := time.Since(start), cc.attempts()

	hop := startNextHopAt(t, addr)
	if err := g.Rescan(); err != nil { // flush
		t.Fatal(err)
	}
	waitLong(t, "every message at the next hop", func() bool { return hop.count() >= n })
	waitLong(t, "an empty queue", func() bool {
		w, _, _ := tg.g.spool.List()
		return tg.g.deliverer.queued() == 0 && len(w) == 0
	})
	drained := time.Since(start) - down

	counts := hopCounts(t, hop)
	for id, k := range counts {
		if !ids[id] {
			t.Errorf("the next hop got %s, which was never spooled", id)
		} else if k != 1 {
			t.Errorf("%s delivered %d times", id, k)
		}
	}
	if len(counts) != n {
		t.Errorf("%d of %d messages delivered", len(counts), n)
	}
	delivered := 0
	for _, r := range auditEvents(t, tg.cfg.Audit, "") {
		if r["event"] == "delivered" {
			delivered++
		}
	}
	if delivered != n {
		t.Errorf("%d delivered records for %d messages", delivered, n)
	}
	t.Logf("%d messages: spooled in %v, all deferred after %v (%d attempts), drained in %v (%d attempts in all)",
		n, spooled.Round(time.Millisecond), down.Round(time.Millisecond), triedDown,
		drained.Round(time.Millisecond), cc.attempts())
}

// spoolBacklog commits n entries to g's spool in batches (one group
// commit each) and schedules each as a session does; it returns their
// ids. Each message carries its id in X-Mugai-Id, as rebuilt ones do.
func spoolBacklog(t *testing.T, g *Gateway, n int) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	const batch = 500
	for i := 0; i < n; i += batch {
		var st safeio.Staged
		var entries []*queue.Entry
		for j := i; j < min(i+batch, n); j++ {
			now := g.Now()
			id := fmt.Sprintf("%s-backlog%05d", now.UTC().Format("20060102T150405"), j)
			e := &queue.Entry{ID: id, From: "a@example.jp", Created: now, NextAttempt: now,
				Rcpts: []*queue.Recipient{{Addr: "b@city.example.lg.jp", Status: queue.StatusPending}}}
			msg := fmt.Sprintf("X-Mugai-Id: %s\r\nFrom: a@example.jp\r\nTo: b@city.example.lg.jp\r\n"+
				"Subject: backlog %d\r\n\r\nbody %d\r\n", id, j, j)
			if err := g.spool.Stage(&st, e, []byte(msg)); err != nil {
				st.Discard()
				t.Fatal(err)
			}
			entries = append(entries, e)
			ids[id] = true
		}
		if err := st.Commit(g.committer); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !g.deliverer.add(e) {
				t.Fatalf("entry %s not scheduled", e.ID)
			}
		}
	}
	return ids
}

// countingCourier records which messages (by X-Mugai-Id) its courier
// deferred.
type countingCourier struct {
	courier.Courier

	mu       sync.Mutex
	tries    int
	deferred map[string]bool
}

func (c *countingCourier) Deliver(ctx context.Context, from string, rcpts []string, msg []byte) []courier.Result {
	res := c.Courier.Deliver(ctx, from, rcpts, msg)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tries++
	if sm := mugaiIDHeader.FindSubmatch(msg); sm != nil && len(res) > 0 && res[0].Err != nil && !courier.IsPermanent(res[0].Err) {
		c.deferred[string(sm[1])] = true
	}
	return res
}

func (c *countingCourier) deferredCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.deferred)
}

func (c *countingCourier) attempts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tries
}

// freeAddr returns a loopback address nothing listens on (now).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// startNextHopAt starts a recording next hop (as startNextHop) on addr.
func startNextHopAt(t *testing.T, addr string) *nextHop {
	t.Helper()
	h := &nextHop{addr: addr}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &hopSession{h: h, conn: c}, nil
	}))
	srv.Domain = "lgwan-mta.test"
	srv.ErrorLog = testLogger{t}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return h
}

// count is how many messages the next hop received.
func (h *nextHop) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.received)
}

// waitLong is waitFor for work measured in thousands of messages: its
// deadline only turns a hang into a failure, and is far beyond what a
// slow machine takes.
func waitLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
