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
	removed := map[string]int{}
	// 1. Parts that are active content, by name, by content, by the
	// relationship that brings them in (altChunk imports, connections,
	// query tables, the data model), pivot tables whose cache goes, and
	// then everything that only they made part of the document. gone is
	// keyed by lower-case part name (part names are case-insensitive).
	gone := map[string]bool{}
	for _, m := range doc.members {
		what, ok := removablePart(m.Name)
		if !ok {
			what, ok = activeContent(m)
		}
		if ok {
			gone[strings.ToLower(m.Name)] = true
			removed[what]++
		}
	}
	altChunkParts := 0
	for source, rs := range graph {
		for _, r := range rs {
			if r.external {
				if strings.HasPrefix(source, "xl/pivotcache/") && !gone[source] { // a cache fed from outside
					gone[source] = true
					removed[whatData]++
				}
				continue
			}
			if doc.part(r.target) == nil || gone[r.target] {
				continue
			}
			switch {
			case typeIs(r.typ, "/aFChunk"):
				gone[r.target] = true
				altChunkParts++
			case typeIs(r.typ, "/connections") || typeIs(r.typ, "/queryTable"):
				gone[r.target] = true
				removed[whatData]++
			case typeIs(r.typ, "/powerPivotData"):
				gone[r.target] = true
				removed[whatPowerQuery]++
			}
		}
	}
	for changed := true; changed; { // pivot tables over a removed cache go with it
		changed = false
		for source, rs := range graph {
			if !strings.HasPrefix(source, "xl/pivottables/") || gone[source] {
				continue
			}
			for _, r := range rs {
				if !r.external && gone[r.target] {
					gone[source], changed = true, true
					break
				}
			}
		}
	}
	before, after := reach(doc, graph, nil), reach(doc, graph, gone)
	for name := range before {
		if !after[name] {
			gone[name] = true // reachable only through what was removed
		}
	}
	for name := range gone {
		gone[strings.ToLower(relsOf(name))] = true
	}
	// 2. Relationships: every external one (hyperlinks included) and those
	// to removed parts.
	droppedIDs := map[string]map[string]bool{}  // source part → relationship ids whose element goes
	unlinkedIDs := map[string]map[string]bool{} // source part → hyperlink ids: only the reference goes
	for _, m := range doc.members {
		if !strings.HasSuffix(m.Name, ".rels") || gone[strings.ToLower(m.Name)] {
			continue
		}
		source := relsSource(m.Name)
		ids, links := map[string]bool{}, map[string]bool{}
		ps := &pass{element: func(t xml.StartElement, _ []string) edit {
			if t.Name.Local != "Relationship" {
				return keep
			}
			typ, target := attr(t, "Type"), attr(t, "Target")
			external := strings.EqualFold(attr(t, "TargetMode"), "External")
			switch {
			case external && typeIs(typ, "/hyperlink"):
				links[attr(t, "Id")] = true
				removed[whatWebLink]++
				return dropElement
			case external:
				removed["external links and remote templates"]++
			case gone[strings.ToLower(resolve(source, target))] || isActiveType(typ):
			default:
				return keep
			}
			ids[attr(t, "Id")] = true
			return dropElement
		}}
		if m.Data, err = ps.run(m.Data); err != nil {
			return format.Verdict{}, fmt.Errorf("ooxml: %s: %w", m.Name, err)
		}
		droppedIDs[strings.ToLower(source)], unlinkedIDs[strings.ToLower(source)] = ids, links
	}
	// 3. Content parts: fields judged whole, references to dropped
	// relationships, imported documents, connections, DDE and fetching
	// formulas.
	altChunks := 0
	for _, m := range doc.members {
		lower := strings.ToLower(m.Name)
		if gone[lower] || !strings.HasSuffix(lower, ".xml") || m.Name == "[Content_Types].xml" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return format.Verdict{}, err
		}
		var fields map[string]int
		if m.Data, fields, err = disarmFields(m.Data); err != nil {
			return format.Verdict{}, fmt.Errorf("ooxml: %s: %w", m.Name, err)
		}
		for what, n := range fields {
			removed[what] += n
		}
		table := strings.HasPrefix(lower, "xl/tables/")
		ids, links := droppedIDs[lower], unlinkedIDs[lower]
		ps := &pass{
			dropAttrs: func(t xml.StartElement) []string {
				var drop []string
				for _, a := range t.Attr {
					switch {
					case a.Name.Space == "r" && links[a.Value]:
						drop = append(drop, qname(a.Name))
					case table && t.Name.Local == "table" && (a.Name.Local == "connectionId" || a.Name.Local == "tableType" && a.Value == "queryTable"):
						drop = append(drop, qname(a.Name))
					case table && t.Name.Local == "tableColumn" && a.Name.Local == "queryTableFieldId":
						drop = append(drop, qname(a.Name))
					}
				}
				return drop
			},
			ancestors: []string{"object", "oleObjects", "controls", "externalReferences", "graphicFrame", "ext", "cfRule", "dataValidation"},
			element: func(t xml.StartElement, stack []string) edit {
				for _, a := range t.Attr {
					if a.Name.Space == "r" && ids[a.Value] {
						return dropAncestor
					}
				}
				switch t.Name.Local {
				case "attachedTemplate", "ddeLink", "oleLink":
					return dropElement
				case "altChunk":
					altChunks++
					return dropElement
				case "webPublishItems", "webPublishObjects", "DataBinding", "mailMerge":
					removed[whatData]++
					return dropElement
				case "dataModel":
					return dropAncestor
				}
				return keep
			},
			// Formulas live in cells (f), in defined names, in
			// conditional formats and data validations (formula,
			// formula1, formula2; the x14 forms too): a formula that
			// calls a program or fetches is removed wherever it is; a
			// rule or validation loses the whole rule.
			dropText: func(parent string, data []byte) edit {
				how := dropElement
				switch local(parent) {
				case "f", "definedName":
					if strings.HasPrefix(parent, "xm:") { // x14 rules and validations hold xm:f
						how = dropAncestor
					}
				case "formula", "formula1", "formula2":
					how = dropAncestor
				default:
					return keep
				}
				switch {
				case ddeFormula.Match(data):
					removed[whatDDE]++
				case fetchFormula.Match(data):
					removed[whatFormula]++
				default:
					return keep
				}
				return how
			},
		}
		if m.Data, err = ps.run(m.Data); err != nil {
			return format.Verdict{}, fmt.Errorf("ooxml: %s: %w", m.Name, err)
		}
		if m.Data, err = dropEmpty(m.Data, "pivotCaches"); err != nil {
			return format.Verdict{}, fmt.Errorf("ooxml: %s: %w", m.Name, err)
		}
	}
	removed[whatAltChunk] += max(altChunks, altChunkParts)
	// 4. Content types: no entry for removed parts or for extensions only
	// they had, no macro-enabled types.
	var kept []archive.Member
	exts, goneExts := map[string]bool{}, map[string]bool{}
	for _, m := range doc.members {
		ext := strings.TrimPrefix(strings.ToLower(path.Ext(m.Name)), ".")
		if gone[strings.ToLower(m.Name)] {
			goneExts[ext] = true
		} else {
			kept = append(kept, *m)
			exts[ext] = true
		}
	}
	ct := doc.part("[Content_Types].xml")
	ps := &pass{element: func(t xml.StartElement, _ []string) edit {
		if t.Name.Local == "Override" && gone[strings.ToLower(strings.TrimPrefix(attr(t, "PartName"), "/"))] {
			return dropElement
		}
		if ext := strings.ToLower(attr(t, "Extension")); t.Name.Local == "Default" && goneExts[ext] && !exts[ext] {
			return dropElement
		}
		if to, ok := macroTypes[attr(t, "ContentType")]; ok && to == "" {
			return dropElement
		}
		return keep
	}}
	if ct.Data, err = ps.run(ct.Data); err != nil {
		return format.Verdict{}, fmt.Errorf("ooxml: content types: %w", err)
	}
	for from, to := range macroTypes {
		if to != "" {
			ct.Data = bytes.ReplaceAll(ct.Data, []byte(`"`+from+`"`), []byte(`"`+to+`"`))
		}
	}
	for i := range kept { // kept holds copies made before the edit above
		if kept[i].Name == ct.Name {
			kept[i].Data = ct.Data
		}
	}
	// 5. Write what is left, and check it before anyone sees it.
	if err := verify(kept); err != nil {
		return format.Verdict{}, err
	}
	if err := archive.Write(out, kept); err != nil {
		return format.Verdict{}, err
	}
	v := format.Verdict{Type: plainType(p.SniffedType), Removed: describe(removed)}
	if ext := path.Ext(p.Filename); strings.HasSuffix(strings.ToLower(ext), "m") && len(ext) == 5 {
		v.Filename = strings.TrimSuffix(p.Filename, ext) + ext[:4] + "x"
	}
	return v, nil
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

func describe(removed map[string]int) []string {
	var out []string
	for _, what := range []string{"VBA macros", "Excel 4 macro sheets", "ActiveX controls", "embedded objects", "links to other workbooks", "external links and remote templates", whatWebLink, "custom ribbon with macro callbacks", whatDDE,
		whatInclude, whatOddLink, whatOddField, whatAltChunk, whatData, whatPowerQuery, whatFormula} {
		if n := removed[what]; n > 0 {
			out = append(out, fmt.Sprintf("%s (%d)", what, n))
		}
	}
	if len(out) == 0 {
		out = append(out, "nothing active was found; the package was rewritten")
	}
	return out
}
