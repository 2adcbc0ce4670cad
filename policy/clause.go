package policy

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"

	"go.yaml.in/yaml/v3"

	"mugai/policy/strictyaml"
)

//go:embed clauses.yaml
var clausesYAML []byte

// DefaultClausesSource names the embedded clause catalogue in messages.
const DefaultClausesSource = "embedded clauses.yaml"

// Clause is one clause of the municipality's cybersecurity policy that a
// rule can cite.
type Clause struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
	Text  string `yaml:"text"`
}

// Catalogue is a clause catalogue: the clauses rules may cite, in order.
// A policy is checked against the catalogue it is parsed with (Parse) and
// keeps it (Policy.Clauses); nothing in the process is global. A
// Catalogue is only read once made.
type Catalogue []Clause

// defaultClauses parses the embedded catalogue once. It is checked by
// tests, so failing here is a build defect.
var defaultClauses = sync.OnceValue(func() Catalogue {
	cs, err := ParseClauses(DefaultClausesSource, clausesYAML)
	if err != nil {
		panic("embedded clause catalogue is invalid: " + err.Error())
	}
	return cs
})

// DefaultClauses returns the embedded catalogue (policy/clauses.yaml): the
// one callers pass when the deployment names none.
func DefaultClauses() Catalogue { return slices.Clone(defaultClauses()) }

// ParseClauses reads a clause catalogue: a YAML list of {id, title, text},
// ids unique, every field given. Every problem is reported with its line.
func ParseClauses(file string, data []byte) (Catalogue, error) {
	var cs Catalogue
	root, err := strictyaml.Decode(file, data, &cs)
	errs := &strictyaml.Error{File: file}
	if err != nil {
		var se *strictyaml.Error
		if root == nil || !errors.As(err, &se) {
			return nil, err
		}
		errs.Problems = append(errs.Problems, se.Problems...)
	}
	var lines []int
	if root != nil && root.Kind == yaml.SequenceNode {
		for _, n := range root.Content {
			lines = append(lines, n.Line)
		}
	}
	if len(cs) == 0 {
		errs.Add(1, "", "a clause catalogue needs at least one clause")
	}
	seen := map[string]int{}
	for i, c := range cs {
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		where := fmt.Sprintf("[%d]", i)
		if c.ID == "" || c.Title == "" || c.Text == "" {
			errs.Add(line, where, "id, title and text are all required")
		}
		if prev, dup := seen[c.ID]; dup && c.ID != "" {
			errs.Add(line, where, "duplicate clause id %q (first on line %d)", c.ID, prev)
		}
		seen[c.ID] = line
	}
	// Built-in rules cite clauses too; every decision must cite one the
	// catalogue holds.
	for _, r := range Builtins() {
		if _, ok := seen[r.Clause]; !ok && len(cs) > 0 {
			errs.Add(1, "", "clause %q is missing: the built-in rule %s cites it", r.Clause, r.ID)
			seen[r.Clause] = 0
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return cs, nil
}

// LoadClauses reads a catalogue file.
func LoadClauses(path string) (Catalogue, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseClauses(path, data)
}

// Lookup returns the clause with the given id.
func (c Catalogue) Lookup(id string) (Clause, bool) {
	i := slices.IndexFunc(c, func(cl Clause) bool { return cl.ID == id })
	if i < 0 {
		return Clause{}, false
	}
	return c[i], true
}

// IDs lists the ids of the catalogue in order.
func (c Catalogue) IDs() []string {
	ids := make([]string, len(c))
	for i, cl := range c {
		ids[i] = cl.ID
	}
	return ids
}
