package pdf

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Limits of every walk in this package. Reaching one is an error (the
// part is removed), never a reason to stop looking and call the file
// clean.
const (
	maxObjects       = 1 << 20 // indirect objects in one document
	maxValues        = 8 << 20 // dictionary entries and array elements visited in one walk
	maxPages         = 100_000 // page tree nodes
	maxOutlineItems  = 10_000  // bookmarks; over it the outline is removed whole
	maxOutlineDepth  = 64      // bookmark nesting; over it the outline is removed whole
	maxNameTreeNodes = 10_000  // named destinations: nodes of the name tree read
	maxDestHops      = 8       // name → dictionary → /D → … when resolving a destination
)

// errLimit marks a walk that reached one of its limits.
var errLimit = errors.New("pdf: the document is too large or too deeply linked to be checked")

// keepActions are the action types ever kept: a jump to a page of the same
// document, the four page-turning named actions, and URI (web links) when
// the rule keeps them. Everything else is removed.
var namedNav = map[string]bool{"NextPage": true, "PrevPage": true, "FirstPage": true, "LastPage": true}

// fitNames are the destination kinds of an explicit destination.
var fitNames = map[string]bool{"XYZ": true, "Fit": true, "FitH": true, "FitV": true, "FitR": true, "FitB": true, "FitBH": true, "FitBV": true}

// uriSchemes are the schemes a kept web link may have.
var uriSchemes = []string{"http://", "https://", "mailto:"}

// actionLike reports whether d is an action dictionary (or pretends to be
// one): its /Type is /Action or its /S names an action type.
func actionLike(d types.Dict) bool {
	if t := nameOf(d["Type"]); t == "Action" {
		return true
	}
	s := nameOf(d["S"])
	_, known := badActions[s]
	return known || s == "URI" || s == "GoTo" || s == "Named" || s == "Thread" || s == "GoToDp"
}

func nameOf(o types.Object) string {
	if n, ok := o.(types.Name); ok {
		return string(n)
	}
	return ""
}

// badObject reports an annotation removed whole, an embedded file, or a
// multimedia object (a sound, a 3D stream), whatever holds it.
func badObject(d types.Dict) bool {
	t, st := nameOf(d["Type"]), nameOf(d["Subtype"])
	return badAnnots[t] || badAnnots[st] || t == "EmbeddedFile" || st == "EmbeddedFile"
}

func okURI(o types.Object) bool {
	s, err := types.StringOrHexLiteral(o)
	if err != nil || s == nil {
		return false
	}
	u := strings.ToLower(strings.TrimSpace(*s))
	for _, p := range uriSchemes {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

// pageSet returns the object numbers of the pages in the page tree,
// walked iteratively; a cycle, a shared node or too many nodes is an error.
func pageSet(xt *model.XRefTable, cat types.Dict) (map[int]bool, error) {
	root, ok := cat["Pages"].(types.IndirectRef)
	if !ok {
		return nil, errors.New("pdf: the page tree is not an indirect object")
	}
	pages := map[int]bool{}
	seen := map[int]bool{}
	stack := []types.IndirectRef{root}
	for len(stack) > 0 {
		ref := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nr := int(ref.ObjectNumber)
		if seen[nr] {
			return nil, errors.New("pdf: the page tree has a cycle or a shared node")
		}
		seen[nr] = true
		if len(seen) > maxPages {
			return nil, fmt.Errorf("%w (more than %d page tree nodes)", errLimit, maxPages)
		}
		d, err := xt.DereferenceDict(ref)
		if err != nil || d == nil {
			return nil, fmt.Errorf("pdf: page tree node %d: unreadable (%v)", nr, err)
		}
		kids, hasKids := d["Kids"]
		if nameOf(d["Type"]) == "Page" || !hasKids {
			pages[nr] = true
			continue
		}
		arr, err := xt.DereferenceArray(kids)
		if err != nil {
			return nil, fmt.Errorf("pdf: page tree node %d: %v", nr, err)
		}
		for _, k := range arr {
			kr, ok := k.(types.IndirectRef)
			if !ok {
				return nil, fmt.Errorf("pdf: page tree node %d has a direct kid", nr)
			}
			stack = append(stack, kr)
		}
	}
	return pages, nil
}

// dests resolves named destinations to explicit ones that point to a
// page of this document.
type dests struct {
	xt     *model.XRefTable
	pages  map[int]bool
	byName map[string]types.Object // the catalog's /Dests (PDF 1.1)
	byStr  map[string]types.Object // the /Names /Dests name tree
}

// newDests reads the named destinations of the document before the name
// trees are removed. Past its bounds it reads no more: the names it did
// not read are links that are dropped, never kept unchecked.
func newDests(xt *model.XRefTable, cat types.Dict, pages map[int]bool) *dests {
	ds := &dests{xt: xt, pages: pages, byName: map[string]types.Object{}, byStr: map[string]types.Object{}}
	if d, err := xt.DereferenceDict(cat["Dests"]); err == nil {
		for k, v := range d {
			ds.byName[k] = v
		}
	}
	names, err := xt.DereferenceDict(cat["Names"])
	if err != nil || names == nil {
		return ds
	}
	stack := []types.Object{names["Dests"]}
	seen := map[int]bool{}
	for n := 0; len(stack) > 0 && n < maxNameTreeNodes; n++ {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if r, ok := o.(types.IndirectRef); ok {
			if seen[int(r.ObjectNumber)] {
				continue
			}
			seen[int(r.ObjectNumber)] = true
		}
		node, err := xt.DereferenceDict(o)
		if err != nil || node == nil {
			continue
		}
		if arr, err := xt.DereferenceArray(node["Names"]); err == nil {
			for i := 0; i+1 < len(arr); i += 2 {
				k, err := xt.Dereference(arr[i])
				if err != nil {
					continue
				}
				if s, err := types.StringOrHexLiteral(k); err == nil && s != nil {
					ds.byStr[*s] = arr[i+1]
				}
			}
		}
		if kids, err := xt.DereferenceArray(node["Kids"]); err == nil {
			stack = append(stack, kids...)
		}
	}
	return ds
}

// resolve returns a fresh explicit destination to a page of this
// document for o (an explicit destination, a name, a string, or a
// dictionary holding /D), or nil.
func (ds *dests) resolve(o types.Object) types.Array {
	for range maxDestHops {
		v, err := ds.xt.Dereference(o)
		if err != nil {
			return nil
		}
		switch v := v.(type) {
		case types.Name:
			o = ds.byName[string(v)]
		case types.StringLiteral, types.HexLiteral:
			s, err := types.StringOrHexLiteral(v)
			if err != nil || s == nil {
				return nil
			}
			o = ds.byStr[*s]
		case types.Dict:
			o = v["D"]
		case types.Array:
			if !explicitDest(v, ds.pages) {
				return nil
			}
			return append(types.Array(nil), v...)
		default:
			return nil
		}
		if o == nil {
			return nil
		}
	}
	return nil
}

// explicitDest: [page /Fit…  numbers] with page a page of this document
// (an integer page number is how other files are addressed: refused).
func explicitDest(a types.Array, pages map[int]bool) bool {
	if len(a) < 2 || len(a) > 6 {
		return false
	}
	ref, ok := a[0].(types.IndirectRef)
	if !ok || !pages[int(ref.ObjectNumber)] {
		return false
	}
	if !fitNames[nameOf(a[1])] {
		return false
	}
	for _, x := range a[2:] {
		switch x.(type) {
		case nil, types.Integer, types.Float:
		default:
			return false
		}
	}
	return true
}

// sanitizeAction returns a fresh action equivalent to the one at o when
// it is of a kept kind, or nil and what was removed, in plain words.
// Whatever else the action holds (/Next chains, scripts, extra keys) is
// not copied.
func sanitizeAction(xt *model.XRefTable, o types.Object, keepURI bool, ds *dests) (types.Dict, string) {
	act, err := xt.DereferenceDict(o)
	if err != nil || act == nil {
		return nil, "actions"
	}
	if _, chained := act["Next"]; chained {
		return nil, "chained actions"
	}
	s := nameOf(act["S"])
	switch s {
	case "GoTo":
		if _, sd := act["SD"]; sd {
			return nil, "links to structure elements"
		}
		d := ds.resolve(act["D"])
		if d == nil {
			return nil, "links to destinations outside the document"
		}
		return types.Dict{"S": types.Name("GoTo"), "D": d}, ""
	case "Named":
		n := nameOf(act["N"])
		if !namedNav[n] {
			return nil, "named actions"
		}
		return types.Dict{"S": types.Name("Named"), "N": types.Name(n)}, ""
	case "URI":
		u, err := xt.Dereference(act["URI"])
		if !keepURI || err != nil || !okURI(u) {
			return nil, "links to web pages"
		}
		return types.Dict{"S": types.Name("URI"), "URI": u}, ""
	case "":
		return nil, "actions"
	}
	if badActions[s] {
		return nil, describeKey(s)
	}
	return nil, "actions"
}

// checkAction is sanitizeAction's counterpart for the verifier: what the
// disarmer keeps passes, anything else is an error.
func checkAction(xt *model.XRefTable, d types.Dict, uriAllowed bool, pages map[int]bool) error {
	if _, chained := d["Next"]; chained {
		return errors.New("chained action (/Next) left")
	}
	switch s := nameOf(d["S"]); s {
	case "GoTo":
		if _, sd := d["SD"]; sd {
			return errors.New("GoTo to a structure element left")
		}
		dest, err := xt.Dereference(d["D"])
		if err != nil {
			return err
		}
		if a, ok := dest.(types.Array); !ok || !explicitDest(a, pages) {
			return errors.New("GoTo to something other than a page of this document left")
		}
	case "Named":
		if !namedNav[nameOf(d["N"])] {
			return fmt.Errorf("named action /%s left", nameOf(d["N"]))
		}
	case "URI":
		u, err := xt.Dereference(d["URI"])
		if !uriAllowed || err != nil || !okURI(u) {
			return errors.New("URI action left")
		}
	default:
		return fmt.Errorf("/S /%s action left", s)
	}
	return nil
}

// tableRefs lists every object of the cross-reference table, refusing
// more than maxObjects.
func tableRefs(xt *model.XRefTable) ([]types.IndirectRef, error) {
	if len(xt.Table) > maxObjects {
		return nil, fmt.Errorf("%w (%d objects)", errLimit, len(xt.Table))
	}
	refs := make([]types.IndirectRef, 0, len(xt.Table))
	for nr, e := range xt.Table {
		if e == nil || e.Free {
			continue
		}
		gen := 0
		if e.Generation != nil {
			gen = *e.Generation
		}
		refs = append(refs, *types.NewIndirectRef(nr, gen))
	}
	return refs, nil
}

// counter bounds a walk and checks the context now and then.
type counter struct {
	ctx context.Context
	n   int
}

func (c *counter) step() error {
	c.n++
	if c.n > maxValues {
		return fmt.Errorf("%w (more than %d values)", errLimit, maxValues)
	}
	if c.n%4096 == 0 && c.ctx != nil {
		return c.ctx.Err()
	}
	return nil
}
