package image

import (
	"bytes"
	"context"
	"image/jpeg"
	"image/png"
	"io"
	"testing"

	"mugai/sanitize/format"
)

func benchImage(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{Filename: "x"}, bytes.NewReader(data), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// A 1200×900 photo-sized image, as JPEG and as PNG.
func BenchmarkReencodeJPEG(b *testing.B) {
	var buf bytes.Buffer
	jpeg.Encode(&buf, testImage(1200, 900), &jpeg.Options{Quality: 85})
	benchImage(b, buf.Bytes())
}

func BenchmarkReencodePNG(b *testing.B) {
	var buf bytes.Buffer
	png.Encode(&buf, testImage(1200, 900))
	benchImage(b, buf.Bytes())
}
