package gateway

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"mugai/policy/strictyaml"
)

// LoadConfig reads a config file over the defaults and validates it. The
// error is the file's read error, or a *strictyaml.Error listing every
// problem as file:line: key.path: what is wrong.
func LoadConfig(file string) (Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Defaults(), err
	}
	return ParseConfig(file, data)
}

// ParseConfig decodes a configuration (file names it in errors) over the
// defaults and validates it, in one pass: a value of the wrong type, an
// unknown key, a value out of range and a clause catalogue that does not
// load are all reported together, each with its line and key path (a
// problem with a default the file does not name is reported at the
// nearest key it does, or without a line). Validation skips the keys that
// did not decode, so each mistake is told once.
func ParseConfig(file string, data []byte) (Config, error) {
	cfg := Defaults()
	root, err := strictyaml.Decode(file, data, &cfg)
	errs := &strictyaml.Error{File: file}
	if err != nil {
		var se *strictyaml.Error
		if root == nil || !errors.As(err, &se) {
			return cfg, err // not YAML at all: nothing more to check
		}
		errs.Problems = append(errs.Problems, se.Problems...)
	}
	undecoded := func(path string) bool {
		for _, p := range errs.Problems {
			if p.Path != "" && (path == p.Path || strings.HasPrefix(path, p.Path+".") || strings.HasPrefix(path, p.Path+"[")) {
				return true
			}
		}
		return false
	}
	var checked []strictyaml.Problem
	for _, p := range cfg.problems() {
		if !undecoded(p.Path) {
			p.Line = strictyaml.Line(root, p.Path)
			checked = append(checked, p)
		}
	}
	if _, err := cfg.LoadClauses(); err != nil && !undecoded("clauses") {
		for _, line := range strings.Split(strings.TrimPrefix(err.Error(), "clauses: "), "\n") {
			checked = append(checked, strictyaml.Problem{Line: strictyaml.Line(root, "clauses"), Path: "clauses", Msg: line})
		}
	}
	errs.Problems = append(errs.Problems, checked...)
	// In the file's order; problems of defaults it does not name last.
	slices.SortStableFunc(errs.Problems, func(a, b strictyaml.Problem) int {
		if (a.Line == 0) != (b.Line == 0) {
			return b.Line - a.Line // the one with a line first
		}
		return a.Line - b.Line
	})
	return cfg, errs.Err()
}

// EffectiveYAML is the configuration as `mugai config check` prints it:
// every key, sizes and durations in the units an admin writes (25MiB,
// 30d), in the layout of the README's Configuration section. It decodes
// back to c.
func (c Config) EffectiveYAML() []byte {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		panic("gateway: config does not encode: " + err.Error()) // plain fields only: cannot happen
	}
	enc.Close()
	return b.Bytes()
}
