// Package ooxml disarms and reads Office Open XML documents (docx, xlsx,
// pptx and their macro-enabled forms). Disarm removes what can act:
// VBA projects, ActiveX controls, embedded OLE objects and packages,
// external links, remote templates and every other external relationship
// (web links too: their text stays, the link goes),
// macro sheets, custom UI callbacks and DDE fields, together with every
// reference to what was removed, so that Office opens the result without a
// repair prompt. XML is edited by byte ranges, never re-encoded.
package ooxml

import (
	"bytes"
	"context"
	"encoding/xml"
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
	"application/vnd.ms-excel.sheet.binary.macroEnabled.main":                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
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
}

// ddeFormula matches spreadsheet formulas that call another program.
var ddeFormula = regexp.MustCompile(`(?i)(^|[^a-z0-9_])[a-z0-9_.]+\|'|\bDDE(AUTO)?\b|\bMSEXCEL\|`)

// Sanitize implements format.Sanitizer.
func (d *Disarmer) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (format.Verdict, error) {
	doc, err := load(in, d.Limits)
	if err != nil {
		return format.Verdict{}, err
	}
	removed := map[string]int{}
	// 1. Parts that are active content.
	gone := map[string]bool{}
	for _, m := range doc.members {
		if what, ok := removablePart(m.Name); ok {
			gone[m.Name] = true
			removed[what]++
		}
	}
	// 2. Relationships: every external one (hyperlinks included) and those
	// to removed parts.
	droppedIDs := map[string]map[string]bool{}  // source part → relationship ids whose element goes
	unlinkedIDs := map[string]map[string]bool{} // source part → hyperlink ids: only the reference goes
	for _, m := range doc.members {
		if !strings.HasSuffix(m.Name, ".rels") || gone[m.Name] {
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
			case external && strings.HasSuffix(typ, "/hyperlink"):
				links[attr(t, "Id")] = true
				removed["links to web pages"]++
				return dropElement
			case external:
				removed["external links and remote templates"]++
			case gone[resolve(source, target)] || isActiveType(typ):
			default:
				return keep
			}
			ids[attr(t, "Id")] = true
			return dropElement
		}}
		if m.Data, err = ps.run(m.Data); err != nil {
			return format.Verdict{}, fmt.Errorf("ooxml: %s: %w", m.Name, err)
		}
		droppedIDs[source], unlinkedIDs[source] = ids, links
	}
	// 3. Content parts: references to dropped relationships, DDE.
	dde := 0
	for _, m := range doc.members {
		if gone[m.Name] || !strings.HasSuffix(strings.ToLower(m.Name), ".xml") || m.Name == "[Content_Types].xml" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return format.Verdict{}, err
		}
		ids, links := droppedIDs[m.Name], unlinkedIDs[m.Name]
		ps := &pass{
			dropAttrs: func(t xml.StartElement) []string {
				var drop []string
				for _, a := range t.Attr {
					if a.Name.Space == "r" && links[a.Value] {
						drop = append(drop, qname(a.Name))
					}
				}
				return drop
			},
			ancestors: []string{"object", "oleObjects", "controls", "externalReferences", "graphicFrame"},
			element: func(t xml.StartElement, stack []string) edit {
				for _, a := range t.Attr {
					if a.Name.Space == "r" && ids[a.Value] {
						return dropAncestor
					}
				}
				switch t.Name.Local {
				case "fldSimple":
					if ddeFormula.MatchString(attr(t, "instr")) {
						dde++
						return dropElement
					}
				case "attachedTemplate", "ddeLink", "oleLink":
					return dropElement
				}
				return keep
			},
			text: func(parent string, data []byte) (string, bool) {
				switch local(parent) {
				case "instrText":
					if ddeFormula.Match(data) {
						dde++
						return "", true
					}
				case "f":
					if ddeFormula.Match(data) {
						dde++
						return "", true
					}
				}
				return "", false
			},
		}
		if m.Data, err = ps.run(m.Data); err != nil {
			return format.Verdict{}, fmt.Errorf("ooxml: %s: %w", m.Name, err)
		}
	}
	if dde > 0 {
		removed["DDE fields and formulas"] += dde
	}
	// 4. Content types: no entry for removed parts, no macro-enabled types.
	ct := doc.part("[Content_Types].xml")
	ps := &pass{element: func(t xml.StartElement, _ []string) edit {
		if t.Name.Local == "Override" && gone[strings.TrimPrefix(attr(t, "PartName"), "/")] {
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
	// 5. Write what is left, and check it before anyone sees it.
	var kept []archive.Member
	for _, m := range doc.members {
		if !gone[m.Name] {
			kept = append(kept, *m)
		}
	}
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

// isActiveType reports relationship types that bring in active content.
func isActiveType(typ string) bool {
	for _, s := range []string{"/vbaProject", "/oleObject", "/package", "/control", "/activeXControl", "/externalLink", "/attachedTemplate", "/subDocument", "/frame", "/ui/extensibility", "/attachedToolbars", "/wordVbaData", "/xlMacrosheet", "/xlIntlMacrosheet", "/dialogsheet"} {
		if strings.HasSuffix(typ, s) {
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
	for _, what := range []string{"VBA macros", "Excel 4 macro sheets", "ActiveX controls", "embedded objects", "links to other workbooks", "external links and remote templates", "links to web pages", "custom ribbon with macro callbacks", "DDE fields and formulas"} {
		if n := removed[what]; n > 0 {
			out = append(out, fmt.Sprintf("%s (%d)", what, n))
		}
	}
	if len(out) == 0 {
		out = append(out, "nothing active was found; the package was rewritten")
	}
	return out
}
