package image

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"testing"

	"mugai/sanitize/format"
)

func runWith(data []byte, p format.Part, ctx context.Context) ([]byte, format.Verdict, error) {
	var out bytes.Buffer
	v, err := (&Disarmer{}).Sanitize(ctx, p, bytes.NewReader(data), &out)
	return out.Bytes(), v, err
}

// headerOnlyPNG is a PNG whose IHDR (w×h, 8-bit RGBA) is valid and whose
// IDAT is not zlib at all: DecodeConfig accepts it, Decode cannot.
func headerOnlyPNG(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	b = append(b, pngChunk("IHDR", ihdr)...)
	b = append(b, pngChunk("IDAT", bytes.Repeat([]byte("not zlib"), 64))...)
	return append(b, pngChunk("IEND", nil)...)
}

// headerOnlyJPEG is a valid JPEG cut right after its start-of-scan
// header: no entropy-coded data.
func headerOnlyJPEG(t *testing.T, w, h int) []byte {
	var buf bytes.Buffer
	jpeg.Encode(&buf, testImage(w, h), nil)
	b := buf.Bytes()
	sos := bytes.Index(b, []byte{0xFF, 0xDA})
	n := int(b[sos+2])<<8 | int(b[sos+3])
	return append(append([]byte{}, b[:sos+2+n]...), 0xFF, 0xD9)
}

// A budget smaller than the decoded image refuses it before anything is
// decoded: the inputs below cannot be decoded, yet the error is the
// budget's, and with room in the budget it is the decoder's.
func TestBudgetBeforeDecode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		data    []byte
		decoded int64 // the decoded pixels alone
	}{
		{"png", headerOnlyPNG(1000, 1000), 4 * 1000 * 1000},
		{"jpeg", headerOnlyJPEG(t, 1000, 1000), 1000 * 1000 * 3 / 2},
		{"jpeg, orientation 6", withOrientation(headerOnlyJPEG(t, 1000, 1000), 6), 2 * 1000 * 1000 * 3 / 2},
	} {
		b := format.NewBudget(tc.decoded, nil)
		_, _, err := runWith(tc.data, format.Part{Budget: b}, context.Background())
		if !errors.Is(err, format.ErrBudget) {
			t.Errorf("%s: err = %v, want ErrBudget", tc.name, err)
		}
		if b.Used() != 0 {
			t.Errorf("%s: %d bytes taken from a budget that refused", tc.name, b.Used())
		}
		// With room, the decoder is reached, and fails.
		big := format.NewBudget(1<<40, nil)
		_, _, err = runWith(tc.data, format.Part{Budget: big}, context.Background())
		if err == nil || errors.Is(err, format.ErrBudget) {
			t.Errorf("%s: with room: err = %v, want a decoding error", tc.name, err)
		}
		if big.Used() < tc.decoded {
			t.Errorf("%s: took %d, less than the %d decoded bytes", tc.name, big.Used(), tc.decoded)
		}
	}
}

// The gateway's own memory error comes back as it is (a *GrowError), so
// the rebuild stops rather than stripping the part.
func TestBudgetGrowError(t *testing.T) {
	short := errors.New("gateway short of memory")
	b := format.NewBudget(0, func(int64) error { return short })
	_, _, err := runWith(headerOnlyPNG(100, 100), format.Part{Budget: b}, context.Background())
	var ge *format.GrowError
	if !errors.As(err, &ge) || !errors.Is(err, short) {
		t.Errorf("err = %v, want the *format.GrowError", err)
	}
}

// What is taken is what the decoders hold, not an optimistic guess, and
// the same image costs the same whatever its file.
func TestBudgetTaken(t *testing.T) {
	var buf bytes.Buffer
	jpeg.Encode(&buf, testImage(640, 480), nil) // 4:2:0
	for _, tc := range []struct {
		name     string
		data     []byte
		min, max int64
	}{
		{"jpeg 4:2:0", buf.Bytes(), 640 * 480 * 3 / 2, 640*480*3/2 + encodeOverhead},
		{"jpeg 4:2:0, orientation 8", withOrientation(buf.Bytes(), 8), 2 * 640 * 480 * 3 / 2, 2*640*480*3/2 + encodeOverhead},
	} {
		b := format.NewBudget(0, nil)
		if _, _, err := runWith(tc.data, format.Part{Budget: b}, context.Background()); err != nil {
			t.Fatal(tc.name, err)
		}
		if u := b.Used(); u < tc.min || u > tc.max {
			t.Errorf("%s: took %d, want %d to %d", tc.name, u, tc.min, tc.max)
		}
	}
}

// image/gif decodes the first frame only: a GIF of thousands of frames
// costs one frame, and comes out as one.
func TestGIFManyFrames(t *testing.T) {
	const frames, side = 3000, 64
	g := &gif.GIF{}
	pal := color.Palette{color.Black, color.White}
	for i := 0; i < frames; i++ {
		m := image.NewPaletted(image.Rect(0, 0, side, side), pal)
		m.Pix[i%len(m.Pix)] = 1
		g.Image = append(g.Image, m)
		g.Delay = append(g.Delay, 1)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	b := format.NewBudget(0, nil)
	out, v, err := runWith(buf.Bytes(), format.Part{Filename: "anim.gif", Budget: b}, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u := b.Used(); u > side*side+encodeOverhead {
		t.Errorf("took %d for one %d×%d frame", u, side, side)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil || img.Bounds().Dx() != side || img.Bounds().Dy() != side {
		t.Fatalf("output %v %v", img, err)
	}
	if got := v.Notes[len(v.Notes)-1]; got.EN != "Only the first frame of the animation was kept." || got.Loss {
		t.Errorf("notes %+v", v.Notes)
	}
}

// Declared sizes that overflow, or that the file is far too small to
// hold, are refused before anything is taken or decoded.
func TestDeclaredSizeGuards(t *testing.T) {
	// A PNG's IHDR may claim up to 2³¹-1 per side (image/png itself
	// refuses a product over 2³¹).
	for _, wh := range [][2]uint32{{1<<31 - 1, 1<<31 - 1}, {1<<31 - 1, 1}, {1, 40_000_001}} {
		b := format.NewBudget(0, nil)
		if _, _, err := runWith(headerOnlyPNG(wh[0], wh[1]), format.Part{Budget: b}, context.Background()); err == nil || b.Used() != 0 {
			t.Errorf("%d×%d: err = %v, taken %d", wh[0], wh[1], err, b.Used())
		}
	}
	// A TIFF may claim 2³²-1 per side, whose product overflows int64
	// (x/image/tiff refuses it too).
	tiff := []byte("II*\x00\x08\x00\x00\x00")
	tiff = binary.LittleEndian.AppendUint16(tiff, 6)
	for _, e := range [][3]uint32{
		{256, 4, 0xFFFFFFFF}, // ImageWidth, LONG
		{257, 4, 0xFFFFFFFF}, // ImageLength
		{258, 3, 8},          // BitsPerSample
		{262, 3, 1},          // BlackIsZero
		{273, 4, 8},          // StripOffsets
		{279, 4, 1},          // StripByteCounts
	} {
		tiff = binary.LittleEndian.AppendUint16(tiff, uint16(e[0]))
		tiff = binary.LittleEndian.AppendUint16(tiff, uint16(e[1]))
		tiff = binary.LittleEndian.AppendUint32(tiff, 1)
		tiff = binary.LittleEndian.AppendUint32(tiff, e[2])
	}
	tiff = append(tiff, 0, 0, 0, 0)
	if _, _, err := runWith(tiff, format.Part{}, context.Background()); err == nil {
		t.Error("a 4294967295×4294967295 TIFF was accepted")
	}
	// 6000×6000 declared by a file of a few hundred bytes.
	small := headerOnlyPNG(6000, 6000)
	if _, _, err := runWith(small, format.Part{}, context.Background()); !errors.Is(err, ErrImplausible) {
		t.Errorf("6000×6000 in %d bytes: err = %v", len(small), err)
	}
	// Real images are far from that limit.
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 3000, 2000)))
	if _, _, err := runWith(buf.Bytes(), format.Part{}, context.Background()); err != nil {
		t.Errorf("a blank 3000×2000 grey PNG (%d bytes): %v", buf.Len(), err)
	}
}

// A context that is done stops the work: nothing is decoded or written.
func TestContextDone(t *testing.T) {
	var buf bytes.Buffer
	jpeg.Encode(&buf, testImage(64, 64), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out, _, err := runWith(withOrientation(buf.Bytes(), 6), format.Part{}, ctx)
	if !errors.Is(err, context.Canceled) || len(out) != 0 {
		t.Errorf("err = %v, %d bytes written", err, len(out))
	}
	if _, err := orient(ctx, testImage(300, 200), 6); !errors.Is(err, context.Canceled) {
		t.Errorf("orient: err = %v", err)
	}
	// A context that ends while the encoder writes stops the encoder.
	noise := image.NewGray(image.Rect(0, 0, 512, 512))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(i * 7919 >> 3)
	}
	buf.Reset()
	png.Encode(&buf, noise)
	ctx2, cancel2 := context.WithCancel(context.Background())
	w := &cancelAfter{n: 1, cancel: cancel2}
	if _, err := (&Disarmer{}).Sanitize(ctx2, format.Part{}, bytes.NewReader(buf.Bytes()), w); !errors.Is(err, context.Canceled) || w.writes != 1 {
		t.Errorf("encoder: err = %v after %d writes", err, w.writes)
	}
}

// cancelAfter cancels a context after n writes.
type cancelAfter struct {
	n, writes int
	cancel    func()
}

func (c *cancelAfter) Write(b []byte) (int, error) {
	if c.writes++; c.writes >= c.n {
		c.cancel()
	}
	return len(b), nil
}

// TestJPEGScanBomb: a progressive JPEG of tens of thousands of empty scans
// (small, and smaller still deflated in a ZIP) would keep the decoder
// busy for minutes; it is refused before decoding. A real progressive
// JPEG passes.
func TestJPEGScanBomb(t *testing.T) {
	seg := func(m byte, p []byte) []byte {
		return append([]byte{0xFF, m, byte((len(p) + 2) >> 8), byte(len(p) + 2)}, p...)
	}
	j := []byte{0xFF, 0xD8}
	j = append(j, seg(0xDB, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...))...)
	j = append(j, seg(0xC2, []byte{8, 4, 0, 4, 0, 1, 1, 0x11, 0})...)
	j = append(j, seg(0xC4, append(append([]byte{0x00, 0x01}, make([]byte, 15)...), 0))...)
	j = append(j, seg(0xC4, append(append([]byte{0x10, 0x01}, make([]byte, 15)...), 0xE0))...)
	scan := append(seg(0xDA, []byte{1, 1, 0, 1, 0x3F, 0}), 0, 0)
	j = append(j, bytes.Repeat(scan, 5000)...)
	j = append(j, 0xFF, 0xD9)
	_, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(j), io.Discard)
	if !errors.Is(err, ErrTooManyScans) {
		t.Fatalf("scan bomb: %v", err)
	}
	var prog bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	if err := jpeg.Encode(&prog, img, nil); err != nil { // baseline: one scan
		t.Fatal(err)
	}
	if _, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(prog.Bytes()), io.Discard); err != nil {
		t.Fatalf("a one-scan JPEG: %v", err)
	}
}
