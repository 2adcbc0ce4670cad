package delivery

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"mugai/gateway/courier"
)

// TestReuseThroughRunner: a backlog delivered by one worker to the fake
// next hop goes over one connection, each message once; Stop closes the
// kept connection. With four workers, at most four connections.
func TestReuseThroughRunner(t *testing.T) {
	for _, workers := range []int{1, 4} {
		hop := startRecorder(t, "")
		c := &courier.SMTP{Addr: hop.addr, Hostname: "mugai.test", Timeout: 10 * time.Second,
			Reuse: courier.Reuse{MaxIdle: workers, IdleTimeout: time.Minute}}
		cfg := testConfig()
		cfg.Workers = workers
		tr := newTestRunner(t, "", cfg, c, nil, slog.LevelWarn)
		const n = 40
		ids := map[string]bool{}
		for range n {
			ids[tr.spoolMessage(t, "a@example.jp", "b@city.example.lg.jp")] = true
		}
		ctx, cancel := context.WithCancel(context.Background())
		tr.Start(ctx)
		waitFor(t, "the backlog delivered", func() bool { return hop.count() == n })
		for id, k := range hop.counts() {
			if !ids[id] || k != 1 {
				t.Errorf("workers=%d: %s arrived %d times", workers, id, k)
			}
		}
		opened, ended := hop.sessions()
		st := tr.Connections()
		if opened > workers || int(st.Opened) != opened || int(st.Opened+st.Reused) != n || ended != 0 {
			t.Errorf("workers=%d: %d connections (%d ended), stats %+v; want at most %d, all open, %d transactions",
				workers, opened, ended, st, workers, n)
		}
		cancel()
		tr.Stop()
		waitFor(t, "the kept connections closed at Stop", func() bool { _, e := hop.sessions(); return e == opened })
	}
}
