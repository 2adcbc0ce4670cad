package ooxml

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"path"
	"strings"

	"mugai/sanitize/archive"
)

// removal is one package's disarm in progress: the parts that go, the
// relationships whose references go, and what was removed, counted by
// the kind the verdict names.
type removal struct {
	doc     *document
	graph   map[string][]rel
	removed map[string]int
	// gone is keyed by lower-case part name (part names are
	// case-insensitive).
	gone        map[string]bool
	droppedIDs  map[string]map[string]bool // source part → relationship ids whose element goes
	unlinkedIDs map[string]map[string]bool // source part → hyperlink ids: only the reference goes
	// altChunks counts altChunk elements removed, altChunkParts the
	// parts they imported; the verdict reports the larger.
	altChunks, altChunkParts int
}

// markGone is step 1. Parts that are active content, by name, by
// content, by the relationship that brings them in (altChunk imports,
// connections, query tables, the data model), pivot tables whose cache
// goes, and then everything that only they made part of the document.
func (r *removal) markGone() {
	r.markActiveParts()
	r.markByRelationship()
	r.markPivotTables()
	r.markUnreachable()
}

// markActiveParts marks the parts that are active by name or content.
func (r *removal) markActiveParts() {
	for _, m := range r.doc.members {
		what, ok := removablePart(m.Name)
		if !ok {
			what, ok = activeContent(m)
		}
		if ok {
			r.gone[strings.ToLower(m.Name)] = true
			r.removed[what]++
		}
	}
}

// markByRelationship marks the parts brought in by a relationship of an
// active kind (altChunk imports, connections, query tables, the data
// model), and pivot caches fed from outside.
func (r *removal) markByRelationship() {
	for source, rs := range r.graph {
		for _, rl := range rs {
			if rl.external {
				if strings.HasPrefix(source, "xl/pivotcache/") && !r.gone[source] { // a cache fed from outside
					r.gone[source] = true
					r.removed[whatData]++
				}
				continue
			}
			if r.doc.part(rl.target) == nil || r.gone[rl.target] {
				continue
			}
			switch {
			case typeIs(rl.typ, "/aFChunk"):
				r.gone[rl.target] = true
				r.altChunkParts++
			case typeIs(rl.typ, "/connections") || typeIs(rl.typ, "/queryTable"):
				r.gone[rl.target] = true
				r.removed[whatData]++
			case typeIs(rl.typ, "/powerPivotData"):
				r.gone[rl.target] = true
				r.removed[whatPowerQuery]++
			}
		}
	}
}

// markPivotTables marks the pivot tables over a removed cache: they go
// with it.
func (r *removal) markPivotTables() {
	for changed := true; changed; {
		changed = false
		for source, rs := range r.graph {
			if !strings.HasPrefix(source, "xl/pivottables/") || r.gone[source] {
				continue
			}
			for _, rl := range rs {
				if !rl.external && r.gone[rl.target] {
					r.gone[source], changed = true, true
					break
				}
			}
		}
	}
}

// markUnreachable marks the parts reachable only through what was
// removed, and the relationships parts of every removed part.
func (r *removal) markUnreachable() {
	before, after := reach(r.doc, r.graph, nil), reach(r.doc, r.graph, r.gone)
	for name := range before {
		if !after[name] {
			r.gone[name] = true // reachable only through what was removed
		}
	}
	for name := range r.gone {
		r.gone[strings.ToLower(relsOf(name))] = true
	}
}

// cleanRels is step 2. Relationships: every external one (hyperlinks
// included) and those to removed parts.
func (r *removal) cleanRels() error {
	var err error
	for _, m := range r.doc.members {
		if !strings.HasSuffix(m.Name, ".rels") || r.gone[strings.ToLower(m.Name)] {
			continue
		}
		source := relsSource(m.Name)
		ids, links := map[string]bool{}, map[string]bool{}
		ps := &pass{element: r.relationship(source, ids, links)}
		if m.Data, err = ps.run(m.Data); err != nil {
			return fmt.Errorf("ooxml: %s: %w", m.Name, err)
		}
		r.droppedIDs[strings.ToLower(source)], r.unlinkedIDs[strings.ToLower(source)] = ids, links
	}
	return nil
}

// relationship judges the Relationship elements of source's
// relationships part: an external hyperlink goes and its id joins links
// (only the reference to it goes); any other external relationship, and
// one to a removed part or of an active type, goes and its id joins ids
// (the element that refers to it goes).
func (r *removal) relationship(source string, ids, links map[string]bool) func(xml.StartElement, []string) edit {
	return func(t xml.StartElement, _ []string) edit {
		if t.Name.Local != "Relationship" {
			return keep
		}
		typ, target := attr(t, "Type"), attr(t, "Target")
		external := strings.EqualFold(attr(t, "TargetMode"), "External")
		switch {
		case external && typeIs(typ, "/hyperlink"):
			links[attr(t, "Id")] = true
			r.removed[whatWebLink]++
			return dropElement
		case external:
			r.removed["external links and remote templates"]++
		case r.gone[strings.ToLower(resolve(source, target))] || isActiveType(typ):
		default:
			return keep
		}
		ids[attr(t, "Id")] = true
		return dropElement
	}
}

// cleanContent is step 3. Content parts: fields judged whole, references
// to dropped relationships, imported documents, connections, DDE and
// fetching formulas.
func (r *removal) cleanContent(ctx context.Context) error {
	for _, m := range r.doc.members {
		lower := strings.ToLower(m.Name)
		if r.gone[lower] || !strings.HasSuffix(lower, ".xml") || m.Name == "[Content_Types].xml" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.cleanPart(m, lower); err != nil {
			return err
		}
	}
	return nil
}

// cleanPart disarms one content part, lower its lower-case name.
func (r *removal) cleanPart(m *archive.Member, lower string) error {
	var fields map[string]int
	var err error
	if m.Data, fields, err = disarmFields(m.Data); err != nil {
		return fmt.Errorf("ooxml: %s: %w", m.Name, err)
	}
	for what, n := range fields {
		r.removed[what] += n
	}
	ps := &pass{
		dropAttrs: unlinkAttrs(r.unlinkedIDs[lower], strings.HasPrefix(lower, "xl/tables/")),
		ancestors: []string{"object", "oleObjects", "controls", "externalReferences", "graphicFrame", "ext", "cfRule", "dataValidation"},
		element:   r.contentElement(r.droppedIDs[lower]),
		dropText:  r.formula,
	}
	if m.Data, err = ps.run(m.Data); err != nil {
		return fmt.Errorf("ooxml: %s: %w", m.Name, err)
	}
	if m.Data, err = dropEmpty(m.Data, "pivotCaches"); err != nil {
		return fmt.Errorf("ooxml: %s: %w", m.Name, err)
	}
	return nil
}

// unlinkAttrs names the attributes to cut from a start tag: references
// to the hyperlinks in links and, in a table part, its query table and
// connection.
func unlinkAttrs(links map[string]bool, table bool) func(xml.StartElement) []string {
	return func(t xml.StartElement) []string {
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
	}
}

// contentElement judges the elements of a content part: one that refers
// to a relationship in ids loses its container, and remote templates,
// DDE and OLE links, imported documents, data sources and the data
// model go.
func (r *removal) contentElement(ids map[string]bool) func(xml.StartElement, []string) edit {
	return func(t xml.StartElement, _ []string) edit {
		for _, a := range t.Attr {
			if a.Name.Space == "r" && ids[a.Value] {
				return dropAncestor
			}
		}
		switch t.Name.Local {
		case "attachedTemplate", "ddeLink", "oleLink":
			return dropElement
		case "altChunk":
			r.altChunks++
			return dropElement
		case "webPublishItems", "webPublishObjects", "DataBinding", "mailMerge":
			r.removed[whatData]++
			return dropElement
		case "dataModel":
			return dropAncestor
		}
		return keep
	}
}

// formula is the dropText of a content part.
// Formulas live in cells (f), in defined names, in
// conditional formats and data validations (formula,
// formula1, formula2; the x14 forms too): a formula that
// calls a program or fetches is removed wherever it is; a
// rule or validation loses the whole rule.
func (r *removal) formula(parent string, data []byte) edit {
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
		r.removed[whatDDE]++
	case fetchFormula.Match(data):
		r.removed[whatFormula]++
	default:
		return keep
	}
	return how
}

// keptMembers is step 4: it returns copies of the members that stay,
// with the content types edited (contentTypes).
func (r *removal) keptMembers() ([]archive.Member, error) {
	var kept []archive.Member
	exts, goneExts := map[string]bool{}, map[string]bool{}
	for _, m := range r.doc.members {
		ext := strings.TrimPrefix(strings.ToLower(path.Ext(m.Name)), ".")
		if r.gone[strings.ToLower(m.Name)] {
			goneExts[ext] = true
		} else {
			kept = append(kept, *m)
			exts[ext] = true
		}
	}
	ct := r.doc.part("[Content_Types].xml")
	var err error
	if ct.Data, err = r.contentTypes(ct.Data, exts, goneExts); err != nil {
		return nil, fmt.Errorf("ooxml: content types: %w", err)
	}
	for i := range kept { // kept holds copies made before the edit above
		if kept[i].Name == ct.Name {
			kept[i].Data = ct.Data
		}
	}
	return kept, nil
}

// contentTypes edits [Content_Types].xml: no entry for removed parts or
// for extensions only they had (in goneExts, not in exts), no
// macro-enabled types.
func (r *removal) contentTypes(src []byte, exts, goneExts map[string]bool) ([]byte, error) {
	ps := &pass{element: func(t xml.StartElement, _ []string) edit {
		if t.Name.Local == "Override" && r.gone[strings.ToLower(strings.TrimPrefix(attr(t, "PartName"), "/"))] {
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
	data, err := ps.run(src)
	if err != nil {
		return nil, err
	}
	for from, to := range macroTypes {
		if to != "" {
			data = bytes.ReplaceAll(data, []byte(`"`+from+`"`), []byte(`"`+to+`"`))
		}
	}
	return data, nil
}
