package strictyaml

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// decoder walks a node tree against a Go value and decodes each value on
// its own, so one bad value is reported with its path and the walk goes
// on to the next.
type decoder struct {
	errs   *Error
	active map[*yaml.Node]bool // alias targets being decoded: an anchor holding itself stops there
	// budget is how many more nodes may be decoded, aliases expanded
	// (see aliasBudget): a small file of aliases of aliases (a "billion
	// laughs") must not decode into gigabytes. Below zero, decoding has
	// stopped.
	budget int
}

// aliasBudget is how many nodes a document of n nodes may decode into,
// aliases expanded: anchors that share a list or a mapping a few times
// fit; aliases that multiply it do not.
func aliasBudget(n int) int { return 10*n + 10000 }

// size counts the nodes under n, aliases not followed.
func size(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += size(k)
	}
	return c
}

// spend takes cost nodes from the budget and reports whether decoding
// may go on; the first time it may not, the problem is reported at n.
func (d *decoder) spend(cost int, n *yaml.Node, path string) bool {
	if d.budget < 0 {
		return false
	}
	if d.budget -= cost; d.budget < 0 {
		d.errs.Add(n.Line, path, "aliases expand to too many values for a file of this size: write the values out")
		return false
	}
	return true
}

// expanded counts the nodes n decodes into, aliases followed, stopping
// once the count reaches most (it need not be exact past the budget).
func expanded(n *yaml.Node, most int) int {
	c := 1
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return expanded(n.Alias, most)
	}
	for _, k := range n.Content {
		if c >= most {
			break
		}
		c += expanded(k, most-c)
	}
	return c
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

// isLeaf reports whether values of t are decoded by yaml.v3 itself rather
// than walked: scalars, and every type that decodes itself.
func isLeaf(t reflect.Type) bool {
	if implementsUnmarshaler(t) || t.Implements(textUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return true
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Struct, reflect.Slice, reflect.Map:
		return false
	}
	return true
}

// value decodes n into v (addressable); path names n for problems.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		if d.active[n.Alias] {
			d.errs.Add(n.Line, path, "alias *%s refers to a value that holds it", n.Value)
			return
		}
		d.active[n.Alias] = true
		defer delete(d.active, n.Alias)
		n = n.Alias
	}
	t := v.Type()
	if isLeaf(t) {
		// yaml.v3 decodes a leaf whole: everything under it counts.
		if d.spend(expanded(n, d.budget+1), n, path) {
			d.leaf(n, v, path)
		}
		return
	}
	if !d.spend(1, n, path) {
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		if t.Kind() != reflect.Struct {
			v.SetZero() // as yaml.v3 does: "key:" empties a list, a map or a pointer
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		d.value(n, v.Elem(), path)
	case reflect.Struct:
		if d.expect(n, yaml.MappingNode, t, path) {
			d.structure(n, v, path)
		}
	case reflect.Slice:
		if d.expect(n, yaml.SequenceNode, t, path) {
			s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
			for i, c := range n.Content {
				d.value(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
			v.Set(s)
		}
	case reflect.Map:
		if d.expect(n, yaml.MappingNode, t, path) {
			d.mapping(n, v, path)
		}
	}
}

// structure decodes the keys of mapping n into the fields of struct v.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	fields := yamlFields(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !d.key(k, path, seen) {
			continue
		}
		p := join(path, k.Value)
		f, ok := fields[k.Value]
		if !ok {
			d.errs.Add(k.Line, p, "unknown key (known keys here: %s)", strings.Join(sortedKeys(fields), ", "))
			continue
		}
		d.value(val, v.FieldByIndex(f.index), p)
	}
}

// mapping decodes mapping n into map v, keeping the entries v holds.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	t := v.Type()
	if v.IsNil() {
		v.Set(reflect.MakeMap(t))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !d.key(k, path, seen) {
			continue
		}
		p := join(path, k.Value)
		kv, ev := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
		before := len(d.errs.Problems)
		d.value(k, kv, p)
		d.value(val, ev, p)
		if len(d.errs.Problems) == before {
			v.SetMapIndex(kv, ev)
		}
	}
}

// key checks a mapping key: a plain value, given once.
func (d *decoder) key(k *yaml.Node, path string, seen map[string]int) bool {
	switch {
	case k.Kind != yaml.ScalarNode:
		d.errs.Add(k.Line, path, "a key must be a plain value, not %s", describeNode(k))
		return false
	case k.ShortTag() == "!!merge":
		d.errs.Add(k.Line, join(path, k.Value), "merge keys (<<) are not supported: write the keys out")
		return false
	}
	if first, ok := seen[k.Value]; ok {
		d.errs.Add(k.Line, join(path, k.Value), "duplicate key (first on line %d)", first)
		return false
	}
	seen[k.Value] = k.Line
	return true
}

// expect reports n unless it is of kind.
func (d *decoder) expect(n *yaml.Node, kind yaml.Kind, t reflect.Type, path string) bool {
	if n.Kind == kind {
		return true
	}
	d.errs.Add(n.Line, path, "expected %s, got %s", describeType(t), describeNode(n))
	return false
}

// leaf lets yaml.v3 decode n into v: a scalar, or a type that decodes
// itself (whose own error message is kept).
func (d *decoder) leaf(n *yaml.Node, v reflect.Value, path string) {
	err := n.Decode(v.Addr().Interface())
	if err == nil {
		return
	}
	var te *yaml.TypeError
	switch {
	case errors.As(err, &te) && !implementsUnmarshaler(v.Type()):
		d.errs.Add(n.Line, path, "expected %s, got %s", describeType(v.Type()), describeNode(n))
	case errors.As(err, &te):
		for _, m := range te.Errors {
			d.errs.Add(lineOr(errors.New(m), n.Line), path, "%s", trimYAMLErr(errors.New(m)))
		}
	default:
		d.errs.Add(lineOr(err, n.Line), path, "%s", trimYAMLErr(err))
	}
}

func lineOr(err error, line int) int {
	if l := lineOf(err); l > 0 {
		return l
	}
	return line
}

// describeType says what a value of t is written as, for "expected …".
func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number ≥ 0"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a single value (text)"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct, reflect.Pointer:
		return "a mapping (key: value lines)"
	}
	return t.String()
}

// describeNode says what was written, for "got …".
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.ShortTag() == "!!null" {
		return "nothing"
	}
	s := n.Value
	if utf8.RuneCountInString(s) > 60 {
		s = string([]rune(s)[:60]) + "…"
	}
	return strconv.Quote(s)
}
