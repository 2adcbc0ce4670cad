package officepdf

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"mugai/policy"
	"mugai/sanitize/detect"
	"mugai/sanitize/format"
)

// exts maps the detected types the Flattener takes to the extension
// LibreOffice reads each under.
var exts = map[string]string{
	detect.TypeDOCX: "docx", detect.TypeXLSX: "xlsx", detect.TypePPTX: "pptx",
	detect.TypeDOCM: "docm", detect.TypeXLSM: "xlsm", detect.TypePPTM: "pptm",
	detect.TypeDOC: "doc", detect.TypeXLS: "xls", detect.TypePPT: "ppt",
	detect.TypeRTF: "rtf", "application/rtf": "rtf",
	// OpenDocument: LibreOffice tells text, spreadsheet and presentation
	// apart by the package's mimetype member, whatever the extension.
	"application/vnd.oasis.opendocument": "odt",
}

// Types lists the detected types the Flattener takes.
var Types = func() []string {
	ts := make([]string, 0, len(exts))
	for t := range exts {
		ts = append(ts, t)
	}
	return ts
}()

// noConverter is the notice line when the text stands in for the pages.
var noConverter = format.Note{
	JA: "レイアウトを保ったまま画像にする変換ソフト（LibreOffice）がこのサーバーに入っていないため、文字だけを取り出しました。",
	EN: "The layout could not be kept: the converter (LibreOffice) is not installed on this server, so only the text was extracted.",
}

// Flattener is the flatten action for Office documents: LibreOffice
// converts the document to PDF in its sandbox (Converter), then PDF
// flattens that PDF to page images with the rule's options (dpi, quality,
// pages). The file delivered is the PDF of images, named after the
// document with .pdf.
//
// When the converter is not available (not installed, or the sandbox
// cannot be set up), the extract sanitizer registered in Fallback for the
// type runs instead and a notice line says why; a conversion that fails
// or times out is an error like any other (the part is removed).
type Flattener struct {
	Converter *Converter
	PDF       format.Sanitizer // the PDF flattener (pdf.Flattener)
	Fallback  *format.Registry // its extract sanitizers stand in without LibreOffice
	MaxInput  int64            // document bytes read at most; default 64 MiB
}

var _ format.Sanitizer = (*Flattener)(nil)

// Name implements format.Sanitizer.
func (f *Flattener) Name() string { return "office-flatten" }

// Sanitize implements format.Sanitizer.
func (f *Flattener) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (format.Verdict, error) {
	ext, ok := exts[strings.ToLower(p.SniffedType)]
	if !ok {
		return format.Verdict{}, fmt.Errorf("officepdf: %s is not an Office type", p.SniffedType)
	}
	max := f.MaxInput
	if max <= 0 {
		max = 64 << 20
	}
	data, err := format.ReadAll(in, max)
	if err != nil {
		return format.Verdict{}, fmt.Errorf("officepdf: %w", err)
	}
	if _, err := f.Converter.Available(); err != nil {
		return f.fallback(ctx, p, data, out, err)
	}
	doc, err := f.Converter.Convert(ctx, data, ext)
	if err != nil {
		return format.Verdict{}, err
	}
	// The PDF is held while it is flattened: an expansion of the message.
	if err := p.Budget.Take(int64(len(doc))); err != nil {
		return format.Verdict{}, err
	}
	if detect.Detect(doc, "application/pdf", nil).Type != detect.TypePDF {
		return format.Verdict{}, errNoPDF
	}
	pp := p
	pp.SniffedType, pp.DeclaredType, pp.Size = detect.TypePDF, detect.TypePDF, int64(len(doc))
	v, err := f.PDF.Sanitize(ctx, pp, bytes.NewReader(doc), out)
	if err != nil {
		return format.Verdict{}, err
	}
	v.Filename = pdfName(p.Filename)
	return v, nil
}

// fallback runs the type's extract sanitizer and says why.
func (f *Flattener) fallback(ctx context.Context, p format.Part, data []byte, out io.Writer, why error) (format.Verdict, error) {
	s := f.Fallback.Lookup(policy.ActionExtract, p.SniffedType)
	if s == nil {
		return format.Verdict{}, fmt.Errorf("%w, and no text extractor for %s", why, p.SniffedType)
	}
	v, err := s.Sanitize(ctx, p, bytes.NewReader(data), out)
	if err != nil {
		return format.Verdict{}, err
	}
	v.Notes = append(v.Notes, noConverter)
	return v, nil
}

// pdfName is the document's name with .pdf for its extension.
func pdfName(name string) string {
	if name == "" {
		return "document.pdf"
	}
	return strings.TrimSuffix(name, path.Ext(name)) + ".pdf"
}
