package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

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
// does after its commit, so intake runs alongside the scheduler; the
// courier is the SMTP one the gateway uses.
func TestBacklogDrainsOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 spool entries")
	}
	const n = 20_000
	addr := freeAddr(t) // nothing listens: connection refused
	cfg := testConfig()
	// Enough workers for the deferrals' fsyncs (meta and directory) to
	// share journal commits. Each entry is deferred once while the hop is
	// down: the flush, not the backoff, ends the wait.
	cfg.Workers = 32
	cfg.RetryMin, cfg.RetryMax = time.Minute, time.Minute
	cc := &countingCourier{Courier: &courier.SMTP{Addr: addr, Hostname: "mugai.test", Timeout: 10 * time.Second},
		deferred: map[string]bool{}}
	// Only warnings and errors reach the test log: 20,000 messages'
	// worth of info lines would cost more than the delivery.
	tr := newTestRunner(t, "", cfg, cc, nil, slog.LevelWarn)
	tr.start(t)

	start := time.Now()
	ids := spoolBacklog(t, tr, n)
	spooled := time.Since(start)
	waitLong(t, "every message deferred", func() bool { return cc.deferredCount() == n })
	down, triedDown := time.Since(start), cc.attempts()

	hop := startRecorder(t, addr)
	if _, _, err := tr.Rescan(true); err != nil { // flush
		t.Fatal(err)
	}
	waitLong(t, "every message at the next hop", func() bool { return hop.count() >= n })
	waitLong(t, "an empty queue", func() bool {
		w, _, _ := tr.spool.List()
		return tr.Queued() == 0 && len(w) == 0
	})
	drained := time.Since(start) - down

	counts := hop.counts()
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
	for _, r := range auditEvents(t, tr.dir+"/audit.jsonl", "") {
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

// spoolBacklog commits n entries to tr's spool in batches (one group
// commit each) and schedules each as a session does; it returns their
// ids. Each message carries its id in X-Mugai-Id, as rebuilt ones do.
func spoolBacklog(t *testing.T, tr *testRunner, n int) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	committer := tr.deps.Committer
	const batch = 500
	for i := 0; i < n; i += batch {
		var st safeio.Staged
		var entries []*queue.Entry
		for j := i; j < min(i+batch, n); j++ {
			now := time.Now()
			id := fmt.Sprintf("%s-backlog%05d", now.UTC().Format("20060102T150405"), j)
			e := &queue.Entry{ID: id, From: "a@example.jp", Created: now, NextAttempt: now,
				Rcpts: []*queue.Recipient{{Addr: "b@city.example.lg.jp", Status: queue.StatusPending}}}
			msg := fmt.Sprintf("X-Mugai-Id: %s\r\nFrom: a@example.jp\r\nTo: b@city.example.lg.jp\r\n"+
				"Subject: backlog %d\r\n\r\nbody %d\r\n", id, j, j)
			if err := tr.spool.Stage(&st, e, []byte(msg)); err != nil {
				st.Discard()
				t.Fatal(err)
			}
			entries = append(entries, e)
			ids[id] = true
		}
		if err := st.Commit(committer); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !tr.Add(e) {
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
	if sm := mugaiID.FindSubmatch(msg); sm != nil && len(res) > 0 && res[0].Err != nil && !courier.IsPermanent(res[0].Err) {
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
