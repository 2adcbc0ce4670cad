package gateway

import (
	"encoding/json"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// acceptRules are the intake settings a running gateway can change: who
// may hand us mail and for which domains.
type acceptRules struct {
	networks []netip.Prefix
	domains  map[string]bool
	from     Accept // as configured, to tell what a reload changes
}

func newAcceptRules(a Accept) *acceptRules {
	r := &acceptRules{domains: map[string]bool{}, from: a}
	for _, n := range a.Networks {
		p, _ := parseNetwork(n) // validated
		r.networks = append(r.networks, p)
	}
	for _, d := range a.Domains {
		r.domains[strings.ToLower(d)] = true
	}
	return r
}

// ApplyConfig takes a re-read configuration (SIGHUP): accept.networks and
// accept.domains are applied at once, for the next session and command;
// every other key that changed is returned in restart, and keeps its old
// value until the process restarts. cfg must have been validated.
func (g *Gateway) ApplyConfig(cfg Config) (applied, restart []string) {
	old := g.cfg // as started: the sections that apply at restart only
	live := g.accept.Load().from
	if !slices.Equal(cfg.Accept.Networks, live.Networks) {
		applied = append(applied, "accept.networks")
	}
	if !slices.Equal(cfg.Accept.Domains, live.Domains) {
		applied = append(applied, "accept.domains")
	}
	if len(applied) > 0 {
		g.accept.Store(newAcceptRules(cfg.Accept))
	}
	// The rest, compared section by section (as JSON, the form the
	// effective config is logged in), with the live keys taken out.
	cfg.Accept.Networks, cfg.Accept.Domains = old.Accept.Networks, old.Accept.Domains
	a, b := sections(old), sections(cfg)
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if string(a[k]) != string(b[k]) {
			restart = append(restart, k)
		}
	}
	return applied, restart
}

func sections(c Config) map[string]json.RawMessage {
	data, _ := json.Marshal(c)
	var m map[string]json.RawMessage
	json.Unmarshal(data, &m)
	return m
}
