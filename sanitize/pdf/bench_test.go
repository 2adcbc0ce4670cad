package pdf

import (
	"bytes"
	"context"
	"io"
	"testing"

	"mugai/sanitize/format"
)

func BenchmarkDisarm(b *testing.B) {
	in := hostilePDF()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(in), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFlattenPage renders one A4 page with Japanese text at 150 dpi
// and rebuilds the image PDF; pages/s is the figure to compare.
func BenchmarkFlattenPage(b *testing.B) {
	in := japanesePDF()
	f := &Flattener{Engine: testEngine, DPI: 150}
	var out bytes.Buffer
	if _, err := f.Sanitize(context.Background(), format.Part{}, bytes.NewReader(in), &out); err != nil { // warm the pool
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		out.Reset()
		if _, err := f.Sanitize(context.Background(), format.Part{}, bytes.NewReader(in), &out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}
