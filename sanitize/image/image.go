// Package image disarms images by decoding and re-encoding them: what
// comes out is pixels only. EXIF (with GPS), comments, text chunks, ICC
// profiles, extra frames and any data appended after the image are gone.
package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif" // decoders
	"image/jpeg"
	"image/png"
	"io"
	"path"
	"strings"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"

	"mugai/sanitize/format"
)

// ErrTooManyPixels: the image declares more pixels than allowed.
var ErrTooManyPixels = errors.New("image: too many pixels")

// Types lists the detected types this sanitizer takes.
var Types = []string{"image/png", "image/jpeg", "image/gif", "image/bmp", "image/tiff", "image/webp"}

// Disarmer re-encodes images.
type Disarmer struct {
	MaxPixels   int64 // width × height; default 40 million
	JPEGQuality int   // default 90
	MaxInput    int64 // bytes read at most; default 64 MiB
}

var _ format.Sanitizer = (*Disarmer)(nil)

// Name implements format.Sanitizer.
func (d *Disarmer) Name() string { return "image" }

// Sanitize implements format.Sanitizer. JPEG stays JPEG (photos); every
// other format becomes PNG (lossless; there is no WebP encoder).
func (d *Disarmer) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (format.Verdict, error) {
	maxInput := d.MaxInput
	if maxInput <= 0 {
		maxInput = 64 << 20
	}
	data, err := format.ReadAll(in, maxInput)
	if err != nil {
		return format.Verdict{}, fmt.Errorf("image: %w", err)
	}
	cfg, kind, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return format.Verdict{}, fmt.Errorf("image: %w", err)
	}
	maxPixels := d.MaxPixels
	if maxPixels <= 0 {
		maxPixels = 40_000_000
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels || cfg.Width <= 0 || cfg.Height <= 0 {
		return format.Verdict{}, fmt.Errorf("%w: %d×%d", ErrTooManyPixels, cfg.Width, cfg.Height)
	}
	if err := ctx.Err(); err != nil {
		return format.Verdict{}, err
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return format.Verdict{}, fmt.Errorf("image: %w", err)
	}
	removed := []string{"metadata (EXIF/GPS, comments, profiles) and any data after the image"}
	if kind == "jpeg" {
		if o := exifOrientation(data); o > 1 {
			img = orient(img, o)
			removed = append(removed, "EXIF orientation applied to the pixels")
		}
	}
	if kind == "gif" && bytes.Count(data, []byte{0x00, 0x21, 0xF9, 0x04}) > 1 {
		removed = append(removed, "animation (first frame kept)")
	}
	if err := ctx.Err(); err != nil {
		return format.Verdict{}, err
	}
	v := format.Verdict{Removed: removed}
	if kind == "jpeg" {
		q := d.JPEGQuality
		if q <= 0 {
			q = 90
		}
		v.Type = "image/jpeg"
		return v, jpeg.Encode(out, img, &jpeg.Options{Quality: q})
	}
	v.Type = "image/png"
	if name := p.Filename; name != "" && !strings.EqualFold(path.Ext(name), ".png") {
		v.Filename = strings.TrimSuffix(name, path.Ext(name)) + ".png"
	}
	return v, png.Encode(out, img)
}

// exifOrientation returns the EXIF orientation (1–8) of a JPEG, 0 if none.
func exifOrientation(b []byte) int {
	for i := 2; i+4 < len(b); {
		if b[i] != 0xFF {
			return 0
		}
		marker := b[i+1]
		n := int(b[i+2])<<8 | int(b[i+3])
		if marker == 0xDA || n < 2 || i+2+n > len(b) { // start of scan: no more headers
			return 0
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 0
}

func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var u16 func([]byte) int
	var u32 func([]byte) int
	switch string(t[:2]) {
	case "II":
		u16 = func(b []byte) int { return int(b[0]) | int(b[1])<<8 }
		u32 = func(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 | int(b[3])<<24 }
	case "MM":
		u16 = func(b []byte) int { return int(b[1]) | int(b[0])<<8 }
		u32 = func(b []byte) int { return int(b[3]) | int(b[2])<<8 | int(b[1])<<16 | int(b[0])<<24 }
	default:
		return 0
	}
	ifd := u32(t[4:8])
	if ifd < 8 || ifd+2 > len(t) {
		return 0
	}
	count := u16(t[ifd:])
	for k := 0; k < count && ifd+2+12*(k+1) <= len(t); k++ {
		e := t[ifd+2+12*k:]
		if u16(e) == 0x0112 {
			if o := u16(e[8:]); o >= 1 && o <= 8 {
				return o
			}
		}
	}
	return 0
}

// orient returns img transformed so that it displays upright.
func orient(img image.Image, o int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
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
			default:
				dx, dy = x, y
			}
			dst.Set(dx, dy, src.At(x, y))
		}
	}
	return dst
}
