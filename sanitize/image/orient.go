package image

import (
	"context"
	"image"
	"image/color"
)

// Applying an EXIF orientation writes the decoded image once, upright,
// into exactly one new image of the same kind (YCbCr planes stay planes,
// with the subsampling turned with them), so a 40-megapixel photo costs
// one more copy of its own size, not two RGBA ones.

// ctxRows is how many rows a loop of ours does between context checks.
const ctxRows = 64

// xform maps a pixel of the upright image to the pixel of the stored
// (w×h) image it comes from, for EXIF orientation o.
type xform struct{ o, w, h int }

func (t xform) src(dx, dy int) (x, y int) {
	switch t.o {
	case 2: // mirrored
		return t.w - 1 - dx, dy
	case 3: // turned 180°
		return t.w - 1 - dx, t.h - 1 - dy
	case 4: // flipped
		return dx, t.h - 1 - dy
	case 5: // transposed
		return dy, dx
	case 6: // turned 90° counter-clockwise: display turns it clockwise
		return dy, t.h - 1 - dx
	case 7: // transversed
		return t.w - 1 - dy, t.h - 1 - dx
	case 8: // turned 90° clockwise
		return t.w - 1 - dy, dx
	}
	return dx, dy
}

// size is the upright image's size.
func (t xform) size() (int, int) {
	if t.o >= 5 {
		return t.h, t.w
	}
	return t.w, t.h
}

// rotatePix writes the upright image of a w×h pixel plane of bpp bytes
// per pixel (src starts at its first pixel) into dst.
func rotatePix(ctx context.Context, dst []byte, dstStride int, src []byte, srcStride, bpp int, t xform) error {
	dw, dh := t.size()
	for dy := 0; dy < dh; dy++ {
		if dy%ctxRows == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		// Along an upright row the source moves by a fixed step.
		x0, y0 := t.src(0, dy)
		x1, y1 := t.src(1, dy)
		off := y0*srcStride + x0*bpp
		step := (y1-y0)*srcStride + (x1-x0)*bpp
		row := dst[dy*dstStride : dy*dstStride+dw*bpp]
		if bpp == 1 {
			for i := range row {
				row[i] = src[off]
				off += step
			}
			continue
		}
		for i := 0; i < len(row); i += bpp {
			copy(row[i:i+bpp], src[off:off+bpp])
			off += step
		}
	}
	return nil
}

// subsampleShifts gives a YCbCr ratio's chroma subsampling as shifts.
func subsampleShifts(r image.YCbCrSubsampleRatio) (sx, sy uint) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 1, 0
	case image.YCbCrSubsampleRatio420:
		return 1, 1
	case image.YCbCrSubsampleRatio440:
		return 0, 1
	case image.YCbCrSubsampleRatio411:
		return 2, 0
	case image.YCbCrSubsampleRatio410:
		return 2, 1
	}
	return 0, 0
}

// orientedRatio is the subsampling of the upright planes: a transposing
// orientation swaps the horizontal and vertical factors, and when the
// swapped ratio does not exist (4:1:1, 4:1:0) the chroma is kept whole.
func orientedRatio(r image.YCbCrSubsampleRatio, o int) image.YCbCrSubsampleRatio {
	if o < 5 {
		return r
	}
	switch r {
	case image.YCbCrSubsampleRatio422:
		return image.YCbCrSubsampleRatio440
	case image.YCbCrSubsampleRatio440:
		return image.YCbCrSubsampleRatio422
	case image.YCbCrSubsampleRatio420:
		return image.YCbCrSubsampleRatio420
	}
	return image.YCbCrSubsampleRatio444
}

// orientedSize is the memory orient allocates for img.
func orientedSize(img image.Image, o int) int64 {
	b := img.Bounds()
	w, h := int64(b.Dx()), int64(b.Dy())
	if o >= 5 {
		w, h = h, w
	}
	switch m := img.(type) {
	case *image.YCbCr:
		return ycbcrSize(w, h, orientedRatio(m.SubsampleRatio, o))
	case *image.Gray, *image.Paletted:
		return w * h
	}
	return 4 * w * h // CMYK, RGBA, NRGBA, and the RGBA anything else becomes
}

// orient returns img written upright into one new image, following EXIF
// orientation o (2–8). It stops with ctx's error when ctx is done.
func orient(ctx context.Context, img image.Image, o int) (image.Image, error) {
	b := img.Bounds()
	t := xform{o: o, w: b.Dx(), h: b.Dy()}
	dw, dh := t.size()
	r := image.Rect(0, 0, dw, dh)
	switch m := img.(type) {
	case *image.YCbCr:
		return orientYCbCr(ctx, m, t)
	case *image.Gray:
		d := image.NewGray(r)
		return d, rotatePix(ctx, d.Pix, d.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 1, t)
	case *image.Paletted:
		d := image.NewPaletted(r, append(color.Palette(nil), m.Palette...))
		return d, rotatePix(ctx, d.Pix, d.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 1, t)
	case *image.CMYK:
		d := image.NewCMYK(r)
		return d, rotatePix(ctx, d.Pix, d.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 4, t)
	case *image.RGBA:
		d := image.NewRGBA(r)
		return d, rotatePix(ctx, d.Pix, d.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 4, t)
	case *image.NRGBA:
		d := image.NewNRGBA(r)
		return d, rotatePix(ctx, d.Pix, d.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 4, t)
	}
	// Any other kind: straight into one RGBA, pixel by pixel.
	d := image.NewRGBA(r)
	for dy := 0; dy < dh; dy++ {
		if dy%ctxRows == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		for dx := 0; dx < dw; dx++ {
			x, y := t.src(dx, dy)
			d.Set(dx, dy, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return d, nil
}

// orientYCbCr turns the Y plane pixel for pixel and takes each upright
// chroma sample from the stored sample under the first pixel it covers:
// exact when the size is a multiple of the subsampling, otherwise off by
// at most one pixel at the edge that was padded.
func orientYCbCr(ctx context.Context, m *image.YCbCr, t xform) (*image.YCbCr, error) {
	b := m.Rect
	dw, dh := t.size()
	d := image.NewYCbCr(image.Rect(0, 0, dw, dh), orientedRatio(m.SubsampleRatio, t.o))
	if err := rotatePix(ctx, d.Y, d.YStride, m.Y[m.YOffset(b.Min.X, b.Min.Y):], m.YStride, 1, t); err != nil {
		return nil, err
	}
	dsx, dsy := subsampleShifts(d.SubsampleRatio)
	cw, ch := (dw+1<<dsx-1)>>dsx, (dh+1<<dsy-1)>>dsy
	for cy := 0; cy < ch; cy++ {
		if cy%ctxRows == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		py := cy << dsy
		row := cy * d.CStride
		for cx := 0; cx < cw; cx++ {
			x, y := t.src(cx<<dsx, py)
			off := m.COffset(b.Min.X+x, b.Min.Y+y)
			d.Cb[row+cx] = m.Cb[off]
			d.Cr[row+cx] = m.Cr[off]
		}
	}
	return d, nil
}
