package sanitize

import (
	"archive/zip"
	"bytes"
	"hash/crc32"
	"strings"
	"testing"

	"mugai/policy"
	"mugai/sanitize/detect"
	"mugai/sanitize/pdf"
)

// pagePDF is a one-page PDF with a script to run when opened.
func pagePDF() []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	var offs []int
	for i, o := range objs {
		offs = append(offs, b.Len())
		b.WriteString(itoa(i+1) + " 0 obj\n" + o + "\nendobj\n")
	}
	x := b.Len()
	b.WriteString("xref\n0 4\n0000000000 65535 f \n")
	for _, o := range offs {
		b.WriteString(strings.Repeat("0", 10-len(itoa(o))) + itoa(o) + " 00000 n \n")
	}
	b.WriteString("trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n" + itoa(x) + "\n%%EOF\n")
	return b.Bytes()
}

// storedPDFZip is what Python's zipfile writes by default: members
// stored uncompressed, sizes in the local headers, a PDF first.
func storedPDFZip(t *testing.T, members ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		h := &zip.FileHeader{Name: m[0], Method: zip.Store, CRC32: crc32.ChecksumIEEE([]byte(m[1])),
			CompressedSize64: uint64(len(m[1])), UncompressedSize64: uint64(len(m[1]))}
		w, err := zw.CreateRaw(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(m[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if i := bytes.Index(buf.Bytes(), []byte("%PDF-")); i < 0 || i >= 1024 {
		t.Fatal("the stored PDF is not where a PDF reader looks")
	}
	return buf.Bytes()
}

// TestStoredPDFZipRebuilt: a ZIP whose first member is a stored PDF is
// opened and rebuilt (deflated, the PDF flattened), not removed as a
// PDF/ZIP polyglot; what is delivered is only a ZIP.
func TestStoredPDFZipRebuilt(t *testing.T) {
	z := storedPDFZip(t, [2]string{"申請書.pdf", string(pagePDF())}, [2]string{"記入例.txt", "氏名と住所を記入\n"})
	res, err := testRebuilder().Rebuild(testEnvelope, strings.NewReader(withAttachment("application/zip", "申請.zip", z)))
	if err != nil {
		t.Fatal(err)
	}
	if d := res.Decisions[1]; d.Action != policy.ActionDisarm || d.RuleID != "archive-open" || d.DetectedType != detect.TypeZIP {
		t.Fatalf("archive decision %s/%s/%s (%s)", d.Action, d.RuleID, d.DetectedType, d.Detail)
	}
	out := attachmentsOf(t, res.Message)["申請.zip"]
	zr, err := zip.NewReader(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatalf("no rebuilt ZIP: %v", err)
	}
	for _, f := range zr.File {
		if f.Method != zip.Deflate {
			t.Errorf("%s is stored in the rebuilt archive", f.Name)
		}
	}
	files := readZip(t, out)
	flat := files["申請書.pdf"]
	if err := pdf.Verify(flat, false); err != nil || !bytes.Contains(flat, []byte("/Subtype /Image")) || bytes.Contains(flat, []byte("app.alert")) {
		t.Errorf("the PDF member was not flattened: %v", err)
	}
	if id := detect.Detect(out, "application/zip", []string{"申請.zip"}); id.Type != detect.TypeZIP || len(id.Flags) != 0 {
		t.Errorf("rebuilt archive detected as %s %v", id.Type, id.Flags)
	}
}

// TestStoredPDFZipNeverPassedAsIs: every path that would deliver the
// original bytes still sees the polyglot: a keep rule on the archive, a
// keep rule on an archive member; and a PDF with a ZIP appended stays a
// polyglot whatever the rule.
func TestStoredPDFZipNeverPassedAsIs(t *testing.T) {
	z := storedPDFZip(t, [2]string{"申請書.pdf", string(pagePDF())})
	keep, err := policy.Parse("keep.yaml", []byte(`
rules:
  - {id: body, clause: "2(13)", match: {role: body}, action: textify, reason: {ja: a, en: b}}
  - {id: open-outer, clause: "2(13)", match: {role: attachment, type: application/zip, archive_depth: {max: 0}}, action: disarm, reason: {ja: a, en: b}}
  - {id: keep, clause: "6(6)", match: {role: attachment}, action: keep, reason: {ja: a, en: b}}
`), policy.DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	keepAll, err := policy.Parse("keepall.yaml", []byte(`
rules:
  - {id: body, clause: "2(13)", match: {role: body}, action: textify, reason: {ja: a, en: b}}
  - {id: keep, clause: "6(6)", match: {role: attachment}, action: keep, reason: {ja: a, en: b}}
`), policy.DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	outer := makeZip(t, zipEntry{name: "申請.zip", data: z}, zipEntry{name: "readme.txt", data: []byte("hi\n")})
	tests := []struct {
		name     string
		pol      *policy.Policy
		ctype    string
		filename string
		data     []byte
		path     int // index of the decision to check
	}{
		{"keep rule on the archive", keepAll, "application/zip", "申請.zip", z, 1},
		{"kept as an archive member", keep, "application/zip", "束.zip", outer, 2},
		{"PDF with a ZIP appended, default policy", policy.Default(), "application/pdf", "a.pdf", append(pagePDF(), makeZip(t, zipEntry{name: "a.txt", data: []byte("x")})...), 1},
	}
	for _, tc := range tests {
		res, err := (&Rebuilder{Policy: tc.pol, Sanitizers: testSanitizers()}).Rebuild(testEnvelope, strings.NewReader(withAttachment(tc.ctype, tc.filename, tc.data)))
		if err != nil {
			t.Fatal(err)
		}
		d := res.Decisions[tc.path]
		if d.Action != policy.ActionStrip || d.Reason != policy.ReasonPolyglot {
			t.Errorf("%s: decision %s %s/%s (%s)", tc.name, d.Path, d.Action, d.Reason, d.Detail)
		}
		for name, b := range attachmentsOf(t, res.Message) {
			if bytes.Contains(b, z) || bytes.HasPrefix(b, []byte("%PDF")) && bytes.Contains(b, []byte("PK\x03\x04")) {
				t.Errorf("%s: %s delivers the original bytes", tc.name, name)
			}
		}
	}
}
