package ooxml

import (
	"bytes"
	"context"
	"io"
	"testing"

	"mugai/sanitize/format"
)

func BenchmarkDisarm(b *testing.B) {
	in := docm(b)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{Filename: "a.docm"}, bytes.NewReader(in), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExtract(b *testing.B) {
	in := docm(b)
	for b.Loop() {
		if _, err := (&Extractor{}).Sanitize(context.Background(), format.Part{Filename: "a.docm"}, bytes.NewReader(in), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
