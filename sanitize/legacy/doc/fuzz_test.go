package doc

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"

	"mugai/sanitize/format"
	"mugai/sanitize/legacy/internal/ole"
)

// FuzzExtract: any input either fails or gives text within the limits,
// and never panics.
func FuzzExtract(f *testing.F) {
	f.Add(sample.build())
	f.Add(testDoc{table0: true, pieces: []testPiece{{"abc\r", true}, {"日本\a" + string(rowMark), false}}}.build())
	f.Add([]byte("not a document"))
	if b, err := os.ReadFile("../testdata/sample.doc"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e := &Extractor{MaxText: 1000}
		_, err := e.Sanitize(context.Background(), format.Part{Budget: format.NewBudget(1<<20, nil)}, bytes.NewReader(data), io.Discard)
		_ = err
		// The table and piece parsers alone, on the raw bytes.
		if p, err := parseCLX(data, 1000); err == nil && len(p) > 1000 {
			t.Fatalf("%d pieces", len(p))
		}
		_, _ = parseFIB(data)
		_ = rowEnds(data, data, fib{lcbBtePap: uint32(len(data))})
	})
}

// FuzzStreams fuzzes the WordDocument and table streams themselves, past
// the compound file.
func FuzzStreams(f *testing.F) {
	for _, d := range []testDoc{sample, {pieces: []testPiece{{"Main\rFoot\r", true}}, ccp: [8]uint32{5, 5}}} {
		st, err := ole.Streams(d.build(), nil, "WordDocument", "1Table")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(st["WordDocument"], st["1Table"])
	}
	f.Fuzz(func(t *testing.T, wd, table []byte) {
		e := &Extractor{MaxText: 1000, MaxPieces: 1000}
		r, err := e.fromStreams(context.Background(), map[string][]byte{"WordDocument": wd, "1Table": table, "0Table": table})
		if err == nil && len([]rune(r.text)) > 1000+200 { // the headings are extra
			t.Fatalf("%d characters", len([]rune(r.text)))
		}
	})
}
