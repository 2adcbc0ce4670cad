package pdf

import (
	"bytes"
	"context"
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"mugai/sanitize/format"
)

// One pdfium pool per test binary: compiling the WebAssembly module is the
// slow part, and the compilation cache keeps it across runs.
var testEngine = &Engine{Instances: 1, CacheDir: filepath.Join(os.TempDir(), "mugai-test-wazero-cache")}
var testFlattener = &Flattener{Engine: testEngine, DPI: 72}

// japanesePDF has text in a Japanese font that is not embedded, as
// Japanese Word exports often do: without a Japanese font inside the
// sandbox it renders blank.
func japanesePDF() []byte {
	return buildPDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		stream("", "BT /F1 160 Tf 40 500 Td <65E5672C8A9E> Tj ET"),
		"<< /Type /Font /Subtype /Type0 /BaseFont /MS-Gothic /Encoding /UniJIS-UCS2-H /DescendantFonts [6 0 R] >>",
		"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /MS-Gothic /CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 6 >> /FontDescriptor 7 0 R >>",
		"<< /Type /FontDescriptor /FontName /MS-Gothic /Flags 4 /FontBBox [0 -141 1000 859] /ItalicAngle 0 /Ascent 859 /Descent -141 /CapHeight 700 /StemV 80 >>",
	}, nil)
}

func darkPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			if r+g+bb < 3*0x8000 {
				n++
			}
		}
	}
	return n
}

func TestFlattenJapaneseFont(t *testing.T) {
	count := func(f *Flattener) int {
		n := -1
		_, _, err := f.render(context.Background(), nil, japanesePDF(), 72, 1, func(_ int, img image.Image, _ int) error {
			n = darkPixels(img)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	with := count(testFlattener)
	without := count(&Flattener{DPI: 72, Engine: &Engine{Instances: 1, CacheDir: testEngine.CacheDir, fonts: fstest.MapFS{}}})
	t.Logf("dark pixels: %d with the embedded font, %d without", with, without)
	if with < 1000 {
		t.Errorf("Japanese text rendered blank with the embedded font (%d dark pixels)", with)
	}
	if without >= with/10 {
		t.Errorf("the test proves nothing: %d dark pixels without a font, %d with", without, with)
	}
}

func TestFlatten(t *testing.T) {
	var out bytes.Buffer
	v, err := testFlattener.Sanitize(context.Background(), format.Part{Filename: "a.pdf"}, bytes.NewReader(hostilePDF()), &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(out.Bytes(), false); err != nil {
		t.Fatal(err)
	}
	pc, err := read(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	pc.XRefTable.EnsurePageCount()
	if pc.XRefTable.PageCount != 1 {
		t.Errorf("pages %d", pc.XRefTable.PageCount)
	}
	page, _, _, _ := pc.XRefTable.PageDict(1, true)
	res, _ := pc.XRefTable.DereferenceDict(page["Resources"])
	if _, hasFont := res.Find("Font"); hasFont {
		t.Error("flattened page still has fonts")
	}
	xobj, _ := pc.XRefTable.DereferenceDict(res["XObject"])
	if len(xobj) != 1 {
		t.Errorf("page has %d XObjects, want the one page image", len(xobj))
	}
	for _, payload := range []string{"PAYLOAD", "cmd.exe", "evil.example", "/Annots"} {
		if bytes.Contains(out.Bytes(), []byte(payload)) {
			t.Errorf("output contains %s", payload)
		}
	}
	if len(v.Notes) != 1 || v.Notes[0].EN != "1 page was turned into an image at 72 dpi." || v.Notes[0].JA != "1 ページを 72 dpi の画像にしました。" || v.Notes[0].Loss {
		t.Errorf("verdict %+v", v)
	}

	// The page budget: later pages are dropped and the verdict says so.
	var kids []string
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", ""}
	for i := 0; i < 3; i++ {
		kids = append(kids, itoa(3+i)+" 0 R")
		objs = append(objs, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>")
	}
	objs[1] = "<< /Type /Pages /Kids [" + strings.Join(kids, " ") + "] /Count 3 >>"
	short := &Flattener{Engine: testEngine, DPI: 36, MaxPages: 2}
	out.Reset()
	v, err = short.Sanitize(context.Background(), format.Part{}, bytes.NewReader(buildPDF(objs, nil)), &out)
	if err != nil || len(v.Notes) != 2 || !v.Notes[1].Loss || v.Notes[1].JA != "3 ページ中 2 ページのみ変換しました（3 ページ目は、ページ数の上限のため含まれていません）。" ||
		v.Notes[1].EN != "Only 2 of 3 pages were converted; page 3 is not included (page limit)." {
		t.Errorf("page budget: %+v %v", v, err)
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

func TestText(t *testing.T) {
	var out bytes.Buffer
	v, err := (&Text{Engine: testEngine}).Sanitize(context.Background(), format.Part{Filename: "日本語.pdf"}, bytes.NewReader(japanesePDF()), &out)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.Contains(got, "日本語") || v.Filename != "日本語.txt" {
		t.Errorf("text %q, verdict %+v", got, v)
	}
	// A page without text (a scan) is not delivered as an empty file.
	blank := buildPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>"}, nil)
	if _, err := (&Text{Engine: testEngine}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(blank), &out); err == nil {
		t.Error("a PDF without text yielded a text file")
	}
}

func FuzzFlatten(f *testing.F) {
	f.Add(japanesePDF())
	f.Add(hostilePDF())
	fl := &Flattener{Engine: testEngine, DPI: 36, MaxPages: 2}
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		if _, err := fl.Sanitize(context.Background(), format.Part{}, bytes.NewReader(data), &out); err != nil {
			return
		}
		if err := Verify(out.Bytes(), false); err != nil {
			t.Fatalf("accepted output fails verification: %v", err)
		}
		pc, err := read(out.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if err := pc.XRefTable.EnsurePageCount(); err != nil || pc.XRefTable.PageCount > 2 {
			t.Fatalf("pages %d (%v): the page budget was not kept", pc.XRefTable.PageCount, err)
		}
	})
}

// Pages rendered in parallel, in several instances, keep their order.
func TestFlattenParallelKeepsPageOrder(t *testing.T) {
	widths := []int{100, 200, 300, 400, 500}
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", ""}
	var kids []string
	for i, w := range widths {
		kids = append(kids, strconv.Itoa(3+i)+" 0 R")
		objs = append(objs, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 "+strconv.Itoa(w)+" 300] >>")
	}
	objs[1] = "<< /Type /Pages /Kids [" + strings.Join(kids, " ") + "] /Count 5 >>"
	eng := &Engine{Instances: 3, CacheDir: testEngine.CacheDir}
	defer eng.Close()
	var out bytes.Buffer
	if _, err := (&Flattener{Engine: eng, DPI: 72}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(buildPDF(objs, nil)), &out); err != nil {
		t.Fatal(err)
	}
	pc, err := read(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.XRefTable.EnsurePageCount(); err != nil || pc.XRefTable.PageCount != len(widths) {
		t.Fatalf("%d pages (%v)", pc.XRefTable.PageCount, err)
	}
	for i, w := range widths {
		page, _, _, err := pc.XRefTable.PageDict(i+1, true)
		if err != nil {
			t.Fatal(err)
		}
		res, _ := pc.XRefTable.DereferenceDict(page["Resources"])
		xobj, _ := pc.XRefTable.DereferenceDict(res["XObject"])
		for _, ref := range xobj {
			sd, _, err := pc.XRefTable.DereferenceStreamDict(ref)
			if err != nil || sd == nil {
				t.Fatalf("page %d image: %v", i+1, err)
			}
			if got := sd.IntEntry("Width"); got == nil || *got != w {
				t.Errorf("page %d image is %v pixels wide, want %d (pages out of order?)", i+1, got, w)
			}
		}
	}
}

// pagesPDF has n blank pages of w×h points.
func pagesPDF(n int, w, h int) []byte {
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", ""}
	var kids []string
	for i := range n {
		kids = append(kids, strconv.Itoa(3+i)+" 0 R")
		objs = append(objs, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 "+strconv.Itoa(w)+" "+strconv.Itoa(h)+"] >>")
	}
	objs[1] = "<< /Type /Pages /Kids [" + strings.Join(kids, " ") + "] /Count " + strconv.Itoa(n) + " >>"
	return buildPDF(objs, nil)
}

// A deadline stops flattening at once, the instance in use is killed
// (not left rendering), and the pool (one instance) serves the next file.
func TestFlattenDeadline(t *testing.T) {
	eng := &Engine{Instances: 1, CacheDir: testEngine.CacheDir, InitTimeout: 20 * time.Second}
	defer eng.Close()
	f := &Flattener{Engine: eng, DPI: 150, MaxPages: 40}
	small := pagesPDF(1, 100, 100)
	usable := func(when string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		var out bytes.Buffer
		if _, err := f.Sanitize(ctx, format.Part{}, bytes.NewReader(small), &out); err != nil {
			t.Fatalf("%s: the pool is not usable: %v", when, err)
		}
	}
	usable("first use")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	var out bytes.Buffer
	_, err := f.Sanitize(ctx, format.Part{}, bytes.NewReader(small), &out)
	if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Errorf("cancelled: %v after %v", err, time.Since(start))
	}
	usable("after a cancelled call")

	// Ten pages of a few seconds each: the deadline comes during a page,
	// inside the renderer, which must be interrupted.
	heavy := slowPDF(10)
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = f.Sanitize(ctx, format.Part{}, bytes.NewReader(heavy), &out)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: err %v", err)
	}
	if took > 1500*time.Millisecond {
		t.Errorf("deadline of 300ms: returned after %v", took)
	}
	t.Logf("returned %v after the start; %d instance(s) killed", took, eng.killed.Load())
	if eng.killed.Load() == 0 {
		t.Error("no instance was killed: the renderer went on after the deadline")
	}
	usable("after a deadline")
}

// Every page's bitmap is taken from the message's budget before it is
// rendered; a budget smaller than a page fails with ErrBudget.
func TestFlattenBudget(t *testing.T) {
	doc := pagesPDF(3, 200, 200) // at 72 dpi: about 201×201×4 bytes a page
	run := func(b *format.Budget) error {
		var out bytes.Buffer
		_, err := testFlattener.Sanitize(context.Background(), format.Part{Budget: b}, bytes.NewReader(doc), &out)
		return err
	}
	b := format.NewBudget(1000, nil)
	if err := run(b); !errors.Is(err, format.ErrBudget) {
		t.Errorf("budget smaller than a page: %v", err)
	}
	if b.Used() != 0 {
		t.Errorf("used %d of a budget that fits no page", b.Used())
	}
	// Room for two pages: the third fails the whole file.
	page := bitmapBytes(200, 200, 72)
	b = format.NewBudget(2*page+page/2, nil)
	if err := run(b); !errors.Is(err, format.ErrBudget) {
		t.Errorf("budget of two pages for three: %v", err)
	}
	// Enough: every page was taken.
	b = format.NewBudget(1<<30, nil)
	if err := run(b); err != nil {
		t.Fatal(err)
	}
	if b.Used() != 3*page || page < 200*200*4 {
		t.Errorf("used %d, want 3 pages of %d", b.Used(), page)
	}
	// The gateway's memory error comes back as it is.
	grow := errors.New("no memory")
	err := run(format.NewBudget(0, func(int64) error { return grow }))
	var ge *format.GrowError
	if !errors.As(err, &ge) || !errors.Is(err, grow) {
		t.Errorf("grow error: %v", err)
	}
}

// slowPDF has n pages that are slow to render and small in memory: one
// shared content stream of many semi-transparent, overlapping shapes.
func slowPDF(n int) []byte {
	var c strings.Builder
	c.WriteString("/GS1 gs\n")
	for i := range 1200 {
		x, y := (i*37)%500, (i*91)%700
		c.WriteString(strconv.Itoa(i%3) + " 0.5 0.2 rg " + strconv.Itoa(x) + " " + strconv.Itoa(y) + " m " +
			strconv.Itoa(x+80) + " " + strconv.Itoa(y+200) + " " + strconv.Itoa(x+160) + " " + strconv.Itoa(y-100) + " " + strconv.Itoa(x+90) + " " + strconv.Itoa(y+50) + " c f\n")
	}
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", "", stream("", c.String()), "<< /ExtGState << /GS1 << /ca 0.3 /CA 0.3 >> >> >>"}
	var kids []string
	for i := range n {
		kids = append(kids, strconv.Itoa(5+i)+" 0 R")
		objs = append(objs, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R /Resources 4 0 R >>")
	}
	objs[1] = "<< /Type /Pages /Kids [" + strings.Join(kids, " ") + "] /Count " + strconv.Itoa(n) + " >>"
	return buildPDF(objs, nil)
}

// TestFlattenPageSize: each flattened page has its source page's size in
// points (rotation included), whatever the DPI, so printing at actual
// size gives the paper the sender chose; the image fills the page.
func TestFlattenPageSize(t *testing.T) {
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] >>",                   // A4
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Rotate 90 >>",              // Letter, turned
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 842 1191] /CropBox [0 0 595 842] >>"} // A3 cropped to A4
	want := [][2]float64{{595.28, 841.89}, {792, 612}, {595, 842}}
	for _, dpi := range []int{72, 150, 200} {
		var out bytes.Buffer
		if _, err := (&Flattener{Engine: testEngine, DPI: dpi}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(buildPDF(objs, nil)), &out); err != nil {
			t.Fatal(err)
		}
		if err := Verify(out.Bytes(), false); err != nil {
			t.Fatal(err)
		}
		pc, err := read(out.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if err := pc.XRefTable.EnsurePageCount(); err != nil || pc.XRefTable.PageCount != len(want) {
			t.Fatalf("%d pages (%v)", pc.XRefTable.PageCount, err)
		}
		for i, w := range want {
			page, _, _, err := pc.XRefTable.PageDict(i+1, true)
			if err != nil {
				t.Fatal(err)
			}
			box := page.ArrayEntry("MediaBox")
			if len(box) != 4 {
				t.Fatalf("dpi %d page %d: MediaBox %v", dpi, i+1, box)
			}
			gw, gh := number(box[2]), number(box[3])
			if tol := 72.0/float64(dpi) + 0.01; math.Abs(gw-w[0]) > tol || math.Abs(gh-w[1]) > tol {
				t.Errorf("dpi %d page %d: %.2f×%.2f points, want %.2f×%.2f", dpi, i+1, gw, gh, w[0], w[1])
			}
		}
	}
}

// number reads a PDF integer or real.
func number(o any) float64 {
	switch v := o.(type) {
	case types.Integer:
		return float64(v)
	case types.Float:
		return float64(v)
	}
	return -1
}
