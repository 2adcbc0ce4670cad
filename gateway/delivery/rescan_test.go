package delivery

import (
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// TestRescanFlushes: after a rescan with flush (SIGUSR1, mugai queue
// flush) a message deferred for an hour is tried at once.
func TestRescanFlushes(t *testing.T) {
	var accept atomic.Bool
	hop := &fakeCourier{name: "relay hop", reply: func(string, int) error {
		if accept.Load() {
			return nil
		}
		return refuse(451, "4.3.0", "later")
	}}
	cfg := testConfig()
	cfg.RetryMin, cfg.RetryMax = time.Hour, time.Hour
	tr := newTestRunner(t, "", cfg, hop, nil, slog.LevelDebug)
	tr.start(t)
	id := tr.spoolMessage(t, "a@example.jp", "b@city.example.lg.jp")
	waitFor(t, "a deferral", func() bool {
		e, err := tr.spool.Entry(id)
		return err == nil && e.Attempts == 1
	})
	accept.Store(true)
	if _, _, err := tr.Rescan(true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery after the rescan", func() bool { return len(hop.messages()) == 1 })
}

// TestRescanDuringAttempt: a flush that arrives while the message's
// attempt is under way still takes effect when that attempt ends deferred
// (it used to be lost until the backoff, an hour here).
func TestRescanDuringAttempt(t *testing.T) {
	inAttempt, release := make(chan struct{}), make(chan struct{})
	hop := &fakeCourier{name: "relay hop", reply: func(_ string, n int) error {
		if n == 1 {
			close(inAttempt)
			<-release
			return refuse(451, "4.3.0", "later")
		}
		return nil
	}}
	cfg := testConfig()
	cfg.RetryMin, cfg.RetryMax = time.Hour, time.Hour
	tr := newTestRunner(t, "", cfg, hop, nil, slog.LevelDebug)
	tr.start(t)
	tr.spoolMessage(t, "a@example.jp", "b@city.example.lg.jp")
	<-inAttempt
	if _, _, err := tr.Rescan(true); err != nil {
		t.Fatal(err)
	}
	close(release)
	waitFor(t, "delivery right after the deferred attempt", func() bool { return len(hop.messages()) == 1 })
}
