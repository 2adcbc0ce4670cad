package pdf

import (
	"context"
	"errors"
	"fmt"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Verify reads a PDF and checks every object in it, first those reachable
// from the trailer (the catalog and the document information), then any
// other object of the file: no JavaScript, no action but a jump to a page
// of this document, the four page-turning named actions and (if allowed)
// web links, no chained action, no embedded file, no form, no rich media,
// no open or additional actions, and a bookmark tree that is a tree whose
// items hold only what the disarmer keeps. It is the proof a disarmed file
// is given before it is used. Every walk is bounded and iterative;
// reaching a bound is a failure, never a pass.
func Verify(data []byte, uriAllowed bool) error {
	return verify(context.Background(), data, uriAllowed)
}

func verify(ctx context.Context, data []byte, uriAllowed bool) (err error) {
	defer catch(&err)
	pc, err := read(data)
	if err != nil {
		return fmt.Errorf("pdf: output does not read back: %w", err)
	}
	xt := pc.XRefTable
	cat, err := xt.Catalog()
	if err != nil || cat == nil {
		return fmt.Errorf("pdf: output has no catalog (%v)", err)
	}
	for _, k := range catalogKeys {
		if _, ok := cat.Find(k); ok {
			return fmt.Errorf("pdf: catalog still has /%s", k)
		}
	}
	pages, err := pageSet(xt, cat)
	if err != nil {
		return err
	}
	v := &verifier{xt: xt, pages: pages, uriAllowed: uriAllowed, seen: map[int]bool{}, c: counter{ctx: ctx}}
	// What a reader reaches from the trailer, then everything else.
	seeds := []types.IndirectRef{*xt.Root}
	if xt.Info != nil {
		seeds = append(seeds, *xt.Info)
	}
	all, err := tableRefs(xt)
	if err != nil {
		return err
	}
	for _, r := range append(seeds, all...) {
		if err := v.walk(r); err != nil {
			return err
		}
	}
	return checkOutline(xt, cat, pages, uriAllowed)
}

type verifier struct {
	xt         *model.XRefTable
	pages      map[int]bool
	uriAllowed bool
	seen       map[int]bool
	c          counter
}

// walk checks everything reachable from o, iteratively.
func (v *verifier) walk(o types.Object) error {
	stack := []types.Object{o}
	for len(stack) > 0 {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if err := v.c.step(); err != nil {
			return err
		}
		switch x := o.(type) {
		case types.IndirectRef:
			nr := int(x.ObjectNumber)
			if v.seen[nr] {
				continue
			}
			v.seen[nr] = true
			if len(v.seen) > maxObjects {
				return fmt.Errorf("%w (more than %d objects)", errLimit, maxObjects)
			}
			obj, err := v.xt.Dereference(x)
			if err != nil {
				return fmt.Errorf("pdf: object %d does not read back: %w", nr, err)
			}
			if obj != nil {
				if err := v.check(obj); err != nil {
					return fmt.Errorf("pdf: object %d: %w", nr, err)
				}
				stack = push(stack, obj)
			}
		case types.Dict, types.StreamDict, types.Array:
			if err := v.check(x); err != nil {
				return fmt.Errorf("pdf: %w", err)
			}
			stack = push(stack, x)
		case types.LazyObjectStreamObject:
			return errors.New("pdf: an object was not decoded")
		}
	}
	return nil
}

// push adds the values directly inside o. Nested direct dictionaries and
// arrays are pushed as values and checked when popped.
func push(stack []types.Object, o types.Object) []types.Object {
	switch x := o.(type) {
	case types.Dict:
		for _, val := range x {
			stack = append(stack, val)
		}
	case types.StreamDict:
		for _, val := range x.Dict {
			stack = append(stack, val)
		}
	case types.Array:
		stack = append(stack, x...)
	}
	return stack
}

// check applies the rules to one dictionary (the entries nested in it are
// checked on their own).
func (v *verifier) check(o types.Object) error {
	var d types.Dict
	switch x := o.(type) {
	case types.Dict:
		d = x
	case types.StreamDict:
		d = x.Dict
	case types.Array:
		return v.checkArray(x)
	default:
		return nil
	}
	if badObject(d) {
		return fmt.Errorf("/Type /%s /Subtype /%s left", nameOf(d["Type"]), nameOf(d["Subtype"]))
	}
	if actionLike(d) {
		if err := checkAction(v.xt, d, v.uriAllowed, v.pages); err != nil {
			return err
		}
	}
	for k, val := range d {
		if err := v.checkEntry(k, val); err != nil {
			return err
		}
	}
	return nil
}

// checkEntry applies the rules to one entry of a dictionary: no key that
// runs or carries anything, an /A or /PA that is a kept action, a /Dest to
// a page of this document, no /S naming an action never kept.
func (v *verifier) checkEntry(k string, val types.Object) error {
	switch k {
	case "JS", "JavaScript", "AA", "OpenAction", "EmbeddedFile", "EmbeddedFiles", "EF", "RF", "XFA", "RichMediaContent", "PieceInfo":
		return fmt.Errorf("/%s left", k)
	case "A", "PA":
		ad, err := v.xt.Dereference(val)
		if err != nil {
			return err
		}
		if a, ok := ad.(types.Dict); ok && (a["S"] != nil || actionLike(a)) {
			if err := checkAction(v.xt, a, v.uriAllowed, v.pages); err != nil {
				return fmt.Errorf("/%s: %w", k, err)
			}
		} else if k == "PA" {
			return errors.New("/PA that is not an action left")
		}
	case "Dest":
		dest, err := v.xt.Dereference(val)
		if err != nil {
			return err
		}
		if a, ok := dest.(types.Array); !ok || !explicitDest(a, v.pages) {
			return errors.New("/Dest to something other than a page of this document left")
		}
	}
	if n, ok := val.(types.Name); ok {
		s := string(n)
		switch {
		case k == "S" && badActions[s]:
			return fmt.Errorf("/S /%s action left", s)
		case k == "S" && s == "URI" && !v.uriAllowed:
			return fmt.Errorf("URI action left")
		}
	}
	return nil
}

// checkArray refuses an array holding an action or a dangerous annotation
// directly or through a reference (a /Next array, an /Annots array).
func (v *verifier) checkArray(a types.Array) error {
	for _, x := range a {
		if _, ok := x.(types.IndirectRef); !ok {
			continue // direct values are checked when popped
		}
		o, err := v.xt.Dereference(x)
		if err != nil {
			return err
		}
		if d, ok := o.(types.Dict); ok && badObject(d) {
			return fmt.Errorf("a reference to /Type /%s /Subtype /%s left", nameOf(d["Type"]), nameOf(d["Subtype"]))
		}
		if d, ok := o.(types.Dict); ok && actionLike(d) {
			if err := checkAction(v.xt, d, v.uriAllowed, v.pages); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkOutline walks the bookmark tree from the catalog: every item is
// reached once through /First and /Next, every /Last, /Prev and /Parent
// points inside the tree, items hold only the kept keys, their
// destinations and actions are kept kinds.
func checkOutline(xt *model.XRefTable, cat types.Dict, pages map[int]bool, uriAllowed bool) error {
	ro, ok := cat["Outlines"]
	if !ok {
		return nil
	}
	rootRef, ok := ro.(types.IndirectRef)
	if !ok {
		return errors.New("pdf: the outline is not an indirect object")
	}
	root, err := xt.DereferenceDict(rootRef)
	if err != nil || root == nil {
		return fmt.Errorf("pdf: outline unreadable (%v)", err)
	}
	for k := range root {
		switch k {
		case "Type", "First", "Last", "Count":
		default:
			return fmt.Errorf("pdf: outline root has /%s", k)
		}
	}
	oc := &outlineCheck{xt: xt, pages: pages, uriAllowed: uriAllowed, tree: map[int]bool{int(rootRef.ObjectNumber): true}}
	items, err := oc.items(root)
	if err != nil {
		return err
	}
	if !oc.inTree(root["Last"]) {
		return errors.New("pdf: outline /Last points outside the tree")
	}
	for _, d := range items {
		for k, val := range d {
			if err := oc.checkItemEntry(k, val); err != nil {
				return err
			}
		}
	}
	return nil
}

// outlineCheck is checkOutline's walk of one bookmark tree.
type outlineCheck struct {
	xt         *model.XRefTable
	pages      map[int]bool
	uriAllowed bool
	tree       map[int]bool // object numbers of the root and the items
}

// items returns the items of the tree under root, reached through /First
// and /Next, each once, within the outline's bounds.
func (oc *outlineCheck) items(root types.Dict) ([]types.Dict, error) {
	var items []types.Dict
	type level struct {
		next  types.Object
		depth int
	}
	stack := []level{{root["First"], 1}}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if top.next == nil {
			continue
		}
		ref, ok := top.next.(types.IndirectRef)
		if !ok {
			return nil, errors.New("pdf: an outline link is not an indirect reference")
		}
		nr := int(ref.ObjectNumber)
		if oc.tree[nr] {
			return nil, fmt.Errorf("pdf: outline item %d reached twice (a cycle)", nr)
		}
		oc.tree[nr] = true
		if len(oc.tree) > maxOutlineItems+1 || top.depth > maxOutlineDepth {
			return nil, fmt.Errorf("%w (outline over %d items or %d levels)", errLimit, maxOutlineItems, maxOutlineDepth)
		}
		d, err := oc.xt.DereferenceDict(ref)
		if err != nil || d == nil {
			return nil, fmt.Errorf("pdf: outline item %d unreadable (%v)", nr, err)
		}
		items = append(items, d)
		stack = append(stack, level{d["Next"], top.depth}, level{d["First"], top.depth + 1})
	}
	return items, nil
}

// inTree reports whether a link is absent or points at the root or an
// item of the tree.
func (oc *outlineCheck) inTree(o types.Object) bool {
	if o == nil {
		return true
	}
	r, ok := o.(types.IndirectRef)
	return ok && oc.tree[int(r.ObjectNumber)]
}

// checkItemEntry checks one entry of an item: a kept key, links inside the
// tree, a /Dest to a page of this document, an /A of a kept kind.
func (oc *outlineCheck) checkItemEntry(k string, val types.Object) error {
	switch k {
	case "Title", "Count", "C", "F", "First", "Next":
	case "Parent", "Prev", "Last":
		if !oc.inTree(val) {
			return fmt.Errorf("pdf: outline item /%s points outside the tree", k)
		}
	case "Dest":
		dest, err := oc.xt.Dereference(val)
		if err != nil {
			return err
		}
		if a, ok := dest.(types.Array); !ok || !explicitDest(a, oc.pages) {
			return errors.New("pdf: outline item /Dest outside the document left")
		}
	case "A":
		a, err := oc.xt.DereferenceDict(val)
		if err != nil || a == nil {
			return errors.New("pdf: outline item /A unreadable")
		}
		if err := checkAction(oc.xt, a, oc.uriAllowed, oc.pages); err != nil {
			return fmt.Errorf("pdf: outline item: %w", err)
		}
	default:
		return fmt.Errorf("pdf: outline item has /%s", k)
	}
	return nil
}
