package image

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"mugai/sanitize/format"
)

func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 10), uint8(y * 10), 0, 255})
		}
	}
	return img
}

// pngChunk builds a PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

func run(t *testing.T, data []byte, name string) ([]byte, format.Verdict, error) {
	t.Helper()
	var out bytes.Buffer
	v, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{Filename: name}, bytes.NewReader(data), &out)
	return out.Bytes(), v, err
}

// pngChunkTypes lists the chunk types of a PNG and what follows IEND.
func pngChunkTypes(t *testing.T, b []byte) (types []string, trailing int) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatal("not a PNG")
	}
	for off := 8; off+8 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[off:]))
		typ := string(b[off+4 : off+8])
		types = append(types, typ)
		off += 12 + n
		if typ == "IEND" {
			return types, len(b) - off
		}
	}
	return types, 0
}

func TestPNGMetadataAndTrailingData(t *testing.T) {
	var buf bytes.Buffer
	png.Encode(&buf, testImage(8, 4))
	in := buf.Bytes()
	// Insert a tEXt chunk after IHDR and append a payload after IEND.
	ihdrEnd := 8 + 12 + 13
	in = append(append(append([]byte{}, in[:ihdrEnd]...), pngChunk("tEXt", []byte("Comment\x00<script>payload</script>"))...), in[ihdrEnd:]...)
	in = append(in, []byte("PK\x03\x04 hidden zip after IEND")...)

	out, v, err := run(t, in, "photo.png")
	if err != nil {
		t.Fatal(err)
	}
	types, trailing := pngChunkTypes(t, out)
	for _, typ := range types {
		if typ != "IHDR" && typ != "IDAT" && typ != "IEND" {
			t.Errorf("chunk %s survived", typ)
		}
	}
	if trailing != 0 || v.Type != "image/png" || v.Filename != "" {
		t.Errorf("trailing %d, verdict %+v", trailing, v)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil || img.Bounds().Dx() != 8 || img.Bounds().Dy() != 4 {
		t.Errorf("output %v %v", img.Bounds(), err)
	}
}

// exifJPEG encodes a w×h JPEG with an APP1 Exif segment holding an
// orientation tag and a GPS-like marker string.
func exifJPEG(t *testing.T, w, h, orientation int) []byte {
	var buf bytes.Buffer
	jpeg.Encode(&buf, testImage(w, h), nil)
	tiff := []byte("II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00")
	tiff = binary.LittleEndian.AppendUint16(tiff, uint16(orientation))
	tiff = append(tiff, 0, 0, 0, 0, 0, 0)
	seg := append([]byte("Exif\x00\x00"), tiff...)
	seg = append(seg, "GPSLatitude35.6"...)
	app1 := append([]byte{0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}, seg...)
	b := buf.Bytes()
	return append(append(append([]byte{}, b[:2]...), app1...), b[2:]...)
}

func TestJPEGOrientationAndEXIF(t *testing.T) {
	in := exifJPEG(t, 16, 8, 6) // rotate 90° clockwise to display
	if exifOrientation(in) != 6 {
		t.Fatal("test input has no orientation")
	}
	out, v, err := run(t, in, "IMG_0001.jpg")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(out))
	if err != nil || cfg.Width != 8 || cfg.Height != 16 {
		t.Errorf("output %dx%d (%v), want 8x16", cfg.Width, cfg.Height, err)
	}
	if bytes.Contains(out, []byte("Exif")) || bytes.Contains(out, []byte("GPSLatitude")) || exifOrientation(out) != 0 {
		t.Error("EXIF survived")
	}
	if v.Type != "image/jpeg" {
		t.Errorf("verdict %+v", v)
	}
}

func TestPixelGuard(t *testing.T) {
	var buf bytes.Buffer
	png.Encode(&buf, testImage(2, 2))
	b := buf.Bytes()
	// Rewrite IHDR to declare 20000×20000 with a valid CRC: a decompression bomb.
	binary.BigEndian.PutUint32(b[16:], 20000)
	binary.BigEndian.PutUint32(b[20:], 20000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	if _, _, err := run(t, b, "bomb.png"); !errors.Is(err, ErrTooManyPixels) {
		t.Errorf("err = %v, want ErrTooManyPixels", err)
	}
}

func TestGIFBecomesPNG(t *testing.T) {
	var buf bytes.Buffer
	pal := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White})
	gif.Encode(&buf, pal, nil)
	out, v, err := run(t, buf.Bytes(), "anim.gif")
	if err != nil || v.Type != "image/png" || v.Filename != "anim.png" {
		t.Fatalf("%+v %v", v, err)
	}
	if _, err := png.Decode(bytes.NewReader(out)); err != nil {
		t.Error(err)
	}
	if _, _, err := run(t, []byte("GIF89a broken"), "x.gif"); err == nil {
		t.Error("broken image accepted")
	}
}

func FuzzImage(f *testing.F) {
	var buf bytes.Buffer
	png.Encode(&buf, testImage(3, 3))
	f.Add(buf.Bytes())
	f.Add(exifJPEG(&testing.T{}, 4, 4, 8))
	f.Add(exifJPEG(&testing.T{}, 13, 7, 6))
	f.Add(exifJPEG(&testing.T{}, 9, 17, 5))
	gray := image.NewGray(image.Rect(0, 0, 9, 5))
	buf.Reset()
	jpeg.Encode(&buf, gray, nil)
	f.Add(withOrientation(buf.Bytes(), 7))
	buf.Reset()
	gif.Encode(&buf, image.NewPaletted(image.Rect(0, 0, 5, 3), color.Palette{color.Black, color.White}), nil)
	f.Add(buf.Bytes())
	f.Add(headerOnlyPNG(300, 200))
	f.Add(headerOnlyJPEG(&testing.T{}, 40, 30))
	f.Fuzz(func(t *testing.T, in []byte) {
		d := &Disarmer{MaxPixels: 1 << 20}
		var out bytes.Buffer
		b := format.NewBudget(64<<20, nil)
		v, err := d.Sanitize(context.Background(), format.Part{Budget: b}, bytes.NewReader(in), &out)
		if err != nil {
			if b.Used() > 64<<20 {
				t.Fatalf("budget overdrawn: %d", b.Used())
			}
			return
		}
		if b.Used() < encodeOverhead {
			t.Fatalf("an image was decoded with %d bytes taken", b.Used())
		}
		if _, _, err := image.Decode(bytes.NewReader(out.Bytes())); err != nil {
			t.Fatalf("output of type %s does not decode: %v", v.Type, err)
		}
	})
}

// withOrientation inserts an APP1 Exif segment with orientation o after
// the SOI of a JPEG.
func withOrientation(b []byte, o int) []byte {
	tiff := []byte("II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00")
	tiff = binary.LittleEndian.AppendUint16(tiff, uint16(o))
	tiff = append(tiff, 0, 0, 0, 0, 0, 0)
	seg := append([]byte("Exif\x00\x00"), tiff...)
	app1 := append([]byte{0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}, seg...)
	return append(append(append([]byte{}, b[:2]...), app1...), b[2:]...)
}
