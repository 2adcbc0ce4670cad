package officepdf

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
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
	// The compiled pdfium is cached where the other packages' tests keep it.
	engineOnce.Do(func() {
		engine = &pdf.Engine{Instances: 1, CacheDir: filepath.Join(os.TempDir(), "mugai-test-wazero-cache")}
	})
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

// slow skips the tests that only add evidence (the control run, the
// legacy fixtures: several LibreOffice starts each) outside make office,
// where MUGAI_OFFICE=required runs them: make test stays within its
// per-package time on a shared machine.
func slow(t *testing.T) {
	t.Helper()
	if os.Getenv("MUGAI_OFFICE") != "required" {
		t.Skip("several LibreOffice runs: make office runs this test (MUGAI_OFFICE=required)")
	}
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

func firstMatch(b []byte, s string) string {
	i := bytes.Index(b, []byte(s))
	if i < 0 {
		return ""
	}
	return string(b[i:min(len(b), i+40)])
}
