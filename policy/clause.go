package policy

import (
	_ "embed"
	"slices"

	"go.yaml.in/yaml/v3"
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

var clauses = mustClauses()

func mustClauses() []Clause {
	var cs []Clause
	if err := yaml.Unmarshal(clausesYAML, &cs); err != nil {
		panic("embedded clause catalogue is invalid: " + err.Error())
	}
	return cs
}

// LookupClause returns the clause with the given id.
func LookupClause(id string) (Clause, bool) {
	i := slices.IndexFunc(clauses, func(c Clause) bool { return c.ID == id })
	if i < 0 {
		return Clause{}, false
	}
	return clauses[i], true
}

// ClauseIDs lists the ids of the catalogue in order.
func ClauseIDs() []string {
	ids := make([]string, len(clauses))
	for i, c := range clauses {
		ids[i] = c.ID
	}
	return ids
}
