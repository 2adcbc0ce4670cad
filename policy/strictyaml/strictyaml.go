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
		fmt.Fprintf(&b, "%s:%d: %s", e.File, p.Line, p)
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

// Decode parses data into out (a pointer to a struct) and returns the root
// node for callers that want positions of their own. Fields not present in
// the document keep the values out already holds, so callers pass a struct
// filled with defaults. On failure the error is an *Error naming file.
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
	checkKeys(root, reflect.TypeOf(out).Elem(), "", errs)
	if err := root.Decode(out); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, m := range te.Errors {
				errs.Add(lineOf(errors.New(m)), "", "%s", trimYAMLErr(errors.New(m)))
			}
		} else {
			errs.Add(lineOf(err), "", "%s", trimYAMLErr(err))
		}
	}
	return root, errs.Err()
}

// checkKeys walks node against type t and reports keys that no field takes.
func checkKeys(node *yaml.Node, t reflect.Type, path string, errs *Error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if node.Kind == yaml.AliasNode {
		node = node.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if node.Kind != yaml.MappingNode || implementsUnmarshaler(t) {
			return // type errors are reported by Decode
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			p := join(path, k.Value)
			ft, ok := fields[k.Value]
			if !ok {
				errs.Add(k.Line, p, "unknown key (known keys here: %s)", strings.Join(sortedKeys(fields), ", "))
				continue
			}
			checkKeys(v, ft, p, errs)
		}
	case reflect.Slice, reflect.Array:
		if node.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range node.Content {
			checkKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs)
		}
	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			checkKeys(node.Content[i+1], t.Elem(), join(path, node.Content[i].Value), errs)
		}
	}
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

func implementsUnmarshaler(t reflect.Type) bool {
	return t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType)
}

// yamlFields maps the YAML key of each exported field of t to its type,
// following inline fields.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type)
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
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				m[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}

func sortedKeys(m map[string]reflect.Type) []string {
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
