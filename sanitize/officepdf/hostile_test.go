package officepdf

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"mugai/sanitize/detect"
	"mugai/sanitize/format"
	"mugai/sanitize/pdf"
)

// TestHostile converts the hostile set in the sandbox with the safe
// profile: no connection reaches the listener on the host's 127.0.0.1, no
// macro runs (the document's own text is what LibreOffice printed), and
// what is delivered is pixels only. Each document is detected as the type
// the Flattener registers it under.
func TestHostile(t *testing.T) {
	c := converter(t, &Converter{Timeout: convTimeout})
	ln := listen(t)
	for _, tt := range []struct {
		name, typ string
		doc       []byte
		text      string // what the converted PDF must show
	}{
		// A .docm: VBA part, linked image and template, DDEAUTO,
		// INCLUDEPICTURE/INCLUDETEXT on the listener, an embedded workbook.
		{"docm links DDE OLE", detect.TypeDOCM, hostileDocx(t, ln.port), "HOSTILE-DOCX"},
		// An .xlsx: WEBSERVICE on the listener, an external workbook on
		// it, a DDE link.
		{"xlsx webservice external DDE", detect.TypeXLSX, xlsx(t, ln.port, true), "HOSTILE-XLSX"},
		// An .odt: a Basic macro that runs on open, a linked image.
		{"odt macro linked image", "application/vnd.oasis.opendocument", macroODT(t, ln.port), "ORIGINAL-TEXT"},
		// An .ods whose cell calls a Basic function of the document
		// (LibreOffice recalculates it on load: the call fails, the
		// function is not run).
		{"ods macro function", "application/vnd.oasis.opendocument", macroODS(t), "ORIGINAL-SH"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := detect.Detect(tt.doc, "", nil).Type; got != tt.typ {
				t.Fatalf("detected as %q; want %q", got, tt.typ)
			}
			converted, err := c.Convert(context.Background(), tt.doc, exts[tt.typ])
			if err != nil {
				t.Fatal(err)
			}
			txt := textOf(t, converted)
			if !strings.Contains(txt, tt.text) || strings.Contains(txt, "MACRO-RAN") {
				t.Errorf("converted text %q: want %q and no MACRO-RAN", txt, tt.text)
			}
			var out bytes.Buffer
			if _, err := (&pdf.Flattener{Engine: pdfEngine()}).Sanitize(context.Background(), format.Part{SniffedType: detect.TypePDF, Options: format.Options{DPI: 72}},
				bytes.NewReader(converted), &out); err != nil {
				t.Fatal(err)
			}
			onlyPixels(t, out.Bytes())
			ln.none(t)
		})
	}
}

// TestHostileControl converts the hostile text document with a profile
// that allows macros and updates links, and with the host's network
// shared: the linked image is then fetched from the listener. It shows
// that the hostile set is hostile and that the network namespace is what
// stops it. (LibreOffice 7.4's --convert-to loads documents without a
// macro execution mode, which means never: the macro does not run even
// here, so the profile's macro settings are a second layer this test
// cannot show at work.)
func TestHostileControl(t *testing.T) {
	slow(t)
	c := converter(t, &Converter{Timeout: convTimeout, unsafeProfile: true, shareNet: true})
	ln := listen(t)
	converted, err := c.Convert(context.Background(), macroODT(t, ln.port), "odt")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case h := <-ln.hits:
		t.Logf("with the network shared the listener got: %q", h)
	default:
		t.Errorf("with the network shared and links updated, the listener got nothing")
	}
	if txt := textOf(t, converted); strings.Contains(txt, "MACRO-RAN") {
		t.Logf("with macros allowed the macro ran: %q", txt)
	}
}

// TestConvertNothingLeft: a conversion stopped by its deadline leaves no
// LibreOffice process behind (nor does a finished one: see
// TestFlattenDocument). The deadline is shorter than LibreOffice's own
// start (about a second even warm: a whole conversion took 1.2 s on a
// quiet machine, which outran the 2 s this test once gave it), so it
// always stops a running soffice.
func TestConvertNothingLeft(t *testing.T) {
	c := converter(t, &Converter{Timeout: 400 * time.Millisecond})
	start := time.Now()
	_, err := c.Convert(context.Background(), docx(t, para("x"), "", false), "docx")
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Convert: %v; want the deadline (after %v)", err, time.Since(start))
	}
	if left := waitGone(profileArg, 2*time.Second); len(left) > 0 {
		t.Errorf("processes left behind: %v", left)
	}
}
