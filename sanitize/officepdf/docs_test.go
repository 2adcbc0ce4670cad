package officepdf

import (
	"archive/zip"
	"bytes"
	"fmt"
	"testing"
)

// The documents the tests convert, built here by hand: a plain one, and
// the hostile set (a macro that runs on open, links to a listener on the
// host's 127.0.0.1, DDE, an embedded object, a spreadsheet that fetches).

type member struct{ name, body string }

// zipOf builds a ZIP package; a "mimetype" member is stored, first.
func zipOf(t *testing.T, ms ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		method := zip.Deflate
		if m.name == "mimetype" {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(m.body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	wNS   = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"`
	relNS = `http://schemas.openxmlformats.org/package/2006/relationships`
	odNS  = `http://schemas.openxmlformats.org/officeDocument/2006/relationships`
)

// docx is a Word document whose body is paragraphs (WordprocessingML
// runs), with extra relationships of the document part and, when macro is
// set, a VBA project part (a .docm).
func docx(t *testing.T, body, rels string, macro bool, extra ...member) []byte {
	t.Helper()
	main := "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
	if macro {
		main = "application/vnd.ms-word.document.macroEnabled.main+xml"
	}
	ms := []member{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>` +
			`<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Default Extension="xlsx" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"/>` +
			`<Override PartName="/word/document.xml" ContentType="` + main + `"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="` + relNS + `"><Relationship Id="rId1" Type="` + odNS + `/officeDocument" Target="word/document.xml"/></Relationships>`},
		{"word/document.xml", `<?xml version="1.0" encoding="UTF-8"?><w:document ` + wNS + `><w:body>` + body + `</w:body></w:document>`},
		{"word/_rels/document.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="` + relNS + `">` + rels + `</Relationships>`},
	}
	if macro {
		ms = append(ms, member{"word/vbaProject.bin", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 not really a VBA project"})
	}
	return zipOf(t, append(ms, extra...)...)
}

func para(text string) string {
	return `<w:p><w:r><w:t xml:space="preserve">` + text + `</w:t></w:r></w:p>`
}

// field is a complex field (DDEAUTO, INCLUDEPICTURE…) with its shown result.
func field(instr, shown string) string {
	return `<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> ` + instr +
		` </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>` + shown +
		`</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>`
}

// hostileDocx links an image and a stylesheet on the listener, holds
// DDEAUTO and INCLUDEPICTURE fields and an embedded workbook (OLE
// object), and is a .docm with a VBA part.
func hostileDocx(t *testing.T, port int) []byte {
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	body := para("HOSTILE-DOCX 外部リンク") +
		`<w:p><w:r><w:pict><v:shape id="s1" style="width:100pt;height:60pt"><v:imagedata r:id="rImg" o:title=""/></v:shape></w:pict></w:r></w:p>` +
		field(`DDEAUTO "C:\\Windows\\System32\\cmd.exe" "/c calc.exe"`, "DDE") +
		field(`INCLUDEPICTURE "`+url+`/includepicture.png" \d`, "PIC") +
		field(`INCLUDETEXT "`+url+`/includetext.docx"`, "TEXT") +
		`<w:p><w:r><w:object><v:shape id="o1" style="width:80pt;height:40pt"><v:imagedata r:id="rImg" o:title=""/></v:shape>` +
		`<o:OLEObject Type="Embed" ProgID="Excel.Sheet.12" ShapeID="o1" DrawAspect="Content" ObjectID="_1" r:id="rOle"/></w:object></w:r></w:p>`
	rels := `<Relationship Id="rImg" Type="` + odNS + `/image" Target="` + url + `/linked-image.png" TargetMode="External"/>` +
		`<Relationship Id="rAtt" Type="` + odNS + `/attachedTemplate" Target="` + url + `/template.dotm" TargetMode="External"/>` +
		`<Relationship Id="rOle" Type="` + odNS + `/package" Target="embeddings/Book1.xlsx"/>`
	return docx(t, body, rels, true, member{"word/embeddings/Book1.xlsx", string(xlsx(t, port, false))})
}

// xlsx is a workbook with one sheet; hostile adds a WEBSERVICE formula and
// an external workbook link on the listener and a DDE link.
func xlsx(t *testing.T, port int, hostile bool) []byte {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	cells := `<row r="1"><c r="A1" t="inlineStr"><is><t>PLAIN-XLSX 表</t></is></c></row>`
	ext, extRels, extParts := "", "", []member{}
	if hostile {
		cells = `<row r="1"><c r="A1" t="inlineStr"><is><t>HOSTILE-XLSX 表</t></is></c></row>` +
			`<row r="2"><c r="A2" t="str"><f>WEBSERVICE("` + url + `/webservice")</f><v>cached</v></c>` +
			`<c r="B2"><f>[1]Sheet1!A1</f><v>1</v></c><c r="C2"><f>[2]!'A0'</f><v>2</v></c></row>`
		ext = `<externalReferences><externalReference r:id="rE1"/><externalReference r:id="rE2"/></externalReferences>`
		extRels = `<Relationship Id="rE1" Type="` + odNS + `/externalLink" Target="externalLinks/externalLink1.xml"/>` +
			`<Relationship Id="rE2" Type="` + odNS + `/externalLink" Target="externalLinks/externalLink2.xml"/>`
		extParts = []member{
			{"xl/externalLinks/externalLink1.xml", `<?xml version="1.0" encoding="UTF-8"?><externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="` + odNS + `"><externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames></externalBook></externalLink>`},
			{"xl/externalLinks/_rels/externalLink1.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="` + relNS + `"><Relationship Id="rId1" Type="` + odNS + `/externalLinkPath" Target="` + url + `/book.xlsx" TargetMode="External"/></Relationships>`},
			{"xl/externalLinks/externalLink2.xml", `<?xml version="1.0" encoding="UTF-8"?><externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><ddeLink ddeService="cmd" ddeTopic="/c calc.exe"><ddeItems><ddeItem name="A0" advise="1"/></ddeItems></ddeLink></externalLink>`},
		}
	}
	ms := []member{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
			`<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/>` +
			`<Override PartName="/xl/externalLinks/externalLink2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="` + relNS + `"><Relationship Id="rId1" Type="` + odNS + `/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="` + odNS + `"><sheets><sheet name="Sheet1" sheetId="1" r:id="rS1"/></sheets>` + ext + `</workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="` + relNS + `"><Relationship Id="rS1" Type="` + odNS + `/worksheet" Target="worksheets/sheet1.xml"/>` + extRels + `</Relationships>`},
		{"xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + cells + `</sheetData></worksheet>`},
	}
	return zipOf(t, append(ms, extParts...)...)
}

// basic is the Basic library of an OpenDocument package: Module1 with
// the given source, and the manifest entries for it.
func basic(source string) (files []member, manifest string) {
	const lib = `xmlns:library="http://openoffice.org/2000/library"`
	files = []member{
		{"Basic/script-lc.xml", `<?xml version="1.0" encoding="UTF-8"?><library:libraries ` + lib + ` xmlns:xlink="http://www.w3.org/1999/xlink"><library:library library:name="Standard" library:link="false"/></library:libraries>`},
		{"Basic/Standard/script-lb.xml", `<?xml version="1.0" encoding="UTF-8"?><library:library ` + lib + ` library:name="Standard" library:readonly="false" library:passwordprotected="false"><library:element library:name="Module1"/></library:library>`},
		{"Basic/Standard/Module1.xml", `<?xml version="1.0" encoding="UTF-8"?><script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">` + source + `</script:module>`},
	}
	for _, f := range files {
		manifest += `<manifest:file-entry manifest:full-path="` + f.name + `" manifest:media-type="text/xml"/>`
	}
	return files, manifest
}

// macroODS is an OpenDocument spreadsheet whose cell calls a Basic
// function of the document: were it run, the cell would show MACRO-RAN
// (the call happens while the document loads, before it is printed).
func macroODS(t *testing.T) []byte {
	files, entries := basic("Function MacroRan()\nMacroRan = &quot;MACRO-RAN&quot;\nEnd Function\n")
	content := `<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.3">
<office:body><office:spreadsheet><table:table table:name="Sheet1">
<table:table-row><table:table-cell office:value-type="string"><text:p>ORIGINAL-SHEET</text:p></table:table-cell>
<table:table-cell table:formula="of:=MACRORAN()" office:value-type="string" office:string-value="CACHED-VALUE"><text:p>CACHED-VALUE</text:p></table:table-cell></table:table-row>
</table:table></office:spreadsheet></office:body></office:document-content>`
	manifest := `<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>` + entries + `</manifest:manifest>`
	return zipOf(t, append([]member{
		{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"},
		{"META-INF/manifest.xml", manifest},
		{"content.xml", content}}, files...)...)
}

// macroODT is an OpenDocument text whose Basic macro is bound to the
// document's OnLoad event and replaces its text with MACRO-RAN, and which
// shows an image linked from the listener.
func macroODT(t *testing.T, port int) []byte {
	files, entries := basic("Sub Main\nThisComponent.Text.setString(&quot;MACRO-RAN&quot;)\nEnd Sub\n")
	content := `<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.3">
<office:scripts><office:event-listeners><script:event-listener script:language="ooo:script" script:event-name="dom:load" xlink:type="simple" xlink:href="vnd.sun.star.script:Standard.Module1.Main?language=Basic&amp;location=document"/></office:event-listeners></office:scripts>
<office:body><office:text><text:p>ORIGINAL-TEXT 原文</text:p>
<text:p><draw:frame draw:name="img" svg:width="3cm" svg:height="2cm"><draw:image xlink:href="` + fmt.Sprintf("http://127.0.0.1:%d/odt-linked.png", port) + `" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/></draw:frame></text:p>
</office:text></office:body></office:document-content>`
	manifest := `<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>` + entries + `</manifest:manifest>`
	return zipOf(t, append([]member{
		{"mimetype", "application/vnd.oasis.opendocument.text"},
		{"META-INF/manifest.xml", manifest},
		{"content.xml", content}}, files...)...)
}
