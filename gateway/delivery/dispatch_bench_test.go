package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mugai/gateway/queue"
)

// BenchmarkDispatch measures the scheduler alone: n entries, all due, are
// handed out by one dispatch to workers that take each at once (the work
// channel has room for all: no worker ever keeps dispatch waiting, as if
// every courier returned 250 instantly), so what is timed is the cost of
// choosing the next entry and marking it in flight. The workers' side
// (finished) runs after, untimed. ns/entry is per entry handed out; it
// should barely grow with n (the scan it replaced made it grow linearly,
// the total quadratically).
func BenchmarkDispatch(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			d, entries := benchRunner(b, n)
			var handed time.Duration
			for b.Loop() {
				b.StopTimer()
				for _, e := range entries {
					if !d.Add(e) {
						b.Fatalf("entry %s not added", e.ID)
					}
				}
				d.work = make(chan *queue.Entry, n)
				b.StartTimer()
				start := time.Now()
				d.dispatch(context.Background())
				handed += time.Since(start)
				b.StopTimer()
				got := len(d.work)
				close(d.work)
				for e := range d.work {
					d.finished(e, nil)
				}
				if got != n || d.Queued() != 0 {
					b.Fatalf("%d of %d entries handed out, %d still queued", got, n, d.Queued())
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(handed.Nanoseconds())/float64(b.N*n), "ns/entry")
		})
	}
}

// benchRunner returns a runner (not started) over a spool holding n
// message files, and n entries for them, all due, in random order of
// next attempt.
func benchRunner(b *testing.B, n int) (*Runner, []*queue.Entry) {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "spool")
	spool, _, _, err := queue.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	d := New(Config{}, Deps{Spool: spool, Log: slog.New(slog.DiscardHandler), Now: time.Now})
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now()
	entries := make([]*queue.Entry, n)
	for i := range entries {
		id := fmt.Sprintf("bench-%06d", i)
		// schedule1 adds only what the spool holds: the file is enough.
		if err := os.WriteFile(filepath.Join(dir, id+".msg"), nil, 0o600); err != nil {
			b.Fatal(err)
		}
		entries[i] = &queue.Entry{ID: id, NextAttempt: now.Add(-time.Duration(rng.Int64N(int64(time.Hour))))}
	}
	return d, entries
}
