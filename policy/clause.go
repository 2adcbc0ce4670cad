package policy

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"

	"go.yaml.in/yaml/v3"

	"mugai/policy/strictyaml"
)

//go:embed clauses.yaml
var clausesYAML []byte

// Clause is one clause of the municipality's cybersecurity policy that a
// rule can cite.
type Clause struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
	Text  string `yaml:"text"`
}

// catalogue is the clause catalogue in force: the embedded one unless a
// deployment loaded its own (UseClauses). Rules are checked against it
// when a policy is parsed.
var catalogue atomic.Pointer[[]Clause]

func init() {
	cs := mustClauses()
	catalogue.Store(&cs)
}

func mustClauses() []Clause {
	cs, err := ParseClauses("embedded clauses.yaml", clausesYAML)
	if err != nil {
		panic("embedded clause catalogue is invalid: " + err.Error())
	}
	return cs
}

// ParseClauses reads a clause catalogue: a YAML list of {id, title, text},
// ids unique, every field given. Every problem is reported with its line.
func ParseClauses(file string, data []byte) ([]Clause, error) {
	var cs []Clause
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
func LoadClauses(path string) ([]Clause, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseClauses(path, data)
}

// UseClauses puts a deployment's catalogue in force for every policy
// parsed from now on (the process has one catalogue).
func UseClauses(cs []Clause) { catalogue.Store(&cs) }

// Clauses returns the catalogue in force.
func Clauses() []Clause { return *catalogue.Load() }

// LookupClause returns the clause with the given id.
func LookupClause(id string) (Clause, bool) {
	cs := *catalogue.Load()
	i := slices.IndexFunc(cs, func(c Clause) bool { return c.ID == id })
	if i < 0 {
		return Clause{}, false
	}
	return cs[i], true
}

// ClauseIDs lists the ids of the catalogue in order.
func ClauseIDs() []string {
	cs := *catalogue.Load()
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}
