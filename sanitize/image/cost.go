package image

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
)

// The memory an image costs, worked out from its headers before anything
// is decoded, so that the message's budget is taken first. The figures
// follow what the decoders we use (image/jpeg, image/png, image/gif and
// golang.org/x/image's bmp, tiff and webp) allocate; where a header cannot
// be read the worst case of the format is taken (never an optimistic
// guess).

// Encoder state that does not scale with the image: the PNG encoder's
// deflate compressor (about 1 MiB with its buffers) and row buffers; the
// JPEG encoder's are far smaller, but the same figure covers both.
const encodeOverhead = 1 << 20

// jpegInfo is what the headers of a JPEG say about its decoding.
type jpegInfo struct {
	ok          bool
	progressive bool
	nComp       int
	h, v        [4]int // sampling factors, per component
	ids         [4]byte
	jfif        bool
	adobe       bool // an Adobe APP14 segment with transform 0 (RGB)
}

// readJPEG walks the markers of a JPEG up to its first scan the way
// image/jpeg does (junk and fill bytes skipped), and returns its frame.
func readJPEG(b []byte) jpegInfo {
	var info jpegInfo
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return info
	}
	for i := 2; i < len(b); {
		marker, next, ok := nextMarker(b, i)
		if !ok {
			return info
		}
		i = next
		switch {
		case marker == 0: // a stuffed 0xFF00: not a marker
			continue
		case marker == 0xD9: // end of image
			return info
		case 0xD0 <= marker && marker <= 0xD7: // restart markers have no length
			continue
		case marker == 0xDA: // start of scan: the headers are over
			return info
		}
		seg, next, ok := segment(b, i)
		if !ok {
			return info
		}
		i = next
		switch marker {
		case 0xC0, 0xC1, 0xC2: // baseline, extended sequential, progressive
			if !info.readFrame(marker, seg) {
				return jpegInfo{} // image/jpeg refuses these
			}
		case 0xE0:
			if bytes.HasPrefix(seg, []byte("JFIF\x00")) {
				info.jfif = true
			}
		case 0xEE:
			if len(seg) >= 12 && bytes.HasPrefix(seg, []byte("Adobe")) && seg[11] == 0 {
				info.adobe = true
			}
		}
	}
	return info
}

// nextMarker skips anything up to a marker at or after b[i] and the fill
// bytes before it, and returns the marker byte and the index after it;
// ok is false at the end of b.
func nextMarker(b []byte, i int) (marker byte, next int, ok bool) {
	for i < len(b) && b[i] != 0xFF {
		i++
	}
	for i < len(b) && b[i] == 0xFF {
		i++
	}
	if i >= len(b) {
		return 0, i, false
	}
	return b[i], i + 1, true
}

// segment returns the segment whose length field is at b[i] and the index
// after it; ok is false for a length that is too short or runs past b.
func segment(b []byte, i int) (seg []byte, next int, ok bool) {
	if i+2 > len(b) {
		return nil, i, false
	}
	n := int(binary.BigEndian.Uint16(b[i:]))
	if n < 2 || i+n > len(b) {
		return nil, i, false
	}
	return b[i+2 : i+n], i + n, true
}

// readFrame takes a start-of-frame segment (marker SOF0, SOF1 or SOF2):
// the number of components and their sampling. It reports false for a
// frame image/jpeg refuses (a second frame, a bad size or sampling).
func (info *jpegInfo) readFrame(marker byte, seg []byte) bool {
	if info.nComp != 0 || len(seg) < 6 {
		return false
	}
	nc := int(seg[5])
	if nc != 1 && nc != 3 && nc != 4 || len(seg) < 6+3*nc {
		return false
	}
	info.nComp = nc
	info.progressive = marker == 0xC2
	for c := 0; c < nc; c++ {
		info.ids[c] = seg[6+3*c]
		hv := seg[7+3*c]
		info.h[c], info.v[c] = int(hv>>4), int(hv&0x0F)
		if info.h[c] < 1 || info.h[c] > 4 || info.v[c] < 1 || info.v[c] > 4 {
			return false
		}
	}
	if nc == 1 {
		info.h[0], info.v[0] = 1, 1 // image/jpeg: non-interleaved
	}
	info.ok = true
	return true
}

// rgb reports a three-component JPEG that image/jpeg converts to RGBA.
func (j jpegInfo) rgb() bool {
	if j.nComp != 3 {
		return false
	}
	return !j.jfif && j.adobe || j.ids == [4]byte{'R', 'G', 'B'}
}

// ratio is the YCbCr subsampling image/jpeg decodes a three-component
// JPEG into.
func (j jpegInfo) ratio() image.YCbCrSubsampleRatio {
	if j.h[1] == 0 || j.v[1] == 0 {
		return image.YCbCrSubsampleRatio444
	}
	switch (j.h[0]/j.h[1])<<4 | j.v[0]/j.v[1] {
	case 0x12:
		return image.YCbCrSubsampleRatio440
	case 0x21:
		return image.YCbCrSubsampleRatio422
	case 0x22:
		return image.YCbCrSubsampleRatio420
	case 0x41:
		return image.YCbCrSubsampleRatio411
	case 0x42:
		return image.YCbCrSubsampleRatio410
	}
	return image.YCbCrSubsampleRatio444
}

// jpegCost is what image/jpeg holds decoding a w×h JPEG: its sample
// planes padded to whole MCUs, the coefficients of a progressive JPEG
// (an int32 per sample), and the RGBA or CMYK image it converts RGB and
// four-component JPEGs into.
func jpegCost(j jpegInfo, w, h int64) int64 {
	if !j.ok {
		// Unreadable headers (image/jpeg may still decode them): four
		// full planes, their coefficients and a conversion, padded.
		return (4 + 4*4 + 4) * (w + 32) * (h + 32)
	}
	h0, v0 := int64(j.h[0]), int64(j.v[0])
	mxx := (w + 8*h0 - 1) / (8 * h0)
	myy := (h + 8*v0 - 1) / (8 * v0)
	var samples int64
	for c := 0; c < j.nComp; c++ {
		samples += 64 * int64(j.h[c]) * int64(j.v[c]) * mxx * myy
	}
	n := samples
	if j.progressive {
		n += 4 * samples
	}
	if j.nComp == 4 || j.rgb() {
		n += 4 * w * h
	}
	return n
}

// jpegOrientCost is the one image the upright copy of a decoded JPEG is
// written into (see orient).
func jpegOrientCost(j jpegInfo, w, h int64, o int) int64 {
	switch {
	case !j.ok:
		return max(4*w*h, ycbcrSize(w, h, image.YCbCrSubsampleRatio444))
	case j.nComp == 1:
		return w * h
	case j.nComp == 4 || j.rgb():
		return 4 * w * h
	}
	r := orientedRatio(j.ratio(), o)
	if o >= 5 {
		w, h = h, w
	}
	return ycbcrSize(w, h, r)
}

// ycbcrSize is the size of image.NewYCbCr(image.Rect(0, 0, w, h), r).
func ycbcrSize(w, h int64, r image.YCbCrSubsampleRatio) int64 {
	sx, sy := subsampleShifts(r)
	cw := (w + 1<<sx - 1) >> sx
	ch := (h + 1<<sy - 1) >> sy
	return w*h + 2*cw*ch
}

// pngInfo is what the chunks before the image data say: interlacing
// (the decoder then holds each pass and the whole image) and a tRNS that
// makes a grey or truecolour image decode as NRGBA.
func readPNG(b []byte) (interlaced, trns, ok bool) {
	const sig = "\x89PNG\r\n\x1a\n"
	if len(b) < 8+8+13 || string(b[:8]) != sig || string(b[12:16]) != "IHDR" {
		return true, true, false
	}
	interlaced = b[28] != 0
	for off := 8; off+8 <= len(b); {
		n := int64(binary.BigEndian.Uint32(b[off:]))
		switch string(b[off+4 : off+8]) {
		case "tRNS":
			trns = true
		case "IDAT", "IEND":
			return interlaced, trns, true
		}
		next := int64(off) + 12 + n
		if next > int64(len(b)) {
			break
		}
		off = int(next)
	}
	return true, true, false
}

// bytesPerPixel is the size of one pixel of an image of model m, in
// halves of a byte; unknown models count as 64-bit RGBA.
func halfBytesPerPixel(m color.Model) int64 {
	if _, ok := m.(color.Palette); ok {
		return 2
	}
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 2
	case color.Gray16Model, color.Alpha16Model:
		return 4
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 8
	case color.YCbCrModel:
		return 6 // up to 4:4:4
	case color.NYCbCrAModel:
		return 8
	}
	return 16
}

// decodeCost is the memory decoding an image of kind and cfg from data
// holds, plus the upright copy when orientation o (2–8) is applied and
// the encoder's state. Dimensions are already checked against MaxPixels.
func decodeCost(kind string, cfg image.Config, data []byte, o int) int64 {
	w, h := int64(cfg.Width), int64(cfg.Height)
	px := w * h
	var n int64
	switch kind {
	case "jpeg":
		j := readJPEG(data)
		n = jpegCost(j, w, h)
		if o > 1 {
			n += jpegOrientCost(j, w, h, o)
		}
	case "png":
		hb := halfBytesPerPixel(cfg.ColorModel)
		interlaced, trns, _ := readPNG(data)
		if trns && (cfg.ColorModel == color.GrayModel || cfg.ColorModel == color.RGBAModel) {
			hb = 8 // decoded as NRGBA
		}
		if trns && (cfg.ColorModel == color.Gray16Model || cfg.ColorModel == color.RGBA64Model) {
			hb = 16 // NRGBA64
		}
		n = px * hb / 2
		if interlaced {
			n *= 2 // the passes, then the image they are merged into
		}
	case "gif":
		n = px // the first frame only: image/gif stops there
	case "tiff":
		// The image, and the decompressed strip or tile (up to the
		// whole image) in a buffer that grows by doubling.
		n = 3 * px * halfBytesPerPixel(cfg.ColorModel) / 2
	case "webp":
		switch cfg.ColorModel {
		case color.YCbCrModel: // lossy, 4:2:0 padded to macroblocks
			n = ycbcrSize((w+15)&^15, (h+15)&^15, image.YCbCrSubsampleRatio420)
		case color.NYCbCrAModel: // lossy and alpha: the alpha plane is a lossless image
			n = ycbcrSize((w+15)&^15, (h+15)&^15, image.YCbCrSubsampleRatio420) + px + 8*px
		default: // lossless: NRGBA, and a second one for colour indexing
			n = 8 * px
		}
	default: // bmp and anything else
		n = px * halfBytesPerPixel(cfg.ColorModel) / 2
	}
	return n + encodeOverhead
}
