// Package strictyaml decodes YAML into Go structs strictly: an unknown key is
// an error that names its full path and line ("deliver.relai", line 7), and
// every problem in a document is reported at once rather than the first only.
//
// yaml.v3's own KnownFields mode names the line but not the path, and stops at
// the first unknown key; config and policy files are edited by hand, so the
// admin gets the whole list.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one error found in a document, with its position.
type Problem struct {
	Line int    // 1-based; 0 when unknown
	Path string // dotted path such as "deliver.relay" or "rules[2].action"
	Msg  string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Msg
	}
	return p.Path + ": " + p.Msg
}

// Error collects every problem found in one file.
type Error struct {
	File     string
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		if p.Line > 0 {
			fmt.Fprintf(&b, "%s:%d: %s", e.File, p.Line, p)
		} else {
			fmt.Fprintf(&b, "%s: %s", e.File, p)
		}
	}
	return b.String()
}

// Add appends a problem.
func (e *Error) Add(line int, path, format string, args ...any) {
	e.Problems = append(e.Problems, Problem{Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Err returns e when it holds problems, else nil.
func (e *Error) Err() error {
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}

// Decode parses data into out (a pointer) and returns the root node for
// callers that want positions of their own. The document is parsed into
// nodes first, then each value is decoded on its own: a key no field takes
// and a value of the wrong type are both reported with their key path and
// line, and every one of them is, not the first only. Fields not present
// in the document keep the values out already holds, so callers pass a
// struct filled with defaults. On failure the error is an *Error naming
// file; the root is nil only when the document is not YAML at all, or
// when its aliases expand to far more values than it holds (a "billion
// laughs": see aliasBudget).
func Decode(file string, data []byte, out any) (*yaml.Node, error) {
	errs := &Error{File: file}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &doc, nil // empty document: all defaults
		}
		errs.Add(lineOf(err), "", "%s", trimYAMLErr(err))
		return nil, errs
	}
	if len(doc.Content) == 0 {
		return &doc, nil
	}
	root := doc.Content[0]
	d := &decoder{errs: errs, active: map[*yaml.Node]bool{}, budget: aliasBudget(size(root))}
	d.value(root, reflect.ValueOf(out).Elem(), "")
	if d.budget < 0 {
		return nil, errs // what did decode is not worth validating
	}
	return root, errs.Err()
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

func implementsUnmarshaler(t reflect.Type) bool {
	return t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType)
}

// field is where a YAML key goes in a struct.
type field struct {
	index []int // for reflect.Value.FieldByIndex, through inline fields
	typ   reflect.Type
}

// yamlFields maps the YAML key of each exported field of t to the field,
// following inline fields.
func yamlFields(t reflect.Type) map[string]field {
	m := make(map[string]field)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct {
			for k, v := range yamlFields(f.Type) {
				m[k] = field{append([]int{i}, v.index...), v.typ}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = field{[]int{i}, f.Type}
	}
	return m
}

func sortedKeys(m map[string]field) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// lineOf pulls "line N" out of a yaml.v3 error message.
func lineOf(err error) int {
	s := err.Error()
	i := strings.Index(s, "line ")
	if i < 0 {
		return 0
	}
	n := 0
	for _, c := range s[i+5:] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// trimYAMLErr drops yaml.v3's "yaml: line N: " prefix, since the position is
// printed separately.
func trimYAMLErr(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	if strings.HasPrefix(s, "line ") {
		if i := strings.Index(s, ": "); i >= 0 {
			s = s[i+2:]
		}
	}
	return s
}

// Line is the line of the value at path ("accept.networks[2]") in the
// document under root, for problems found after decoding (by a
// validation): the key's line for a key, the item's for a list item. When
// the path is not in the document (a default is at fault) it is the line
// of the nearest part of the path that is, and 0 when none is.
func Line(root *yaml.Node, path string) int {
	line, n := 0, root
	for _, seg := range splitPath(path) {
		for n != nil && n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if n == nil {
			break
		}
		next := (*yaml.Node)(nil)
		switch {
		case seg.index >= 0 && n.Kind == yaml.SequenceNode && seg.index < len(n.Content):
			next = n.Content[seg.index]
			line = next.Line
		case seg.index < 0 && n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg.key {
					next, line = n.Content[i+1], n.Content[i].Line
					break
				}
			}
		}
		n = next
	}
	return line
}

type pathSeg struct {
	key   string
	index int // -1 for a key
}

// splitPath splits "a.b[2].c" into a, b, [2], c.
func splitPath(path string) []pathSeg {
	var segs []pathSeg
	for _, part := range strings.Split(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			segs = append(segs, pathSeg{key: key, index: -1})
		}
		for rest != "" {
			num, after, ok := strings.Cut(rest, "]")
			i, err := strconv.Atoi(num)
			if !ok || err != nil {
				break
			}
			segs = append(segs, pathSeg{index: i})
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return segs
}
