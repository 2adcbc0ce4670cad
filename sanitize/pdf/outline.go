package pdf

import (
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// outlineLinks are the keys that tie bookmarks together.
var outlineLinks = []string{"First", "Next", "Last", "Prev", "Parent"}

// cleanOutline rebuilds the bookmark tree (the catalog's /Outlines).
//
// Every node reachable over /First, /Next, /Last, /Prev and /Parent is
// visited, iteratively and at most maxOutlineItems of them; a node that is
// not a bookmark (the catalog, a page, anything with another /Type), a
// direct link, too many nodes or too deep a tree remove the outline whole.
// The tree is then the one /First and /Next describe (a node reached twice
// that way, a cycle, removes the outline whole); /Last, /Prev and /Parent
// are written again from it, so nodes reachable only through them are
// dropped. Each bookmark keeps /Title, /Count, /C, /F and either a /Dest
// or an /A to a page of this document (or a kept named or web link);
// everything else is removed and counted.
func (s *scrubber) cleanOutline(cat types.Dict) error {
	xt := s.xt
	ro, ok := cat["Outlines"]
	if !ok {
		return nil
	}
	drop := func(why string) {
		cat.Delete("Outlines")
		s.removed["bookmarks, whole ("+why+")"]++
	}
	rootRef, ok := ro.(types.IndirectRef)
	if !ok {
		drop("malformed")
		return nil
	}
	rootNr := int(rootRef.ObjectNumber)

	// 1. The whole graph, to bound it and to refuse non-bookmarks.
	nodes := map[int]types.Dict{}
	queue := []types.IndirectRef{rootRef}
	for len(queue) > 0 {
		if err := s.c.step(); err != nil {
			return err
		}
		ref := queue[0]
		queue = queue[1:]
		nr := int(ref.ObjectNumber)
		if _, seen := nodes[nr]; seen {
			continue
		}
		if len(nodes) > maxOutlineItems {
			drop("more than the limit of bookmarks")
			return nil
		}
		d, err := xt.DereferenceDict(ref)
		if err != nil || d == nil {
			drop("malformed")
			return nil
		}
		if t := nameOf(d["Type"]); t != "" && !(t == "Outlines" && nr == rootNr) {
			drop("malformed")
			return nil
		}
		nodes[nr] = d
		for _, k := range outlineLinks {
			v, ok := d[k]
			if !ok || v == nil {
				continue
			}
			r, ok := v.(types.IndirectRef)
			if !ok {
				drop("malformed")
				return nil
			}
			queue = append(queue, r)
		}
	}

	// 2. The tree /First and /Next describe.
	type item struct {
		ref      types.IndirectRef
		d        types.Dict
		parent   types.IndirectRef
		children []int // indexes into items
	}
	items := []item{{ref: rootRef, d: nodes[rootNr]}}
	inTree := map[int]bool{rootNr: true}
	type visit struct {
		next   types.Object
		parent int
		depth  int
	}
	stack := []visit{{nodes[rootNr]["First"], 0, 1}}
	for len(stack) > 0 {
		if err := s.c.step(); err != nil {
			return err
		}
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if v.next == nil {
			continue
		}
		ref := v.next.(types.IndirectRef) // checked in 1.
		nr := int(ref.ObjectNumber)
		if inTree[nr] {
			drop("a cycle")
			return nil
		}
		if v.depth > maxOutlineDepth {
			drop("nested too deep")
			return nil
		}
		inTree[nr] = true
		items = append(items, item{ref: ref, d: nodes[nr], parent: items[v.parent].ref})
		idx := len(items) - 1
		items[v.parent].children = append(items[v.parent].children, idx)
		// Siblings after this one, then its children (popped first).
		stack = append(stack, visit{nodes[nr]["Next"], v.parent, v.depth}, visit{nodes[nr]["First"], idx, v.depth + 1})
	}
	if n := len(nodes) - len(inTree); n > 0 {
		s.removed["bookmarks outside the bookmark tree"] += n
	}
	if len(items) == 1 {
		cat.Delete("Outlines")
		return nil
	}

	// 3. Each item rewritten in place (other references see the same
	// object), then linked again.
	for i, it := range items {
		if err := s.c.step(); err != nil {
			return err
		}
		old := types.Dict{}
		for k, v := range it.d {
			old[k] = v
			delete(it.d, k)
		}
		if i == 0 {
			it.d["Type"] = types.Name("Outlines")
			if c, ok := s.integer(old["Count"]); ok {
				it.d["Count"] = c
			}
		} else {
			s.keepItem(it.d, old)
			it.d["Parent"] = it.parent
		}
	}
	for _, it := range items {
		if len(it.children) > 0 {
			it.d["First"] = items[it.children[0]].ref
			it.d["Last"] = items[it.children[len(it.children)-1]].ref
		}
		for j, c := range it.children {
			if j > 0 {
				items[c].d["Prev"] = items[it.children[j-1]].ref
			}
			if j+1 < len(it.children) {
				items[c].d["Next"] = items[it.children[j+1]].ref
			}
		}
	}
	return nil
}

// keepItem copies what a bookmark may keep from old into d and counts
// what it may not.
func (s *scrubber) keepItem(d, old types.Dict) {
	xt := s.xt
	for k, v := range old {
		switch k {
		case "First", "Next", "Last", "Prev", "Parent":
			// written again from the tree
		case "Title":
			if t, err := xt.Dereference(v); err == nil {
				switch t.(type) {
				case types.StringLiteral, types.HexLiteral:
					d["Title"] = t
				}
			}
		case "Count", "F":
			if n, ok := s.integer(v); ok {
				d[k] = n
			}
		case "C":
			if a, err := xt.DereferenceArray(v); err == nil && len(a) == 3 && numbers(a) {
				d["C"] = append(types.Array(nil), a...)
			}
		case "Dest":
			if dest := s.ds.resolve(v); dest != nil {
				d["Dest"] = dest
			} else {
				s.removed["links to destinations outside the document (bookmarks)"]++
			}
		case "A":
			if _, hasDest := old["Dest"]; hasDest {
				s.removed["actions (bookmarks)"]++
				continue
			}
			if act, what := sanitizeAction(xt, v, s.keepURI, s.ds); act != nil {
				d["A"] = act
			} else {
				s.removed[what+" (bookmarks)"]++
			}
		case "SE":
			s.removed["links to structure elements (bookmarks)"]++
		default:
			s.removed["other bookmark entries"]++
		}
	}
}

func (s *scrubber) integer(o types.Object) (types.Integer, bool) {
	v, err := s.xt.Dereference(o)
	if err != nil {
		return 0, false
	}
	n, ok := v.(types.Integer)
	return n, ok
}

func numbers(a types.Array) bool {
	for _, x := range a {
		switch x.(type) {
		case types.Integer, types.Float:
		default:
			return false
		}
	}
	return true
}
