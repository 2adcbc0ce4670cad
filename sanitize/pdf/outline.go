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
	ro, ok := cat["Outlines"]
	if !ok {
		return nil
	}
	rootRef, ok := ro.(types.IndirectRef)
	if !ok {
		s.dropOutline(cat, "malformed")
		return nil
	}
	// 1. The whole graph, to bound it and to refuse non-bookmarks.
	nodes, why, err := s.outlineGraph(rootRef)
	if err != nil {
		return err
	}
	if why != "" {
		s.dropOutline(cat, why)
		return nil
	}
	// 2. The tree /First and /Next describe.
	items, why, err := s.outlineTree(rootRef, nodes)
	if err != nil {
		return err
	}
	if why != "" {
		s.dropOutline(cat, why)
		return nil
	}
	if n := len(nodes) - len(items); n > 0 { // each item is one node
		s.removed["bookmarks outside the bookmark tree"] += n
	}
	if len(items) == 1 {
		cat.Delete("Outlines")
		return nil
	}
	// 3. Each item rewritten in place (other references see the same
	// object), then linked again.
	if err := s.rewriteItems(items); err != nil {
		return err
	}
	linkItems(items)
	return nil
}

// dropOutline removes the outline whole, and counts why.
func (s *scrubber) dropOutline(cat types.Dict, why string) {
	cat.Delete("Outlines")
	s.removed["bookmarks, whole ("+why+")"]++
}

// outlineGraph reads every node reachable from the outline root over
// outlineLinks, keyed by object number. A non-empty why says why the
// outline goes whole instead.
func (s *scrubber) outlineGraph(rootRef types.IndirectRef) (nodes map[int]types.Dict, why string, err error) {
	rootNr := int(rootRef.ObjectNumber)
	nodes = map[int]types.Dict{}
	queue := []types.IndirectRef{rootRef}
	for len(queue) > 0 {
		if err := s.c.step(); err != nil {
			return nil, "", err
		}
		ref := queue[0]
		queue = queue[1:]
		nr := int(ref.ObjectNumber)
		if _, seen := nodes[nr]; seen {
			continue
		}
		if len(nodes) > maxOutlineItems {
			return nil, "more than the limit of bookmarks", nil
		}
		d, err := s.xt.DereferenceDict(ref)
		if err != nil || d == nil {
			return nil, "malformed", nil
		}
		if t := nameOf(d["Type"]); t != "" && !(t == "Outlines" && nr == rootNr) {
			return nil, "malformed", nil
		}
		nodes[nr] = d
		for _, k := range outlineLinks {
			v, ok := d[k]
			if !ok || v == nil {
				continue
			}
			r, ok := v.(types.IndirectRef)
			if !ok {
				return nil, "malformed", nil
			}
			queue = append(queue, r)
		}
	}
	return nodes, "", nil
}

// outlineItem is a node of the bookmark tree as it is written again.
type outlineItem struct {
	ref      types.IndirectRef
	d        types.Dict
	parent   types.IndirectRef
	children []int // indexes into items
}

// outlineTree returns the tree /First and /Next describe over nodes, the
// root first, each item after its parent. A non-empty why says why the
// outline goes whole instead.
func (s *scrubber) outlineTree(rootRef types.IndirectRef, nodes map[int]types.Dict) (items []outlineItem, why string, err error) {
	rootNr := int(rootRef.ObjectNumber)
	items = []outlineItem{{ref: rootRef, d: nodes[rootNr]}}
	inTree := map[int]bool{rootNr: true}
	type visit struct {
		next   types.Object
		parent int
		depth  int
	}
	stack := []visit{{nodes[rootNr]["First"], 0, 1}}
	for len(stack) > 0 {
		if err := s.c.step(); err != nil {
			return nil, "", err
		}
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if v.next == nil {
			continue
		}
		ref := v.next.(types.IndirectRef) // checked in outlineGraph
		nr := int(ref.ObjectNumber)
		if inTree[nr] {
			return nil, "a cycle", nil
		}
		if v.depth > maxOutlineDepth {
			return nil, "nested too deep", nil
		}
		inTree[nr] = true
		items = append(items, outlineItem{ref: ref, d: nodes[nr], parent: items[v.parent].ref})
		idx := len(items) - 1
		items[v.parent].children = append(items[v.parent].children, idx)
		// Siblings after this one, then its children (popped first).
		stack = append(stack, visit{nodes[nr]["Next"], v.parent, v.depth}, visit{nodes[nr]["First"], idx, v.depth + 1})
	}
	return items, "", nil
}

// rewriteItems empties each item's dictionary in place (other references
// see the same object) and fills it again with what it may keep: the
// root its /Type and /Count, a bookmark what keepItem allows and its
// /Parent.
func (s *scrubber) rewriteItems(items []outlineItem) error {
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
	return nil
}

// linkItems writes /First, /Last, /Prev and /Next again from the tree.
func linkItems(items []outlineItem) {
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
