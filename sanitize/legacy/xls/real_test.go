package xls

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"mugai/sanitize/format"
)

// TestLibreOffice reads workbooks LibreOffice wrote (testdata/gen.sh) and
// compares the text with testdata/NAME.txt; the text got is written to
// NAME.got when they differ.
func TestLibreOffice(t *testing.T) {
	for _, name := range []string{"city"} {
		file, err := os.ReadFile("testdata/" + name + ".xls")
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile("testdata/" + name + ".txt")
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		v, err := (&Extractor{}).Sanitize(context.Background(), format.Part{Filename: name + ".xls"}, bytes.NewReader(file), &out)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(out.Bytes(), want) {
			_ = os.WriteFile("testdata/"+name+".got", out.Bytes(), 0o644)
			t.Errorf("%s: the text differs from testdata/%s.txt (got: testdata/%s.got)", name, name, name)
		}
		for _, never := range []string{"calc\"", "DDE(", "SUM(", "cmd\""} {
			if strings.Contains(out.String(), never) {
				t.Errorf("%s: a formula came through: %q", name, never)
			}
		}
		if len(v.Notes) != 3 || !strings.Contains(v.Notes[1].EN, "1 hidden sheet included") || !strings.Contains(v.Notes[2].EN, "1 value") ||
			!strings.Contains(v.Notes[0].JA, "文字と値だけ") {
			t.Errorf("%s: notes %+v", name, v.Notes)
		}
	}
}

// BenchmarkExtract extracts the LibreOffice workbook (three sheets, a
// 6,000-character string across records).
func BenchmarkExtract(b *testing.B) {
	file, err := os.ReadFile("testdata/city.xls")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(file)))
	for b.Loop() {
		if _, err := (&Extractor{}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(file), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
