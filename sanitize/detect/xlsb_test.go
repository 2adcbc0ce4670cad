package detect

import (
	"strings"
	"testing"

	"mugai/policy"
)

// An .xlsb is a zip of binary (BIFF12) parts. It used to be called an
// .xlsm, so the OOXML disarmer rewrote its parts as XML and the result did
// not open. It now has its own type, which no disarmer takes.
func TestXLSB(t *testing.T) {
	const ct = `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>` +
		`<Override PartName="/xl/worksheets/sheet1.bin" ContentType="application/vnd.ms-excel.worksheet"/></Types>`
	xlsb := buildZip(t, false, "[Content_Types].xml", ct, "_rels/.rels", `<Relationships/>`,
		"xl/workbook.bin", "\x83\x01\x00", "xl/worksheets/sheet1.bin", "\x81\x01\x00")
	for _, c := range []struct {
		name     string
		data     []byte
		want     string
		disguise bool
	}{
		{"表.xlsb", xlsb, TypeXLSB, false},
		{"表.xlsm", xlsb, TypeXLSB, false}, // same family (Excel): the type, not the name, decides
		{"表.pdf", xlsb, TypeXLSB, true},
		// the workbook part alone, without the content type, is enough
		{"a.xlsb", buildZip(t, false, "[Content_Types].xml", `<Types/>`, "xl/workbook.bin", "\x83\x01"), TypeXLSB, false},
		// a .xlsb name on an .xlsx is the same family and is detected as .xlsx
		{"a.xlsb", buildZip(t, false, "[Content_Types].xml", `<Types/>`, "xl/workbook.xml", "<workbook/>"), TypeXLSX, false},
		// a .xlsb name on a PDF is flagged
		{"a.xlsb", []byte("%PDF-1.7\n%%EOF\n"), TypePDF, true},
	} {
		r := Detect(c.data, "", []string{c.name})
		if r.Type != c.want {
			t.Errorf("%s: type %s, want %s", c.name, r.Type, c.want)
		}
		if r.Has(policy.FlagDisguised) != c.disguise {
			t.Errorf("%s: disguised %v, want %v (%v)", c.name, r.Has(policy.FlagDisguised), c.disguise, r.Detail)
		}
		if c.want == TypeXLSB && strings.HasPrefix(c.name, "表") && !r.Has(policy.FlagMacro) { // its content types say macroEnabled
			t.Errorf("%s: an xlsb is not flagged as macro-capable: %v", c.name, r.Detail)
		}
	}
}
