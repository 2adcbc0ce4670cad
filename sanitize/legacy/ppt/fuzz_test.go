package ppt

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"

	"mugai/sanitize/format"
	"mugai/sanitize/legacy/internal/ole"
)

// FuzzExtract: any file either fails or gives text, and never panics.
func FuzzExtract(f *testing.F) {
	f.Add(samplePPT(false))
	f.Add(samplePPT(true))
	f.Add([]byte("not a presentation"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e := &Extractor{MaxText: 1000, MaxRecords: 10000}
		_, _ = e.Sanitize(context.Background(), format.Part{Budget: format.NewBudget(1<<20, nil)}, bytes.NewReader(data), io.Discard)
	})
}

// FuzzStreams fuzzes the Current User and PowerPoint Document streams
// themselves, past the compound file.
func FuzzStreams(f *testing.F) {
	st, err := ole.Streams(samplePPT(false), nil, "Current User", "PowerPoint Document")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(st["Current User"], st["PowerPoint Document"])
	if b, err := os.ReadFile("../testdata/sample.ppt"); err == nil {
		if st, err := ole.Streams(b, nil, "Current User", "PowerPoint Document"); err == nil {
			f.Add(st["Current User"], st["PowerPoint Document"])
		}
	}
	f.Fuzz(func(t *testing.T, cur, doc []byte) {
		e := &Extractor{MaxText: 1000, MaxRecords: 10000}
		r, err := e.fromStreams(context.Background(), cur, doc)
		if err == nil && r.cut && len([]rune(r.text)) > 1000+40*10000 {
			t.Fatalf("%d characters", len([]rune(r.text)))
		}
	})
}
