// Package ooxml disarms and reads Office Open XML documents (docx, xlsx,
// pptx and their macro-enabled forms). Disarm removes what can act:
// VBA projects, ActiveX controls, embedded OLE objects and packages,
// external links, remote templates and every other external relationship
// (web links too: their text stays, the link goes),
// macro sheets, custom UI callbacks, imported documents (altChunk), data
// connections, web queries, Power Query and externally fed pivot caches,
// together with every reference to what was removed and every part only
// they brought in, so that Office opens the result without a repair
// prompt. Word fields are judged by their whole instruction (all
// instruction runs, nested fields included; fields.go): only known inert
// fields stay, the others lose their code and keep their shown text.
// Binary workbooks (.xlsb) are refused. XML is edited by byte ranges,
// never re-encoded.
package ooxml

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"mugai/sanitize/archive"
	"mugai/sanitize/format"
)

// Types lists the detected types the disarmer and extractor take.
var Types = []string{
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"application/vnd.ms-word.document.macroenabled.12",
	"application/vnd.ms-excel.sheet.macroenabled.12",
	"application/vnd.ms-powerpoint.presentation.macroenabled.12",
}

// Disarmer rebuilds OOXML documents without active content.
type Disarmer struct {
	Limits archive.Limits
}

var _ format.Sanitizer = (*Disarmer)(nil)

// Name implements format.Sanitizer.
func (d *Disarmer) Name() string { return "ooxml" }

// removablePart reports parts that are active content or pull it in.
func removablePart(name string) (what string, ok bool) {
	n := strings.ToLower(name)
	base := path.Base(n)
	switch {
	case strings.HasPrefix(base, "vbaproject") || strings.HasPrefix(base, "vbadata") || strings.HasSuffix(base, ".bin") && strings.Contains(n, "vba"):
		return "VBA macros", true
	case strings.Contains(n, "/activex/"):
		return "ActiveX controls", true
	case strings.Contains(n, "/embeddings/"):
		return "embedded objects", true
	case strings.HasPrefix(n, "xl/externallinks/"):
		return "links to other workbooks", true
	case strings.HasPrefix(n, "xl/macrosheets/") || strings.HasPrefix(n, "xl/dialogsheets/"):
		return "Excel 4 macro sheets", true
	case strings.HasPrefix(n, "customui/") || strings.HasPrefix(n, "usercustomization/"):
		return "custom ribbon with macro callbacks", true
	case strings.HasSuffix(base, "attachedtoolbars.bin"):
		return "VBA macros", true
	case n == "xl/connections.xml" || strings.HasPrefix(n, "xl/querytables/"):
		return whatData, true
	case strings.HasPrefix(n, "xl/model/"):
		return whatPowerQuery, true
	}
	return "", false
}

// activeContent reports parts that are active by what they hold: Power
// Query (a DataMashup in a custom XML item), and pivot caches fed by a
// connection or an outside source rather than a sheet of the workbook.
func activeContent(m *archive.Member) (what string, ok bool) {
	n := strings.ToLower(m.Name)
	switch {
	case strings.HasPrefix(n, "customxml/") && holdsWord(m.Data, "DataMashup"):
		return whatPowerQuery, true
	case strings.HasPrefix(n, "xl/pivotcache/") && strings.HasSuffix(n, ".xml") && strings.Contains(path.Base(n), "definition"):
		external := false
		err := eachStart(m.Data, func(t xml.StartElement) error {
			if t.Name.Local == "cacheSource" && (attr(t, "type") != "worksheet" || attr(t, "connectionId") != "") {
				external = true
			}
			return nil
		})
		if external || err != nil {
			return whatData, true
		}
	}
	return "", false
}

// macroTypes maps macro-enabled content types to their plain forms.
var macroTypes = map[string]string{
	"application/vnd.ms-word.document.macroEnabled.main+xml":                       "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
	"application/vnd.ms-word.template.macroEnabledTemplate.main+xml":               "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
	"application/vnd.ms-excel.sheet.macroEnabled.main+xml":                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
	"application/vnd.ms-excel.template.macroEnabled.main+xml":                      "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
	"application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml":             "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
	"application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml":                "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml",
	"application/vnd.ms-powerpoint.template.macroEnabled.main+xml":                 "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml",
	"application/vnd.ms-powerpoint.addin.macroEnabled.main+xml":                    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
	"application/vnd.ms-word.document.macroEnabled.12":                             "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/vnd.ms-excel.sheet.macroEnabled.12":                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.ms-powerpoint.presentation.macroEnabled.12":                   "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"application/vnd.ms-office.vbaProject":                                         "",
	"application/vnd.ms-office.activeX+xml":                                        "",
	"application/vnd.ms-excel.macrosheet+xml":                                      "",
	"application/vnd.ms-excel.intlmacrosheet+xml":                                  "",
	"application/vnd.ms-word.vbaData+xml":                                          "",
	"application/vnd.ms-office.vbaProjectSignature":                                "",
	"application/vnd.openxmlformats-officedocument.oleObject":                      "",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml": "",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.connections+xml":  "",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.queryTable+xml":   "",
}

// ddeFormula matches spreadsheet formulas that call another program.
// An application name right before "|" ("cmd|'/c calc'!A0", "cmd|calc!A0")
// is a DDE call; a "|" inside a string literal ("a"&"|"&"b") is not.
var ddeFormula = regexp.MustCompile(`(?i)(^|[^a-z0-9_"])[a-z0-9_.]+\s*\||\bDDE(AUTO)?\b|\bMSEXCEL\|`)

// fetchFormula matches spreadsheet functions that fetch from the network,
// call a program or make a live link.
var fetchFormula = regexp.MustCompile(`(?i)(^|[^a-z0-9_])(WEBSERVICE|RTD|CALL|REGISTER|REGISTER\.ID|EXEC|HYPERLINK|IMAGE)\s*\(`)

// holdsWord looks for an ASCII word in UTF-8, UTF-16LE and UTF-16BE text
// (Excel writes its Power Query item in UTF-16).
func holdsWord(data []byte, w string) bool {
	le, be := make([]byte, 0, 2*len(w)), make([]byte, 0, 2*len(w))
	for i := 0; i < len(w); i++ {
		le, be = append(le, w[i], 0), append(be, 0, w[i])
	}
	return bytes.Contains(data, []byte(w)) || bytes.Contains(data, le) || bytes.Contains(data, be)
}

// errBinary: the binary workbook (.xlsb) keeps its sheets in BIFF12
// records this package does not read, so it is not disarmed.
var errBinary = errors.New("ooxml: binary workbook (.xlsb) is not disarmed")

// isBinaryWorkbook reports an .xlsb package.
func isBinaryWorkbook(doc *document) bool {
	ct := doc.part("[Content_Types].xml")
	return doc.part("xl/workbook.bin") != nil || ct != nil && bytes.Contains(bytes.ToLower(ct.Data), []byte("sheet.binary"))
}

// Sanitize implements format.Sanitizer.
func (d *Disarmer) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (format.Verdict, error) {
	lim := d.Limits
	lim.Budget = p.Budget // the package's members are taken before they are inflated
	doc, err := load(in, lim)
	if err != nil {
		return format.Verdict{}, err
	}
	if isBinaryWorkbook(doc) {
		return format.Verdict{}, errBinary
	}
	graph, err := readRels(doc)
	if err != nil {
		return format.Verdict{}, err
	}
	r := &removal{
		doc: doc, graph: graph,
		removed: map[string]int{}, gone: map[string]bool{},
		droppedIDs: map[string]map[string]bool{}, unlinkedIDs: map[string]map[string]bool{},
	}
	// The disarm in steps (removal.go): 1. the parts that go, 2. relationships,
	// 3. content parts, 4. content types.
	r.markGone()
	if err := r.cleanRels(); err != nil {
		return format.Verdict{}, err
	}
	if err := r.cleanContent(ctx); err != nil {
		return format.Verdict{}, err
	}
	r.removed[whatAltChunk] += max(r.altChunks, r.altChunkParts)
	kept, err := r.keptMembers()
	if err != nil {
		return format.Verdict{}, err
	}
	// 5. Write what is left, and check it before anyone sees it.
	if err := verify(kept); err != nil {
		return format.Verdict{}, err
	}
	if err := archive.Write(out, kept); err != nil {
		return format.Verdict{}, err
	}
	return verdict(p, r.removed), nil
}

// verdict reports the plain type and what was removed, and renames a
// macro-enabled file (.docm, .xlsm, .pptm) to its plain extension.
func verdict(p format.Part, removed map[string]int) format.Verdict {
	v := format.Verdict{Type: plainType(p.SniffedType), Notes: []format.Note{describe(removed)}}
	if ext := path.Ext(p.Filename); strings.HasSuffix(strings.ToLower(ext), "m") && len(ext) == 5 {
		v.Filename = strings.TrimSuffix(p.Filename, ext) + ext[:4] + "x"
	}
	return v
}

// typeIs compares the end of a relationship type, ignoring case as
// package readers do.
func typeIs(typ, suffix string) bool {
	return len(typ) >= len(suffix) && strings.EqualFold(typ[len(typ)-len(suffix):], suffix)
}

// isActiveType reports relationship types that bring in active content.
func isActiveType(typ string) bool {
	for _, s := range []string{"/vbaProject", "/oleObject", "/package", "/control", "/activeXControl", "/externalLink", "/attachedTemplate", "/subDocument", "/frame", "/ui/extensibility", "/attachedToolbars", "/wordVbaData", "/xlMacrosheet", "/xlIntlMacrosheet", "/dialogsheet",
		"/aFChunk", "/connections", "/queryTable", "/powerPivotData", "/externalLinkPath", "/oleObjectLink"} {
		if typeIs(typ, s) {
			return true
		}
	}
	return false
}

func plainType(t string) string {
	for from, to := range macroTypes {
		if strings.EqualFold(from, t) && to != "" {
			return to
		}
	}
	return t
}

// removedKinds are the kinds of content the disarm counts, in the order
// the note names them, with their Japanese names.
var removedKinds = []struct{ en, ja string }{
	{"VBA macros", "VBA マクロ"},
	{"Excel 4 macro sheets", "Excel 4 マクロシート"},
	{"ActiveX controls", "ActiveX コントロール"},
	{"embedded objects", "埋め込みオブジェクト"},
	{"links to other workbooks", "他のブックへのリンク"},
	{"external links and remote templates", "外部リンク・外部テンプレート"},
	{whatWebLink, "Web ページへのリンク"},
	{"custom ribbon with macro callbacks", "マクロを呼ぶリボンの設定"},
	{whatDDE, "DDE のフィールドと数式"},
	{whatInclude, "ファイルやアドレスを読み込むフィールド（INCLUDEPICTURE・INCLUDETEXT・LINK など）"},
	{whatOddLink, "ファイル・共有フォルダ・プログラムへのリンク"},
	{whatOddField, "他のフィールドで組み立てられた、または解釈できないフィールド（表示されている文字は残しました）"},
	{whatAltChunk, "取り込まれた文書（altChunk）"},
	{whatData, "データ接続・Web クエリ・外部データ"},
	{whatPowerQuery, "Power Query とデータモデル"},
	{whatFormula, "データを取得したりリンクを開いたりする数式"},
}

// describe is the note on what was removed: each kind with its count, in
// Japanese and English.
func describe(removed map[string]int) format.Note {
	var ja, en []string
	for _, k := range removedKinds {
		if n := removed[k.en]; n > 0 {
			ja = append(ja, fmt.Sprintf("%s %d 件", k.ja, n))
			en = append(en, fmt.Sprintf("%s (%d)", k.en, n))
		}
	}
	if len(en) == 0 {
		return format.Note{JA: "動作する内容は見つかりませんでした。ファイルは作り直しました。",
			EN: "Nothing active was found; the package was rewritten."}
	}
	return format.Note{JA: "次の動作する内容を取り除きました: " + strings.Join(ja, "、") + "。",
		EN: "Removed: " + strings.Join(en, ", ") + "."}
}
