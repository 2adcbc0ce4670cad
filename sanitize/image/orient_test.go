package image

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"testing"
)

// quadrants is a w×h image whose four quarters are red (top left), green
// (top right), blue (bottom left) and white (bottom right).
func quadrants(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	q := []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {255, 255, 255, 255}}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := 0
			if x >= w/2 {
				i++
			}
			if y >= h/2 {
				i += 2
			}
			m.SetRGBA(x, y, q[i])
		}
	}
	return m
}

// The stored corners (A top left, B top right, C bottom left, D bottom
// right) seen upright, per EXIF orientation (TIFF 6.0 / Exif 2.3, tag
// 0x0112): top left, top right, bottom left, bottom right.
var uprightCorners = map[int]string{
	1: "ABCD", 2: "BADC", 3: "DCBA", 4: "CDAB",
	5: "ACBD", 6: "CADB", 7: "DBCA", 8: "BDAC",
}

func cornerName(c color.Color) string {
	r, g, b, _ := c.RGBA()
	r, g, b = r>>8, g>>8, b>>8
	switch {
	case r > 200 && g < 60 && b < 60:
		return "A"
	case r < 60 && g > 200 && b < 60:
		return "B"
	case r < 60 && g < 60 && b > 200:
		return "C"
	case r > 200 && g > 200 && b > 200:
		return "D"
	}
	return fmt.Sprintf("?(%d,%d,%d)", r, g, b)
}

func corners(m image.Image) string {
	b := m.Bounds()
	const in = 3 // away from the edges JPEG blurs
	return cornerName(m.At(b.Min.X+in, b.Min.Y+in)) + cornerName(m.At(b.Max.X-1-in, b.Min.Y+in)) +
		cornerName(m.At(b.Min.X+in, b.Max.Y-1-in)) + cornerName(m.At(b.Max.X-1-in, b.Max.Y-1-in))
}

// Every orientation comes out upright, through the whole Sanitize, for
// the subsamplings a JPEG encoder writes (image/jpeg writes 4:2:0, gray
// writes one component).
func TestOrientationAll(t *testing.T) {
	const w, h = 48, 32
	var color420, gray bytes.Buffer
	jpeg.Encode(&color420, quadrants(w, h), &jpeg.Options{Quality: 95})
	for o := 1; o <= 8; o++ {
		out, v, err := run(t, withOrientation(color420.Bytes(), o), "x.jpg")
		if err != nil {
			t.Fatalf("orientation %d: %v", o, err)
		}
		m, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		ww, hh := w, h
		if o >= 5 {
			ww, hh = h, w
		}
		if m.Bounds().Dx() != ww || m.Bounds().Dy() != hh {
			t.Errorf("orientation %d: %v, want %d×%d", o, m.Bounds(), ww, hh)
		}
		if got := corners(m); got != uprightCorners[o] {
			t.Errorf("orientation %d: corners %s, want %s", o, got, uprightCorners[o])
		}
		if applied := len(v.Notes) == 2; applied != (o > 1) {
			t.Errorf("orientation %d: notes %+v", o, v.Notes)
		}
		if exifOrientation(out) != 0 {
			t.Errorf("orientation %d: the tag survived", o)
		}
	}
	// Grey: corners told apart by brightness.
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			g.Pix[y*g.Stride+x] = uint8(40*(x*2/w) + 120*(y*2/h) + 20)
		}
	}
	jpeg.Encode(&gray, g, &jpeg.Options{Quality: 95})
	for o := 1; o <= 8; o++ {
		out, _, err := run(t, withOrientation(gray.Bytes(), o), "x.jpg")
		if err != nil {
			t.Fatal(err)
		}
		m, _ := jpeg.Decode(bytes.NewReader(out))
		if _, ok := m.(*image.Gray); !ok {
			t.Errorf("orientation %d: grey came out as %T", o, m)
		}
		b := m.Bounds()
		level := func(x, y int) string { // 20, 60, 140, 180 → A B C D
			switch v := m.(*image.Gray).GrayAt(x, y).Y; {
			case v < 40:
				return "A"
			case v < 100:
				return "B"
			case v < 160:
				return "C"
			}
			return "D"
		}
		got := level(3, 3) + level(b.Dx()-4, 3) + level(3, b.Dy()-4) + level(b.Dx()-4, b.Dy()-4)
		if got != uprightCorners[o] {
			t.Errorf("grey orientation %d: corners %s, want %s", o, got, uprightCorners[o])
		}
	}
}

// reference turns img upright pixel by pixel, with the forward mapping
// (where each stored pixel goes), independent of orient's.
func reference(img image.Image, o int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := x, y
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			dst.Set(dx, dy, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return dst
}

// orient writes exactly the reference's pixels, for every kind of image
// it has a direct path for and for the generic one, including sub-images
// that do not start at the origin. YCbCr sizes are multiples of the
// subsampling, where turning the chroma planes is exact.
func TestOrientKinds(t *testing.T) {
	const w, h = 24, 16
	src := quadrants(w, h)
	for y := 0; y < h; y++ { // and a gradient, so that every pixel differs
		for x := 0; x < w; x++ {
			c := src.RGBAAt(x, y)
			src.SetRGBA(x, y, color.RGBA{c.R ^ uint8(x*9), c.G ^ uint8(y*13), c.B ^ uint8(x*y), 255})
		}
	}
	kinds := map[string]image.Image{}
	for _, r := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		m := image.NewYCbCr(image.Rect(0, 0, w, h), r)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := src.RGBAAt(x, y)
				yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
				m.Y[m.YOffset(x, y)], m.Cb[m.COffset(x, y)], m.Cr[m.COffset(x, y)] = yy, cb, cr
			}
		}
		kinds[r.String()] = m
		kinds[r.String()+" sub-image"] = m.SubImage(image.Rect(4, 4, w, h))
	}
	gray := image.NewGray(src.Bounds())
	cmyk := image.NewCMYK(src.Bounds())
	nrgba := image.NewNRGBA(src.Bounds())
	pal := image.NewPaletted(src.Bounds(), color.Palette{color.Black, color.White, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}})
	g16 := image.NewGray16(src.Bounds())
	for _, m := range []draw.Image{gray, cmyk, nrgba, pal, g16} {
		draw.Draw(m, m.Bounds(), src, image.Point{}, draw.Src)
	}
	kinds["rgba"], kinds["gray"], kinds["cmyk"], kinds["nrgba"], kinds["paletted"], kinds["gray16 (generic)"] = src, gray, cmyk, nrgba, pal, g16
	kinds["rgba sub-image"] = src.SubImage(image.Rect(3, 2, w-1, h))
	for name, m := range kinds {
		for o := 1; o <= 8; o++ {
			got, err := orient(context.Background(), m, o)
			if err != nil {
				t.Fatal(err)
			}
			want := reference(m, o)
			if got.Bounds() != want.Bounds() {
				t.Errorf("%s, orientation %d: bounds %v, want %v", name, o, got.Bounds(), want.Bounds())
				continue
			}
			if n := int64(len(pixBytes(got))); n != orientedSize(m, o) {
				t.Errorf("%s, orientation %d: %d bytes allocated, orientedSize says %d", name, o, n, orientedSize(m, o))
			}
		diff:
			for y := 0; y < want.Bounds().Dy(); y++ {
				for x := 0; x < want.Bounds().Dx(); x++ {
					if g, w := color.RGBAModel.Convert(got.At(x, y)), want.At(x, y); g != w {
						t.Errorf("%s, orientation %d: (%d,%d) = %v, want %v", name, o, x, y, g, w)
						break diff
					}
				}
			}
		}
	}
}

// pixBytes is the pixel memory of an image orient returns.
func pixBytes(m image.Image) []byte {
	switch m := m.(type) {
	case *image.YCbCr:
		return append(append(append([]byte{}, m.Y...), m.Cb...), m.Cr...)
	case *image.Gray:
		return m.Pix
	case *image.Paletted:
		return m.Pix
	case *image.CMYK:
		return m.Pix
	case *image.RGBA:
		return m.Pix
	case *image.NRGBA:
		return m.Pix
	}
	panic(fmt.Sprintf("%T", m))
}
