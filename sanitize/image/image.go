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

// Errors, for errors.Is. A budget that cannot hold the image gives the
// budget's error (format.ErrBudget or a *format.GrowError), wrapped.
var (
	// ErrTooManyPixels: the image declares more pixels than allowed.
	ErrTooManyPixels = errors.New("image: too many pixels")
	// ErrImplausible: the image declares far more pixels than its file
	// could hold pixels of (see maxPixelsPerByte).
	ErrImplausible = errors.New("image: declared size implausible for the file's size")
	// ErrTooManyScans: a JPEG with more scans than any encoder writes.
	// The decoder walks every block once per scan, so scans multiply
	// the work of a file that is small (a few KB deflated in a ZIP can
	// hold tens of thousands of scans: minutes of CPU per image).
	ErrTooManyScans = errors.New("image: JPEG has too many scans")
)

// maxJPEGScans is far above what encoders write (progressive JPEGs from
// libjpeg and mozjpeg have about 10). Start-of-scan markers are counted
// as 0xFF 0xDA anywhere in the file: inside entropy-coded data 0xFF is
// always followed by 0x00 or a restart marker, so only metadata (an EXIF
// thumbnail, a profile) can add to the count, never hide a scan.
const maxJPEGScans = 100

// The file-size sanity: past implausibleFloor pixels, an image must come
// with at least one byte per maxPixelsPerByte pixels: twice what deflate
// at its best (1032:1) gives on 1-bit pixels (about 8,250 pixels a byte).
// A baseline JPEG needs a few bits per 8×8 block, GIF's LZW about 2,700
// pixels a byte at most; only progressive end-of-band runs, zero-bit WebP
// codes and the like go further, and no real picture needs them to.
const (
	implausibleFloor = 4 << 20
	maxPixelsPerByte = 16384
)

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
//
// The work is bounded before it is done: the declared size is checked
// against MaxPixels and against the file's size, and the memory the
// decoder, the upright copy and the encoder will hold is taken from the
// message's budget (p.Budget) before anything is decoded. ctx is checked
// between the steps, in our own loops, and on every read of the decoder
// and write of the encoder.
func (d *Disarmer) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (format.Verdict, error) {
	maxInput := d.MaxInput
	if maxInput <= 0 {
		maxInput = 64 << 20
	}
	data, err := format.ReadAll(in, maxInput)
	if err != nil {
		return format.Verdict{}, fmt.Errorf("image: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return format.Verdict{}, err
	}
	cfg, kind, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return format.Verdict{}, fmt.Errorf("image: %w", err)
	}
	o, err := d.checkDeclared(cfg, kind, data)
	if err != nil {
		return format.Verdict{}, err
	}
	img, err := decode(ctx, p.Budget, cfg, kind, data, o)
	if err != nil {
		return format.Verdict{}, err
	}
	notes := []format.Note{{JA: "撮影情報（EXIF・位置情報）・コメント・カラープロファイルと、画像の後ろに付いたデータを取り除きました。",
		EN: "Metadata (EXIF and location data, comments, colour profiles) and any data after the image were removed."}}
	if o > 1 { // JPEG only
		if img, err = upright(ctx, p.Budget, img, cfg, data, o); err != nil {
			return format.Verdict{}, err
		}
		notes = append(notes, format.Note{JA: "撮影時の向き（EXIF）に合わせて画像を回転しました。",
			EN: "The image was turned the way its EXIF orientation said."})
	}
	if kind == "gif" && bytes.Count(data, []byte{0x00, 0x21, 0xF9, 0x04}) > 1 {
		notes = append(notes, format.Note{JA: "アニメーションは最初のコマだけを残しました。",
			EN: "Only the first frame of the animation was kept."})
	}
	if err := ctx.Err(); err != nil {
		return format.Verdict{}, err
	}
	return d.encode(ctx, p.Filename, kind, img, notes, out)
}

// checkDeclared refuses an image whose declared size is over MaxPixels or
// implausible for the file's size, and a JPEG with too many scans. It
// returns the EXIF orientation of a JPEG (0 for other kinds).
func (d *Disarmer) checkDeclared(cfg image.Config, kind string, data []byte) (int, error) {
	maxPixels := d.MaxPixels
	if maxPixels <= 0 {
		maxPixels = 40_000_000
	}
	// Each side first: the product of two huge sides overflows int64.
	w, h := int64(cfg.Width), int64(cfg.Height)
	if w <= 0 || h <= 0 || w > maxPixels || h > maxPixels || w*h > maxPixels {
		return 0, fmt.Errorf("%w: %d×%d", ErrTooManyPixels, cfg.Width, cfg.Height)
	}
	if px := w * h; px > implausibleFloor && px/int64(len(data)) > maxPixelsPerByte {
		return 0, fmt.Errorf("%w: %d×%d in %d bytes", ErrImplausible, cfg.Width, cfg.Height, len(data))
	}
	o := 0
	if kind == "jpeg" {
		if n := bytes.Count(data, []byte{0xFF, 0xDA}); n > maxJPEGScans {
			return 0, fmt.Errorf("%w: %d (at most %d)", ErrTooManyScans, n, maxJPEGScans)
		}
		o = exifOrientation(data)
	}
	return o, nil
}

// decode takes what decoding costs (with orientation o) from budget, then
// decodes, and refuses pixels beyond the declared size.
func decode(ctx context.Context, budget *format.Budget, cfg image.Config, kind string, data []byte, o int) (image.Image, error) {
	cost := decodeCost(kind, cfg, data, o)
	if err := budget.Take(cost); err != nil {
		return nil, fmt.Errorf("image: %d×%d %s: %w", cfg.Width, cfg.Height, kind, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(ctxReader{ctx, bytes.NewReader(data)})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("image: %w", err)
	}
	w, h := int64(cfg.Width), int64(cfg.Height)
	if b := img.Bounds(); int64(b.Dx())*int64(b.Dy()) > w*h || b.Empty() {
		return nil, fmt.Errorf("image: decoded %v, declared %d×%d", b, cfg.Width, cfg.Height)
	}
	return img, nil
}

// upright applies the EXIF orientation o of a JPEG to its pixels.
func upright(ctx context.Context, budget *format.Budget, img image.Image, cfg image.Config, data []byte, o int) (image.Image, error) {
	w, h := int64(cfg.Width), int64(cfg.Height)
	// Taken with the decode above; should the decoder surprise the
	// estimate, the difference is taken first.
	if more := orientedSize(img, o) - jpegOrientCost(readJPEG(data), w, h, o); more > 0 {
		if err := budget.Take(more); err != nil {
			return nil, fmt.Errorf("image: orientation: %w", err)
		}
	}
	return orient(ctx, img, o)
}

// encode writes img as JPEG if it was one, as PNG otherwise (then a file
// named other than .png is renamed).
func (d *Disarmer) encode(ctx context.Context, name, kind string, img image.Image, notes []format.Note, out io.Writer) (format.Verdict, error) {
	v := format.Verdict{Notes: notes}
	cw := ctxWriter{ctx, out}
	if kind == "jpeg" {
		q := d.JPEGQuality
		if q <= 0 {
			q = 90
		}
		v.Type = "image/jpeg"
		return v, jpeg.Encode(cw, img, &jpeg.Options{Quality: q})
	}
	v.Type = "image/png"
	if name != "" && !strings.EqualFold(path.Ext(name), ".png") {
		v.Filename = strings.TrimSuffix(name, path.Ext(name)) + ".png"
	}
	return v, png.Encode(cw, img)
}

// ctxReader feeds a decoder and stops it once ctx is done: the standard
// decoders take no context, but they all read in small pieces.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(b []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(b)
}

// ctxWriter does the same for an encoder.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (w ctxWriter) Write(b []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.w.Write(b)
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
