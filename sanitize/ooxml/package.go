package ooxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"mugai/sanitize/archive"
	"mugai/sanitize/format"
)

var errNotOOXML = errors.New("ooxml: not an OOXML package")

// document is an unpacked OOXML package.
type document struct {
	members []*archive.Member
}

func load(in io.Reader, lim archive.Limits) (*document, error) {
	data, err := format.ReadAll(in, 256<<20)
	if err != nil {
		return nil, fmt.Errorf("ooxml: %w", err)
	}
	ms, err := archive.Read(data, lim)
	if err != nil {
		return nil, err
	}
	doc := &document{}
	for i := range ms {
		doc.members = append(doc.members, &ms[i])
	}
	if doc.part("[Content_Types].xml") == nil {
		return nil, errNotOOXML
	}
	return doc, nil
}

// part returns a member by name (part names are case-insensitive).
func (d *document) part(name string) *archive.Member {
	for _, m := range d.members {
		if strings.EqualFold(m.Name, name) {
			return m
		}
	}
	return nil
}

// relsSource returns the part a relationships part belongs to:
// word/_rels/document.xml.rels → word/document.xml; _rels/.rels → "".
func relsSource(rels string) string {
	dir, file := path.Split(rels)
	dir = strings.TrimSuffix(strings.TrimSuffix(dir, "/"), "_rels")
	return strings.TrimPrefix(path.Join(dir, strings.TrimSuffix(file, ".rels")), "/")
}

// resolve turns a relationship target into a part name.
func resolve(source, target string) string {
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(path.Clean(target), "/")
	}
	return strings.TrimPrefix(path.Join(path.Dir(source), target), "/")
}

// verify checks the rebuilt package: every XML part parses, no
// relationship is external, no internal relationship points
// at a missing part, no r: attribute refers to a relationship that is not
// there, and no content type is macro-enabled. These are what make Office
// show a repair prompt, or what we meant to remove.
func verify(members []archive.Member) error {
	parts := map[string]bool{}
	for _, m := range members {
		parts[strings.ToLower(m.Name)] = true
	}
	ids := map[string]map[string]bool{}
	for _, m := range members {
		if err := verifyMember(m); err != nil {
			return err
		}
		if !strings.HasSuffix(m.Name, ".rels") {
			continue
		}
		set, err := verifyRels(m, parts)
		if err != nil {
			return err
		}
		ids[strings.ToLower(relsSource(m.Name))] = set
	}
	for _, m := range members {
		if err := verifyContent(m, ids); err != nil {
			return err
		}
	}
	return nil
}

// verifyMember checks that an XML or relationships part parses and that
// no member is one the disarm removes.
func verifyMember(m archive.Member) error {
	if strings.HasSuffix(strings.ToLower(m.Name), ".xml") || strings.HasSuffix(m.Name, ".rels") {
		if err := wellFormed(m.Data); err != nil {
			return fmt.Errorf("ooxml: %s no longer parses: %w", m.Name, err)
		}
	}
	if _, bad := removablePart(m.Name); bad {
		return fmt.Errorf("ooxml: %s survived", m.Name)
	}
	if _, bad := activeContent(&m); bad {
		return fmt.Errorf("ooxml: %s survived", m.Name)
	}
	return nil
}

// verifyRels checks a relationships part: no external or active
// relationship, none to a part not in parts. It returns the ids of its
// relationships.
func verifyRels(m archive.Member, parts map[string]bool) (map[string]bool, error) {
	source := relsSource(m.Name)
	set := map[string]bool{}
	err := eachStart(m.Data, func(t xml.StartElement) error {
		if t.Name.Local != "Relationship" {
			return nil
		}
		set[attr(t, "Id")] = true
		external := strings.EqualFold(attr(t, "TargetMode"), "External")
		switch {
		case external:
			return fmt.Errorf("ooxml: external relationship left in %s", m.Name)
		case isActiveType(attr(t, "Type")):
			return fmt.Errorf("ooxml: active relationship left in %s", m.Name)
		case !external && !parts[strings.ToLower(resolve(source, attr(t, "Target")))]:
			return fmt.Errorf("ooxml: %s points at missing %s", m.Name, attr(t, "Target"))
		}
		return nil
	})
	return set, err
}

// verifyContent checks the content types for macro-enabled ones, and an
// XML part for active fields, imported documents and references to
// relationships not in its ids (keyed by lower-case source part).
func verifyContent(m archive.Member, ids map[string]map[string]bool) error {
	lower := strings.ToLower(m.Name)
	if m.Name == "[Content_Types].xml" {
		if bytes.Contains(bytes.ToLower(m.Data), []byte("macroenabled")) || bytes.Contains(m.Data, []byte("vbaProject")) {
			return errors.New("ooxml: macro content types left")
		}
		return nil
	}
	if !strings.HasSuffix(lower, ".xml") {
		return nil
	}
	if hasFields(m.Data) {
		spans, _, err := scanFields(m.Data)
		if err != nil || len(spans) > 0 {
			return fmt.Errorf("ooxml: %s still holds fields that fetch or build content", m.Name)
		}
	}
	set := ids[lower]
	return eachStart(m.Data, func(t xml.StartElement) error {
		if t.Name.Local == "altChunk" {
			return fmt.Errorf("ooxml: %s still imports a document (altChunk)", m.Name)
		}
		for _, a := range t.Attr {
			if a.Name.Space == "r" && (a.Name.Local == "id" || a.Name.Local == "embed" || a.Name.Local == "link") && a.Value != "" && !set[a.Value] {
				return fmt.Errorf("ooxml: %s refers to missing relationship %s", m.Name, a.Value)
			}
		}
		return nil
	})
}

func eachStart(src []byte, fn func(xml.StartElement) error) error {
	d := xml.NewDecoder(bytes.NewReader(src))
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if t, ok := tok.(xml.StartElement); ok {
			if err := fn(t); err != nil {
				return err
			}
		}
	}
}

// rel is one relationship of the package graph; target is the resolved,
// lower-case part name for internal relationships.
type rel struct {
	id, typ, target string
	external        bool
}

// relsOf returns the relationships part of a part ("" is the package).
func relsOf(part string) string {
	dir, file := path.Split(part)
	return path.Join(dir, "_rels", file+".rels")
}

// readRels parses every relationships part, keyed by lower-case source.
func readRels(doc *document) (map[string][]rel, error) {
	out := map[string][]rel{}
	for _, m := range doc.members {
		if !strings.HasSuffix(strings.ToLower(m.Name), ".rels") {
			continue
		}
		source := relsSource(m.Name)
		var rs []rel
		err := eachStart(m.Data, func(t xml.StartElement) error {
			if t.Name.Local != "Relationship" {
				return nil
			}
			r := rel{id: attr(t, "Id"), typ: attr(t, "Type"), external: strings.EqualFold(attr(t, "TargetMode"), "External")}
			if !r.external {
				r.target = strings.ToLower(resolve(source, attr(t, "Target")))
			}
			rs = append(rs, r)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("ooxml: %s: %w", m.Name, err)
		}
		key := strings.ToLower(source)
		out[key] = append(out[key], rs...)
	}
	return out, nil
}

// reach returns the parts reachable from the package relationships. With
// gone, it walks the package as the disarm leaves it: no removed part,
// and no relationship of an active type.
func reach(doc *document, graph map[string][]rel, gone map[string]bool) map[string]bool {
	seen := map[string]bool{}
	queue := []string{""}
	for len(queue) > 0 {
		src := queue[0]
		queue = queue[1:]
		for _, r := range graph[src] {
			if r.external || seen[r.target] || doc.part(r.target) == nil {
				continue
			}
			if gone != nil && (gone[r.target] || isActiveType(r.typ)) {
				continue
			}
			seen[r.target] = true
			queue = append(queue, r.target)
		}
	}
	return seen
}
