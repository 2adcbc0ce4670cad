package officepdf

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"mugai/policy"
	"mugai/sanitize/detect"
	"mugai/sanitize/format"
	"mugai/sanitize/pdf"
)

// fakeExtract stands in for the OOXML text extractor.
type fakeExtract struct{}

func (fakeExtract) Name() string { return "fake-extract" }
func (fakeExtract) Sanitize(_ context.Context, p format.Part, in io.Reader, out io.Writer) (format.Verdict, error) {
	b, _ := io.ReadAll(in)
	io.WriteString(out, "text of "+p.Filename)
	return format.Verdict{Type: "text/plain; charset=utf-8", Filename: "x.txt",
		Notes: []format.Note{{JA: "抽出", EN: "extracted " + string(rune('0'+len(b)%10))}}}, nil
}

// TestFallback: without LibreOffice the type's extract sanitizer runs and
// a notice line says why; without one either, the part fails.
func TestFallback(t *testing.T) {
	reg := &format.Registry{}
	reg.Register(policy.ActionExtract, fakeExtract{}, detect.TypeDOCX)
	f := &Flattener{Converter: &Converter{Soffice: "/nonexistent/soffice"}, Fallback: reg}
	if _, err := f.Converter.Available(); err == nil || !strings.Contains(err.Error(), "libreoffice") {
		t.Fatalf("Available: %v; want not installed, naming the package", err)
	}
	var out bytes.Buffer
	v, err := f.Sanitize(context.Background(), format.Part{SniffedType: detect.TypeDOCX, Filename: "報告書.docx"}, strings.NewReader("doc"), &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != "text of 報告書.docx" || v.Type != "text/plain; charset=utf-8" {
		t.Errorf("out %q, type %q; want the extractor's", out.String(), v.Type)
	}
	if len(v.Notes) != 2 || v.Notes[1] != noConverter || v.Notes[1].Loss {
		t.Errorf("notes %+v; want the extractor's, then the no-converter line", v.Notes)
	}
	// No extractor for the type: fail closed.
	_, err = f.Sanitize(context.Background(), format.Part{SniffedType: detect.TypePPT}, strings.NewReader("doc"), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no text extractor") {
		t.Errorf("ppt without extractor: %v; want an error", err)
	}
	// Not an Office type at all.
	if _, err := f.Sanitize(context.Background(), format.Part{SniffedType: "image/png"}, strings.NewReader("x"), io.Discard); err == nil {
		t.Error("image/png: no error")
	}
}

func TestPDFName(t *testing.T) {
	for in, want := range map[string]string{"報告書.docx": "報告書.pdf", "a.b.xlsm": "a.b.pdf", "noext": "noext.pdf", "": "document.pdf"} {
		if got := pdfName(in); got != want {
			t.Errorf("pdfName(%q) = %q; want %q", in, got, want)
		}
	}
}

var (
	engineOnce sync.Once
	engine     *pdf.Engine
)

func pdfEngine() *pdf.Engine {
	engineOnce.Do(func() { engine = &pdf.Engine{Instances: 1} })
	return engine
}

// converter is a Converter with LibreOffice, or skips (fails under
// MUGAI_OFFICE=required).
func converter(t *testing.T, c *Converter) *Converter {
	t.Helper()
	_, err := c.Available()
	required(t, err)
	return c
}

// convTimeout is generous: CI machines are shared, and LibreOffice's
// first start in a fresh profile takes seconds even on an idle one.
const convTimeout = 3 * time.Minute

// textOf is the text layer of a PDF (pdfium), "" when it has none.
func textOf(t *testing.T, doc []byte) string {
	t.Helper()
	var out bytes.Buffer
	if _, err := (&pdf.Text{Engine: pdfEngine()}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(doc), &out); err != nil {
		return ""
	}
	return out.String()
}

// onlyPixels fails t unless doc is an image-only PDF: verified by the PDF
// checker (nothing active), no font, no text layer.
func onlyPixels(t *testing.T, doc []byte) {
	t.Helper()
	if err := pdf.Verify(doc, false); err != nil {
		t.Errorf("output does not verify: %v", err)
	}
	if bytes.Contains(doc, []byte("/Font")) || bytes.Contains(doc, []byte("/URI")) {
		t.Error("output has a font or a link")
	}
	if txt := textOf(t, doc); txt != "" {
		t.Errorf("output has a text layer: %q", txt)
	}
}

// TestFlattenDocument: a Word document with Japanese text comes out as an
// image-only PDF named after it, A4 in points.
func TestFlattenDocument(t *testing.T) {
	c := converter(t, &Converter{Timeout: convTimeout})
	f := &Flattener{Converter: c, PDF: &pdf.Flattener{Engine: pdfEngine()}}
	a4 := `<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr>` // as Word writes it in Japan
	doc := docx(t, para("住民票の写しの交付について")+para("PLAIN-DOCX")+a4, "", false)
	var out bytes.Buffer
	v, err := f.Sanitize(context.Background(), format.Part{SniffedType: detect.TypeDOCX, Filename: "お知らせ.docx",
		Options: format.Options{DPI: 100}}, bytes.NewReader(doc), &out)
	if err != nil {
		t.Fatal(err)
	}
	if v.Type != "application/pdf" || v.Filename != "お知らせ.pdf" {
		t.Errorf("verdict %+v; want application/pdf named お知らせ.pdf", v)
	}
	onlyPixels(t, out.Bytes())
	if left := waitGone(profileArg, 2*time.Second); len(left) > 0 {
		t.Errorf("processes left behind: %v", left)
	}
	if !bytes.Contains(out.Bytes(), []byte("/MediaBox [0 0 595")) && !bytes.Contains(out.Bytes(), []byte("/MediaBox [0 0 594")) {
		t.Errorf("page is not A4 in points: %q", firstMatch(out.Bytes(), "/MediaBox"))
	}
}

func firstMatch(b []byte, s string) string {
	i := bytes.Index(b, []byte(s))
	if i < 0 {
		return ""
	}
	return string(b[i:min(len(b), i+40)])
}
