package pdf

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"strings"
	"testing"
	"time"

	pdfium "github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"

	"mugai/sanitize/format"
)

// megabytePDF is a 10-page A4 document of about 1 MB: on each page lines
// of text in Helvetica and in the Japanese font pdfium finds in our font
// root, drawn boxes, and content padded to the size real documents have.
func megabytePDF() []byte {
	const pages = 10
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", ""}
	var kids []string
	for p := range pages {
		page, content := 3+2*p, 4+2*p
		kids = append(kids, fmt.Sprintf("%d 0 R", page))
		objs = append(objs, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R /Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> >>",
			content, 3+2*pages, 4+2*pages))
		var c strings.Builder
		for l := range 60 {
			fmt.Fprintf(&c, "BT /F1 9 Tf 40 %d Td (Line %d of page %d: quotation, delivery terms and payment schedule) Tj ET\n", 800-12*l, l+1, p+1)
			fmt.Fprintf(&c, "BT /F2 9 Tf 330 %d Td <65E5672C8A9E65875B57> Tj ET\n", 800-12*l)
			fmt.Fprintf(&c, "%d %d 200 8 re S\n", 40, 798-12*l)
		}
		for c.Len() < 100<<10 {
			c.WriteString("% padding to the size of a real page ......................................\n")
		}
		objs = append(objs, stream("", c.String()))
	}
	objs[1] = "<< /Type /Pages /Kids [" + strings.Join(kids, " ") + fmt.Sprintf("] /Count %d >>", pages)
	objs = append(objs, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		"<< /Type /Font /Subtype /Type0 /BaseFont /MS-Gothic /Encoding /UniJIS-UCS2-H /DescendantFonts [25 0 R] >>",
		"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /MS-Gothic /CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 6 >> /FontDescriptor 26 0 R >>",
		"<< /Type /FontDescriptor /FontName /MS-Gothic /Flags 4 /FontBBox [0 -141 1000 859] /ItalicAngle 0 /Ascent 859 /Descent -141 /CapHeight 700 /StemV 80 >>")
	return buildPDF(objs, nil)
}

func BenchmarkDisarm(b *testing.B) {
	in := hostilePDF()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(in), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDisarm1MB disarms the 10-page, 1 MB document.
func BenchmarkDisarm1MB(b *testing.B) {
	in := megabytePDF()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(in), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10), "ns/page")
}

// BenchmarkFlattenPage renders one A4 page with Japanese text at 150 dpi
// and rebuilds the image PDF; pages/s is the figure to compare.
func BenchmarkFlattenPage(b *testing.B) {
	in := japanesePDF()
	f := &Flattener{Engine: testEngine, DPI: 150}
	var out bytes.Buffer
	if _, err := f.Sanitize(context.Background(), format.Part{}, bytes.NewReader(in), &out); err != nil { // warm the pool
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		out.Reset()
		if _, err := f.Sanitize(context.Background(), format.Part{}, bytes.NewReader(in), &out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}

// benchEngines are warm pools of one instance and of one per core.
var benchEngines = map[string]*Engine{"1-instance": testEngine, "per-core": {CacheDir: testEngine.CacheDir}}

// BenchmarkFlatten1MB flattens the 10-page document at 150 dpi, in one
// instance and in one per core (pages in parallel); ns/page is the figure
// to set beside BenchmarkRenderJPEG1MB's.
func BenchmarkFlatten1MB(b *testing.B) {
	in := megabytePDF()
	for _, name := range []string{"1-instance", "per-core"} {
		b.Run(name, func(b *testing.B) {
			f := &Flattener{Engine: benchEngines[name], DPI: 150}
			var out bytes.Buffer
			if _, err := f.Sanitize(context.Background(), format.Part{}, bytes.NewReader(in), &out); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(in)))
			b.ResetTimer()
			for b.Loop() {
				out.Reset()
				if _, err := f.Sanitize(context.Background(), format.Part{}, bytes.NewReader(in), &out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10), "ns/page")
		})
	}
}

// BenchmarkRenderJPEG1MB is the floor under BenchmarkFlatten1MB: pdfium's
// own render of each page at 150 dpi and its JPEG encoding, one instance,
// nothing else (no image PDF built, no verification).
func BenchmarkRenderJPEG1MB(b *testing.B) {
	in := megabytePDF()
	testEngine.once.Do(testEngine.init)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		_, err := testEngine.open(context.Background(), in, time.Minute, func(inst pdfium.Pdfium, doc references.FPDF_DOCUMENT, pages int) error {
			for i := range pages {
				r, err := inst.RenderPageInDPI(&requests.RenderPageInDPI{Page: requests.Page{ByIndex: &requests.PageByIndex{Document: doc, Index: i}}, DPI: 150})
				if err != nil {
					return err
				}
				err = jpeg.Encode(io.Discard, r.Result.Image, &jpeg.Options{Quality: 80})
				r.Cleanup()
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10), "ns/page")
}

// BenchmarkFlattenJapaneseText flattens a 24-page A4 notice of 10.5-point
// Japanese text (a table every third page, a red seal on the first) at
// 150 dpi, storing page images as JPEGs only (the flattener before the
// choice per page) and as chosen per page; out/in is the size of the
// flattened file over the original's.
func BenchmarkFlattenJapaneseText(b *testing.B) {
	const pages = 24
	in := japaneseTextPDF(pages, 10.5, 842)
	for _, c := range []struct {
		name string
		enc  encoding
	}{{"jpeg-only", encodeJPEG}, {"per-page", encodeBest}} {
		b.Run(c.name, func(b *testing.B) {
			f := &Flattener{Engine: benchEngines["per-core"], encoding: c.enc}
			var out bytes.Buffer
			for b.Loop() {
				out.Reset()
				if _, err := f.Sanitize(context.Background(), format.Part{}, bytes.NewReader(in), &out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pages), "ns/page")
			b.ReportMetric(float64(len(in)), "in-bytes")
			b.ReportMetric(float64(out.Len()), "out-bytes")
			b.ReportMetric(float64(out.Len())/float64(len(in)), "out/in")
		})
	}
}

// BenchmarkEncodePage is the encoding alone of one rendered A4 page of
// 10.5-point Japanese text at 150 dpi: JPEG only, and the choice per page
// (survey of the colours, lossless Flate, the JPEG to compare with).
func BenchmarkEncodePage(b *testing.B) {
	var page *image.RGBA
	_, _, err := testFlattener.render(context.Background(), nil, japaneseTextPDF(2, 10.5, 842), 150, 2, func(i int, img image.Image, _ int) error {
		if i == 1 {
			page = image.NewRGBA(img.Bounds())
			copy(page.Pix, img.(*image.RGBA).Pix)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		enc  encoding
	}{{"jpeg-only", encodeJPEG}, {"per-page", encodeBest}} {
		b.Run(c.name, func(b *testing.B) {
			var p pageImage
			for b.Loop() {
				if p, err = encodePage(context.Background(), page, 80, c.enc); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(p.data)), "out-bytes")
		})
	}
}
