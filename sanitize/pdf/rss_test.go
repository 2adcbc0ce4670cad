package pdf

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mugai/sanitize/format"
)

// procStatus is a field of /proc/self/status in bytes (VmRSS, VmHWM).
func procStatus(tb testing.TB, field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// resetPeakRSS starts VmHWM again from the current resident set (Linux
// 4.0 and later); false when the kernel refuses.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// BenchmarkFlattenConcurrent flattens one-page A4 documents of Japanese
// text at 150 dpi (the PDF of the perf message's kind) from 20
// goroutines, as 20 SMTP sessions of the default policy do, through one
// Engine of the default size. peak-RSS-MB is the process's peak resident
// set during the run (VmHWM, reset first), the figure make perf reports
// for the whole gateway; pages/s must not fall when it does.
func BenchmarkFlattenConcurrent(b *testing.B) {
	const sessions = 20
	in := japaneseTextPDF(1, 10.5, 842)
	e := &Engine{CacheDir: testEngine.CacheDir}
	defer e.Close()
	f := &Flattener{Engine: e, DPI: 150}
	if _, err := f.Sanitize(context.Background(), format.Part{}, bytes.NewReader(in), &bytes.Buffer{}); err != nil { // compile, warm
		b.Fatal(err)
	}
	if !resetPeakRSS() {
		b.Log("VmHWM cannot be reset: the peak includes the warm-up")
	}
	var pages atomic.Int64
	start := time.Now()
	for b.Loop() {
		var wg sync.WaitGroup
		errs := make(chan error, sessions)
		for range sessions {
			wg.Go(func() {
				var out bytes.Buffer
				if _, err := f.Sanitize(context.Background(), format.Part{}, bytes.NewReader(in), &out); err != nil {
					errs <- err
					return
				}
				pages.Add(1)
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(pages.Load())/time.Since(start).Seconds(), "pages/s")
	b.ReportMetric(float64(procStatus(b, "VmHWM"))/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(procStatus(b, "VmRSS"))/(1<<20), "end-RSS-MB")
}
