package pdf

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"slices"
	"strings"
)

// encoding is how the flattener stores its page images.
type encoding int

const (
	// encodeBest chooses per page: a lossless Flate image (8-bit
	// DeviceGray for grey pages, an /Indexed palette of 1 to 8 bits for
	// other pages of at most 256 colours) when it is not larger than the
	// page's JPEG, the JPEG otherwise (photos, colour gradients).
	encodeBest encoding = iota
	// encodeJPEG stores every page as an RGB JPEG: the flattener's only
	// encoding before the choice per page, kept to measure against.
	encodeJPEG
)

// pageImage is one flattened page: its image stream and how to read it,
// and the size, in points, the page had (so "print at actual size"
// prints A4 as A4).
type pageImage struct {
	data          []byte  // the stream, encoded
	filter        string  // DCTDecode or FlateDecode
	colorSpace    string  // a PDF colour space: /DeviceRGB, /DeviceGray or [/Indexed …]
	bits          int     // bits per component
	width, height int     // pixels
	ptW, ptH      float64 // points
}

// pageColours is what a page's pixels hold: whether every pixel is grey,
// and its colours (0xRRGGBB, sorted) when there are 1 to 256.
type pageColours struct {
	grey    bool
	palette []uint32 // nil when more than 256
}

// survey reads every pixel once (alpha is ignored, as the JPEG encoder
// ignores it on the opaque pages pdfium renders); it stops at the 257th
// colour, since such a page is neither grey nor a palette.
func survey(img *image.RGBA) pageColours {
	seen := make(map[uint32]struct{}, 16)
	grey := true
	last := uint32(1 << 31)
	b := img.Bounds()
	for y := 0; y < b.Dy(); y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*b.Dx()]
		for x := 0; x < len(row); x += 4 {
			c := uint32(row[x])<<16 | uint32(row[x+1])<<8 | uint32(row[x+2])
			if c == last {
				continue
			}
			last = c
			if row[x] != row[x+1] || row[x] != row[x+2] {
				grey = false
			}
			if _, ok := seen[c]; !ok {
				if len(seen) == 256 {
					return pageColours{}
				}
				seen[c] = struct{}{}
			}
		}
	}
	pal := make([]uint32, 0, len(seen))
	for c := range seen {
		pal = append(pal, c)
	}
	slices.Sort(pal)
	return pageColours{grey: grey, palette: pal}
}

// encodePage encodes one rendered page (which it does not keep). No
// copy of the page is made: the lossless image is compressed row by row
// from the bitmap, and both encoders' outputs are at most a compressed
// page each.
func encodePage(ctx context.Context, img image.Image, quality int, enc encoding) (pageImage, error) {
	rgba, ok := img.(*image.RGBA)
	if !ok || enc == encodeJPEG {
		return encodeJPEGPage(img, quality)
	}
	cols := survey(rgba)
	if len(cols.palette) == 0 {
		// More than 256 colours: a photo, a gradient, coloured text's
		// antialiasing. Lossless RGB would be larger than the JPEG (a
		// Japanese text page with a red seal: 1.6 times).
		return encodeJPEGPage(rgba, quality)
	}
	lossless, err := encodeFlate(rgba, cols)
	if err != nil {
		return pageImage{}, err
	}
	if len(lossless.data) <= jpegFloor(lossless.width, lossless.height) {
		return lossless, nil
	}
	if err := ctx.Err(); err != nil {
		return pageImage{}, err
	}
	lossy, err := encodeJPEGPage(rgba, quality)
	if err != nil {
		return pageImage{}, err
	}
	if len(lossless.data) <= len(lossy.data) {
		return lossless, nil
	}
	return lossy, nil
}

// jpegFloor is less than any JPEG of a w×h page can be (image/jpeg
// writes the standard Huffman tables: 6 bits at least for each 8×8 block
// of luma, a DC code and an end of block), so a lossless image this
// small (a blank page, a form of flat colours) need not be compared.
func jpegFloor(w, h int) int { return w * h / 64 / 2 }

// encodeJPEGPage is the page as an RGB JPEG at quality.
func encodeJPEGPage(img image.Image, quality int) (pageImage, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return pageImage{}, err
	}
	b := img.Bounds()
	return pageImage{data: buf.Bytes(), filter: "DCTDecode", colorSpace: "/DeviceRGB", bits: 8, width: b.Dx(), height: b.Dy()}, nil
}

// encodeFlate stores the page losslessly, compressed with Flate: a grey
// page of more than 16 levels as 8-bit DeviceGray, any other page of at
// most 256 colours as an /Indexed palette of 1, 2, 4 or 8 bits (rows
// padded to a byte). No PNG predictor: on rendered text, each of the
// five made the Flate stream 9 to 30% larger than none (glyphs repeat
// byte for byte along a row; their differences repeat less).
func encodeFlate(img *image.RGBA, cols pageColours) (pageImage, error) {
	bits, cs := 8, "/DeviceGray"
	index := map[uint32]byte{}
	if !cols.grey || len(cols.palette) <= 16 {
		switch n := len(cols.palette); {
		case n <= 2:
			bits = 1
		case n <= 4:
			bits = 2
		case n <= 16:
			bits = 4
		}
		var lookup strings.Builder
		for i, c := range cols.palette {
			index[c] = byte(i)
			fmt.Fprintf(&lookup, "%06X", c)
		}
		cs = fmt.Sprintf("[/Indexed /DeviceRGB %d <%s>]", len(cols.palette)-1, lookup.String())
	}
	b := img.Bounds()
	w := b.Dx()
	row := make([]byte, (w*bits+7)/8)
	perByte := 8 / bits
	var buf bytes.Buffer
	z := zlib.NewWriter(&buf)
	for y := 0; y < b.Dy(); y++ {
		clear(row)
		px := img.Pix[y*img.Stride:]
		last, v := uint32(1<<31), byte(0)
		for x := range w {
			c := uint32(px[4*x])<<16 | uint32(px[4*x+1])<<8 | uint32(px[4*x+2])
			switch {
			case c == last:
			case len(index) == 0: // DeviceGray
				last, v = c, px[4*x]
			default:
				last, v = c, index[c]
			}
			row[x/perByte] |= v << uint(8-bits*(x%perByte+1))
		}
		if _, err := z.Write(row); err != nil {
			return pageImage{}, err
		}
	}
	if err := z.Close(); err != nil {
		return pageImage{}, err
	}
	return pageImage{data: buf.Bytes(), filter: "FlateDecode", colorSpace: cs, bits: bits, width: w, height: b.Dy()}, nil
}
