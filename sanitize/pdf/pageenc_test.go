package pdf

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pdfium "github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/enums"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"mugai/sanitize/format"
)

// decodedPage is a page of an image-only PDF as pdfium reads it back:
// the filter and size of its one image, the image decoded (palette, bit depth and
// filter undone) and the page rendered at dpi.
type decodedPage struct {
	filter   string
	size     int // the image stream's length
	image    *image.RGBA
	rendered *image.RGBA
}

// readBack validates out with pdfcpu in strict mode, then opens it in
// pdfium and decodes each page's image and renders each page at dpi.
func readBack(t *testing.T, out []byte, dpi int) []decodedPage {
	t.Helper()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationStrict
	if err := api.Validate(bytes.NewReader(out), conf); err != nil {
		t.Fatalf("pdfcpu (strict) rejects the output: %v", err)
	}
	if err := Verify(out, false); err != nil {
		t.Fatal(err)
	}
	pc, err := read(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.XRefTable.EnsurePageCount(); err != nil {
		t.Fatal(err)
	}
	pages := make([]decodedPage, pc.XRefTable.PageCount)
	for i := range pages {
		page, _, _, _ := pc.XRefTable.PageDict(i+1, true)
		res, _ := pc.XRefTable.DereferenceDict(page["Resources"])
		xobj, _ := pc.XRefTable.DereferenceDict(res["XObject"])
		for _, ref := range xobj {
			sd, _, err := pc.XRefTable.DereferenceStreamDict(ref)
			if err != nil || sd == nil {
				t.Fatalf("page %d image: %v", i+1, err)
			}
			if n := sd.IntEntry("Length"); n != nil {
				pages[i].size = *n
			}
			if f := sd.NameEntry("Filter"); f != nil {
				pages[i].filter = *f
			}
		}
	}
	err = testEngine.document(context.Background(), out, func(inst pdfium.Pdfium, doc references.FPDF_DOCUMENT, n int) error {
		if n != len(pages) {
			return fmt.Errorf("pdfium reads %d pages, pdfcpu %d", n, len(pages))
		}
		for i := range pages {
			img, err := pageObjectImage(inst, doc, i)
			if err != nil {
				return fmt.Errorf("page %d: %w", i+1, err)
			}
			r, err := inst.RenderPageInDPI(&requests.RenderPageInDPI{Page: requests.Page{ByIndex: &requests.PageByIndex{Document: doc, Index: i}}, DPI: dpi})
			if err != nil {
				return err
			}
			rendered := image.NewRGBA(r.Result.Image.Bounds())
			copy(rendered.Pix, r.Result.Image.Pix)
			r.Cleanup()
			pages[i].image, pages[i].rendered = img, rendered
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

// pageObjectImage is the decoded bitmap of page i's only object, which
// must be an image.
func pageObjectImage(inst pdfium.Pdfium, doc references.FPDF_DOCUMENT, i int) (*image.RGBA, error) {
	page, err := inst.FPDF_LoadPage(&requests.FPDF_LoadPage{Document: doc, Index: i})
	if err != nil {
		return nil, err
	}
	defer inst.FPDF_ClosePage(&requests.FPDF_ClosePage{Page: page.Page})
	p := requests.Page{ByReference: &page.Page}
	if n, err := inst.FPDFPage_CountObjects(&requests.FPDFPage_CountObjects{Page: p}); err != nil || n.Count != 1 {
		return nil, fmt.Errorf("%v objects (%v), want the one image", n, err)
	}
	obj, err := inst.FPDFPage_GetObject(&requests.FPDFPage_GetObject{Page: p, Index: 0})
	if err != nil {
		return nil, err
	}
	bm, err := inst.FPDFImageObj_GetBitmap(&requests.FPDFImageObj_GetBitmap{ImageObject: obj.PageObject})
	if err != nil {
		return nil, err
	}
	defer inst.FPDFBitmap_Destroy(&requests.FPDFBitmap_Destroy{Bitmap: bm.Bitmap})
	f, _ := inst.FPDFBitmap_GetFormat(&requests.FPDFBitmap_GetFormat{Bitmap: bm.Bitmap})
	w, _ := inst.FPDFBitmap_GetWidth(&requests.FPDFBitmap_GetWidth{Bitmap: bm.Bitmap})
	h, _ := inst.FPDFBitmap_GetHeight(&requests.FPDFBitmap_GetHeight{Bitmap: bm.Bitmap})
	s, _ := inst.FPDFBitmap_GetStride(&requests.FPDFBitmap_GetStride{Bitmap: bm.Bitmap})
	buf, err := inst.FPDFBitmap_GetBuffer(&requests.FPDFBitmap_GetBuffer{Bitmap: bm.Bitmap})
	if err != nil || f == nil || w == nil || h == nil || s == nil {
		return nil, fmt.Errorf("bitmap: %v", err)
	}
	bpp := map[enums.FPDF_BITMAP_FORMAT]int{enums.FPDF_BITMAP_FORMAT_GRAY: 1, enums.FPDF_BITMAP_FORMAT_BGR: 3,
		enums.FPDF_BITMAP_FORMAT_BGRX: 4, enums.FPDF_BITMAP_FORMAT_BGRA: 4}[f.Format]
	if bpp == 0 || len(buf.Buffer) < s.Stride*h.Height {
		return nil, fmt.Errorf("bitmap format %v, %d bytes", f.Format, len(buf.Buffer))
	}
	img := image.NewRGBA(image.Rect(0, 0, w.Width, h.Height))
	for y := range h.Height {
		row, out := buf.Buffer[y*s.Stride:], img.Pix[y*img.Stride:]
		for x := range w.Width {
			px, o := row[x*bpp:], out[4*x:4*x+4]
			if bpp == 1 {
				o[0], o[1], o[2], o[3] = px[0], px[0], px[0], 255
			} else {
				o[0], o[1], o[2], o[3] = px[2], px[1], px[0], 255
			}
		}
	}
	return img, nil
}

// differ counts the pixels whose RGB differ (alpha is not compared).
func differ(a, b *image.RGBA) int {
	if a.Bounds() != b.Bounds() {
		return -1
	}
	n := 0
	for y := range a.Bounds().Dy() {
		for x := range a.Bounds().Dx() {
			i, j := y*a.Stride+4*x, y*b.Stride+4*x
			if a.Pix[i] != b.Pix[j] || a.Pix[i+1] != b.Pix[j+1] || a.Pix[i+2] != b.Pix[j+2] {
				n++
			}
		}
	}
	return n
}

// psnr of b against a in dB over RGB, on the area both cover (a page
// re-rendered may be a pixel wider or taller); +Inf when equal.
func psnr(a, b *image.RGBA) float64 {
	r := a.Bounds().Intersect(b.Bounds())
	var sum int64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		pa, pb := a.Pix[a.PixOffset(r.Min.X, y):], b.Pix[b.PixOffset(r.Min.X, y):]
		for i := range 4 * r.Dx() {
			if i%4 != 3 {
				d := int64(pa[i]) - int64(pb[i])
				sum += d * d
			}
		}
	}
	mse := float64(sum) / float64(3*r.Dx()*r.Dy())
	return 10 * math.Log10(255*255/mse)
}

// ink is how dark img is in all (the sum over its pixels of 765 less
// R+G+B): resampling moves ink, it does not add or remove it.
func ink(img *image.RGBA) int {
	n := 0
	for i := 0; i < len(img.Pix); i += 4 {
		n += 765 - int(img.Pix[i]) - int(img.Pix[i+1]) - int(img.Pix[i+2])
	}
	return n
}

// renderPages renders each page of in at dpi, as the flattener does.
func renderPages(t *testing.T, in []byte, dpi int) []*image.RGBA {
	t.Helper()
	var pages []*image.RGBA
	_, _, err := (&Flattener{Engine: testEngine}).render(context.Background(), nil, in, dpi, 100, func(i int, img image.Image, _ int) error {
		c := image.NewRGBA(img.Bounds())
		copy(c.Pix, img.(*image.RGBA).Pix)
		pages = append(pages, c) // one instance: pages come in order
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

// TestEncodePage: each kind of page gets the encoding meant for it, the
// image-only PDF passes pdfcpu's strict validation, and pdfium decodes a
// lossless page to exactly the pixels it was given.
func TestEncodePage(t *testing.T) {
	const w, h = 203, 61 // odd widths: rows padded to a byte
	fill := func(f func(x, y int) color.RGBA) *image.RGBA {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				img.SetRGBA(x, y, f(x, y))
			}
		}
		return img
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	grey := func(v int) color.RGBA { return color.RGBA{uint8(v), uint8(v), uint8(v), 255} }
	cases := []struct {
		name   string
		img    *image.RGBA
		filter string
		bits   int
	}{
		// Lossless palettes of every bit depth
		{"blank", fill(func(x, y int) color.RGBA { return grey(255) }), "FlateDecode", 1},
		{"black and white", fill(func(x, y int) color.RGBA { return grey(255 * ((x/3 + y/5) % 2)) }), "FlateDecode", 1},
		{"four colours", fill(func(x, y int) color.RGBA {
			return []color.RGBA{grey(0), grey(255), {200, 0, 0, 255}, {0, 0, 200, 255}}[(x/7+y/3)%4]
		}), "FlateDecode", 2},
		{"16 greys", fill(func(x, y int) color.RGBA { return grey(17 * ((x + y) % 16)) }), "FlateDecode", 4},
		{"200 colours", fill(func(x, y int) color.RGBA { return color.RGBA{uint8((x / 10) * 10), uint8((y / 10) * 40), 9, 255} }), "FlateDecode", 8},
		// Grey pages of more than 16 levels
		{"grey ramp", fill(func(x, y int) color.RGBA { return grey(x + y%3) }), "FlateDecode", 8},
		// Photos
		{"photo", fill(func(x, y int) color.RGBA {
			n := rnd.IntN(9)
			return color.RGBA{uint8(x + n), uint8(y*3 + n), uint8(150 + (x+y)%40), 255}
		}), "DCTDecode", 8},
	}
	var pages []pageImage
	for _, c := range cases {
		p, err := encodePage(context.Background(), c.img, 80, encodeBest)
		if err != nil {
			t.Fatal(err)
		}
		if p.filter != c.filter || p.bits != c.bits {
			t.Errorf("%s: %s of %d bits, want %s of %d", c.name, p.filter, p.bits, c.filter, c.bits)
		}
		p.ptW, p.ptH = float64(p.width), float64(p.height)
		pages = append(pages, p)
		if j, _ := encodePage(context.Background(), c.img, 80, encodeJPEG); j.filter != "DCTDecode" {
			t.Errorf("%s: JPEG only gave %s", c.name, j.filter)
		}
	}
	got := readBack(t, imagePDF(pages), 72)
	for i, c := range cases {
		switch n, q := differ(c.img, got[i].image), psnr(c.img, got[i].image); {
		case c.filter == "FlateDecode" && n != 0:
			t.Errorf("%s: %d pixels differ after the round trip (lossless)", c.name, n)
		case c.filter == "DCTDecode" && q < 30:
			t.Errorf("%s: PSNR %.1f dB", c.name, q)
		}
	}
}

// TestFlatten7pt: a page of 7-point Japanese text, at the default 150 dpi
// and JPEG quality, is stored losslessly (every pixel as rendered) and
// smaller than its JPEG; a page with a red seal (colour antialiasing,
// more than 256 colours) is a JPEG close to the rendering; both render
// back with the same ink. The second
// page, rendered back from the output, is written to the test's artifact
// directory (go test -run TestFlatten7pt -artifacts -outputdir DIR) to
// be looked at.
func TestFlatten7pt(t *testing.T) {
	in := japaneseTextPDF(2, 7, 280) // A4's width, a third of its height: the test is slow under -race
	var out bytes.Buffer
	if _, err := (&Flattener{Engine: testEngine}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	want := renderPages(t, in, 150)
	got := readBack(t, out.Bytes(), 150)
	for i, wantFilter := range []string{"DCTDecode", "FlateDecode"} {
		g := got[i]
		t.Logf("page %d: %s, PSNR %.1f dB", i+1, g.filter, psnr(want[i], g.image))
		if g.filter != wantFilter {
			t.Errorf("page %d: %s, want %s", i+1, g.filter, wantFilter)
		}
		if g.filter == "FlateDecode" {
			if n := differ(want[i], g.image); n != 0 {
				t.Errorf("page %d: %d pixels differ from the rendering", i+1, n)
			}
		} else if q := psnr(want[i], g.image); q < 25 {
			t.Errorf("page %d: JPEG PSNR %.1f dB: 7-point text is not legible", i+1, q)
		}
		// Rendered back, the image is resampled onto a page a pixel
		// larger (the page's size in points is rounded up): nearly the
		// same ink (a JPEG's ringing, clipped at white, adds some).
		wb, gb := want[i].Bounds(), g.rendered.Bounds()
		in, back := ink(want[i]), ink(g.rendered)
		if d := gb.Size().Sub(wb.Size()); d.X < 0 || d.X > 1 || d.Y < 0 || d.Y > 1 || math.Abs(float64(back)/float64(in)-1) > 0.1 {
			t.Errorf("page %d rendered back: %v with ink %d, rendered %v with ink %d", i+1, gb, back, wb, in)
		}
	}
	// The lossless page is smaller than its JPEG would have been.
	j, err := encodePage(context.Background(), want[1], 80, encodeJPEG)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("output %d bytes; page 2: %d bytes, %d as a JPEG", out.Len(), got[1].size, len(j.data))
	if got[1].size >= len(j.data) {
		t.Errorf("page 2 is %d bytes, its JPEG %d", got[1].size, len(j.data))
	}
	name := filepath.Join(t.ArtifactDir(), "flatten-7pt-page2.png")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, got[1].rendered); err != nil {
		t.Fatal(err)
	}
	t.Logf("page 2 as rendered back: %s", name)
	if strings.Contains(out.String(), "/Font") {
		t.Error("the output has fonts")
	}
}
