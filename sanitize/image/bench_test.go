package image

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
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

// largeJPEG is a 4000×3000 4:2:0 photo-like JPEG carrying EXIF
// orientation o.
func largeJPEG(b *testing.B, o int) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(4000, 3000), &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	return withOrientation(buf.Bytes(), o)
}

// A 12-megapixel JPEG as a phone stores it: on its side, EXIF
// orientation 6. The whole Sanitize (decode, turn upright, encode).
func BenchmarkOrientJPEG(b *testing.B) {
	benchImage(b, largeJPEG(b, 6))
}

// Turning a decoded 4000×3000 4:2:0 photo upright, alone (orientation 6
// transposes; 3 only flips).
func BenchmarkOrientYCbCr(b *testing.B) {
	img, err := jpeg.Decode(bytes.NewReader(largeJPEG(b, 1)))
	if err != nil {
		b.Fatal(err)
	}
	for _, o := range []int{3, 6} {
		b.Run(fmt.Sprint(o), func(b *testing.B) {
			b.SetBytes(4000 * 3000)
			for b.Loop() {
				if _, err := orient(context.Background(), img, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The alternative orient does not take for YCbCr: straight into one RGBA
// (no intermediate copy), for comparison with turning the planes.
func BenchmarkOrientYCbCrToRGBA(b *testing.B) {
	img, err := jpeg.Decode(bytes.NewReader(largeJPEG(b, 1)))
	if err != nil {
		b.Fatal(err)
	}
	m := img.(*image.YCbCr)
	b.SetBytes(4000 * 3000)
	for b.Loop() {
		t := xform{o: 6, w: m.Rect.Dx(), h: m.Rect.Dy()}
		dw, dh := t.size()
		d := image.NewRGBA(image.Rect(0, 0, dw, dh))
		for dy := 0; dy < dh; dy++ {
			row := d.Pix[dy*d.Stride:]
			for dx := 0; dx < dw; dx++ {
				x, y := t.src(dx, dy)
				yi, ci := m.YOffset(x, y), m.COffset(x, y)
				r, g, bb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				row[4*dx], row[4*dx+1], row[4*dx+2], row[4*dx+3] = r, g, bb, 255
			}
		}
	}
}
