//go:build unix

package delivery

import (
	"context"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"mugai/gateway/courier"
)

// BenchmarkDrain is the delivery side alone: a backlog of 100 spooled
// messages drained by four workers through the SMTP courier to the fake
// next hop on 127.0.0.1, each connection new (reuse=off, as before the
// connection cache) or kept. ns/msg is the wall time per message,
// cpu-ns/msg the process's CPU time (sender and next hop) per message:
// steadier than the wall time on a loaded machine.
func BenchmarkDrain(b *testing.B) {
	for _, tc := range []struct {
		name  string
		reuse int
	}{{"reuse=off", -1}, {"reuse=on", 4}} {
		b.Run(tc.name, func(b *testing.B) {
			const n = 100
			var total, cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				hop := startRecorderTB(b)
				c := &courier.SMTP{Addr: hop.addr, Hostname: "mugai.test", Timeout: 10 * time.Second, Reuse: courier.Reuse{MaxIdle: tc.reuse}}
				tr := newTestRunner(b, "", testConfig(), c, nil, slog.LevelError)
				for range n {
					tr.spoolMessage(b, "a@example.jp", "b@city.example.lg.jp")
				}
				ctx, cancel := context.WithCancel(context.Background())
				b.StartTimer()
				start, cpu0 := time.Now(), cpuTime()
				tr.Start(ctx)
				for hop.count() < n {
					time.Sleep(time.Millisecond)
				}
				total += time.Since(start)
				cpu += cpuTime() - cpu0
				b.StopTimer()
				cancel()
				tr.Stop()
				b.StartTimer()
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(b.N*n), "ns/msg")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/msg")
		})
	}
}

// cpuTime is the process's user and system CPU time so far (both ends of
// the connection run in it).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
