package main

import (
	"mugai/policy"
	"mugai/sanitize/calendar"
	"mugai/sanitize/detect"
	"mugai/sanitize/format"
	"mugai/sanitize/image"
	"mugai/sanitize/jpdoc"
	"mugai/sanitize/legacy/doc"
	"mugai/sanitize/legacy/ppt"
	"mugai/sanitize/legacy/xls"
	"mugai/sanitize/officepdf"
	"mugai/sanitize/ooxml"
	"mugai/sanitize/pdf"
	"mugai/sanitize/rtffile"
	"mugai/sanitize/textfile"
)

// Compile-time checks that each sanitizer implements the contract.
var (
	_ format.Sanitizer = (*image.Disarmer)(nil)
	_ format.Sanitizer = (*textfile.Disarmer)(nil)
	_ format.Sanitizer = (*ooxml.Disarmer)(nil)
	_ format.Sanitizer = (*ooxml.Extractor)(nil)
	_ format.Sanitizer = rtffile.Extractor{}
	_ format.Sanitizer = (*pdf.Disarmer)(nil)
	_ format.Sanitizer = (*pdf.Flattener)(nil)
	_ format.Sanitizer = (*pdf.Text)(nil)
	_ format.Sanitizer = (*xls.Extractor)(nil)
	_ format.Sanitizer = (*calendar.Extractor)(nil)
	_ format.Sanitizer = (*calendar.Disarmer)(nil)
	_ format.Sanitizer = (*officepdf.Flattener)(nil)
)

// sanitizers builds the registry of per-format sanitizers: which action on
// which detected type is carried out by whom. cacheDir keeps pdfium's
// compiled WebAssembly between runs (the first start compiles it: seconds).
func sanitizers(cacheDir string) *format.Registry {
	r := &format.Registry{}
	pdfium := &pdf.Engine{CacheDir: cacheDir} // started on the first PDF
	r.Register(policy.ActionFlatten, &pdf.Flattener{Engine: pdfium}, pdf.Types...)
	r.Register(policy.ActionExtract, &pdf.Text{Engine: pdfium}, pdf.Types...)
	r.Register(policy.ActionDisarm, &image.Disarmer{}, image.Types...)
	r.Register(policy.ActionDisarm, &textfile.Disarmer{}, textfile.Types...)
	r.Register(policy.ActionDisarm, &ooxml.Disarmer{}, ooxml.Types...)
	r.Register(policy.ActionDisarm, &pdf.Disarmer{}, pdf.Types...)
	r.Register(policy.ActionExtract, &ooxml.Extractor{}, ooxml.Types...)
	r.Register(policy.ActionExtract, rtffile.Extractor{}, rtffile.Types...)
	r.Register(policy.ActionExtract, jpdoc.Extractor{}, jpdoc.Types...)
	r.Register(policy.ActionExtract, &xls.Extractor{}, detect.TypeXLS)
	r.Register(policy.ActionExtract, &doc.Extractor{}, detect.TypeDOC)
	r.Register(policy.ActionExtract, &ppt.Extractor{}, detect.TypePPT)
	r.Register(policy.ActionExtract, &calendar.Extractor{}, calendar.Types...)
	r.Register(policy.ActionDisarm, &calendar.Disarmer{}, calendar.Types...)
	// Office → PDF in LibreOffice's sandbox → page images; without
	// LibreOffice, the extract sanitizers above stand in (with a notice).
	r.Register(policy.ActionFlatten, &officepdf.Flattener{Converter: &officepdf.Converter{},
		PDF: &pdf.Flattener{Engine: pdfium}, Fallback: r}, officepdf.Types...)
	return r
}
