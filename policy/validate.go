package policy

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"mugai/policy/strictyaml"
)

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// validate checks the whole policy and records every problem.
func (p *Policy) validate(lines []map[string]int, bodyLines map[string]int, errs *strictyaml.Error) {
	if len(p.Rules) == 0 {
		errs.Add(1, "rules", "a policy needs at least one rule")
	}
	p.Body.validate(bodyLines, errs)
	if p.Authentication.ReceivedAbove < 0 {
		errs.Add(0, "authentication.received_above", "%d is negative", p.Authentication.ReceivedAbove)
	}
	seen := map[string]int{}
	for i := range p.Rules {
		c := ruleCheck{where: fmt.Sprintf("rules[%d]", i), errs: errs}
		if i < len(lines) {
			c.lines = lines[i]
		}
		if id := p.Rules[i].ID; id != "" {
			c.where += " (" + id + ")"
		}
		p.validateRule(&p.Rules[i], c, seen)
	}
}

// validate checks the body options, each problem at the line of its key
// (lines, from keyLines; 0 when it is not written); the charset is kept
// in lower case.
func (b *Body) validate(lines map[string]int, errs *strictyaml.Error) {
	add := func(key, format string, args ...any) { errs.Add(lines[key], "body."+key, format, args...) }
	if b.Prefer != "plain" && b.Prefer != "html" {
		add("prefer", "%q is not plain or html", b.Prefer)
	}
	if !validLinks(b.Links) || b.Links == "" {
		add("links", "%q is not keep, defang or remove", b.Links)
	}
	switch strings.ToLower(b.Charset) {
	case CharsetUTF8, CharsetISO2022JP:
		b.Charset = strings.ToLower(b.Charset)
	default:
		add("charset", "%q is not utf-8 or iso-2022-jp", b.Charset)
	}
	if b.Notice != NoticeTop && b.Notice != NoticeBottom {
		add("notice", "%q is not top or bottom", b.Notice)
	}
	if t := b.SubjectTag; len([]rune(t)) > 40 || strings.ContainsFunc(t, unicode.IsControl) {
		add("subject_tag", "%q must be at most 40 characters on one line", t)
	}
	if nt := b.NoticeText; (nt.JA == "") != (nt.EN == "") {
		add("notice_text", "needs both ja and en text, or neither (the built-in text)")
	} else if len([]rune(nt.JA))+len([]rune(nt.EN)) > 4000 || strings.ContainsFunc(nt.JA+nt.EN, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) {
		add("notice_text", "must be plain text lines, at most 4000 characters")
	}
	if l := b.NoticeLanguages; !slices.Equal(l, []string{LangJA, LangEN}) && !slices.Equal(l, []string{LangJA}) {
		add("notice_languages", "%q is not [ja, en] or [ja] (the notice is in Japanese first; English may follow it)", l)
	}
}

// keyLines returns the line of each key of the mapping under key in the
// document's root mapping (empty when there is none).
func keyLines(root *yaml.Node, key string) map[string]int {
	lines := map[string]int{}
	if root == nil || root.Kind != yaml.MappingNode {
		return lines
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if m := root.Content[i+1]; root.Content[i].Value == key && m.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(m.Content); j += 2 {
				lines[m.Content[j].Value] = m.Content[j].Line
			}
		}
	}
	return lines
}

// ruleCheck records the problems of one rule, each at the line of the key
// it concerns (the rule's own line when the key is not written).
type ruleCheck struct {
	where string         // "rules[2] (id)"
	lines map[string]int // key → line; "" → the rule's line (see ruleKeyLines)
	errs  *strictyaml.Error
}

func (c ruleCheck) at(key string) int {
	if l, ok := c.lines[key]; ok {
		return l
	}
	return c.lines[""]
}

func (c ruleCheck) add(key, format string, args ...any) {
	c.errs.Add(c.at(key), c.where, format, args...)
}

// validateRule checks one rule: its id (unique among seen), the clause it
// cites against the policy's catalogue, its reason, action, match and
// options, and that the action fits every role the rule can match.
func (p *Policy) validateRule(r *Rule, c ruleCheck, seen map[string]int) {
	r.Line = c.at("")
	switch {
	case r.ID == "":
		c.add("", "id is required")
	case !idPattern.MatchString(r.ID):
		c.add("id", "id %q must be lower-case letters, digits and '-', at most 64", r.ID)
	case strings.HasPrefix(r.ID, "builtin-"):
		c.add("id", "ids starting with builtin- are reserved")
	default:
		if prev, dup := seen[r.ID]; dup {
			c.add("id", "duplicate id (first used on line %d)", prev)
		}
		seen[r.ID] = c.at("id")
	}
	if r.Clause == "" {
		c.add("", "clause is required (the clause of the municipal policy this rule serves, e.g. \"2(13)\")")
	} else if _, ok := p.Clauses.Lookup(r.Clause); !ok {
		c.add("clause", "clause %q is not in the clause catalogue (known: %s)", r.Clause, strings.Join(p.Clauses.IDs(), ", "))
	}
	if r.Reason.JA == "" || r.Reason.EN == "" {
		c.add("reason", "reason needs both ja and en text")
	}
	act, err := ParseAction(string(r.Action))
	if r.Action == "" {
		c.add("", "action is required")
	} else if err != nil {
		c.add("action", "%v", err)
	}
	r.Match.validate(c.where, c.at("match"), c.errs)
	if len(r.Match.Authenticated) > 0 && len(p.Authentication.AuthservIDs) == 0 {
		c.add("match", "match.authenticated needs authentication.authserv_ids: the authserv-id of the upstream MTA whose Authentication-Results are trusted")
	}
	if r.Release != "" && !slices.Contains(releaseModes, r.Release) {
		c.add("release", "release %q is not one of: %s", r.Release, strings.Join(releaseModes, ", "))
	}
	known := err == nil // the checks below that depend on the action need one
	c.checkOptions(r.Options, act, known)
	if known {
		for _, role := range r.Match.roles() {
			if !slices.Contains(allowedActions[role], act) {
				c.add("action", "action %s cannot apply to role %s (allowed: %s); narrow match.role", act, role, joinActions(allowedActions[role]))
			}
		}
	}
}

// checkOptions checks each option's value, and (when the action is known)
// that the action uses it.
func (c ruleCheck) checkOptions(o Options, act Action, known bool) {
	if !validLinks(o.Links) {
		c.add("options", "options.links %q is not keep, defang or remove", o.Links)
	} else if o.Links != "" && act != ActionTextify && known {
		c.add("options", "options.links only applies to textify rules")
	}
	switch {
	case o.Into != "" && o.Into != "attachment" && o.Into != "body":
		c.add("options", "options.into %q is not attachment or body", o.Into)
	case o.Into != "" && act != ActionExtract && known:
		c.add("options", "options.into only applies to extract rules")
	}
	switch {
	case o.URI != "" && o.URI != "keep" && o.URI != "remove":
		c.add("options", "options.uri %q is not keep or remove", o.URI)
	case o.URI != "" && act != ActionDisarm && known:
		c.add("options", "options.uri only applies to disarm rules")
	}
	for _, n := range []struct {
		name      string
		v, lo, hi int
	}{{"dpi", o.DPI, 36, 300}, {"quality", o.Quality, 30, 95}, {"pages", o.Pages, 1, 500}} {
		switch {
		case n.v == 0:
		case n.v < n.lo || n.v > n.hi:
			c.add("options", "options.%s %d is outside %d–%d", n.name, n.v, n.lo, n.hi)
		case act != ActionFlatten && known:
			c.add("options", "options.%s only applies to flatten rules", n.name)
		}
	}
}

func validLinks(s string) bool {
	return s == "" || s == LinksKeep || s == LinksDefang || s == LinksRemove
}

func (m *Match) validate(where string, line int, errs *strictyaml.Error) {
	for _, r := range m.Role {
		if !slices.Contains(allRoles, Role(r)) {
			errs.Add(line, where, "match.role %q is not one of body, alternative, attachment", r)
		}
	}
	for _, list := range []struct {
		key  string
		vals List
	}{{"type", m.Type}, {"declared_type", m.DeclaredType}} {
		for _, t := range list.vals {
			if t != "*" && !strings.Contains(t, "/") {
				errs.Add(line, where, "match.%s %q must look like type/subtype, type/* or *", list.key, t)
			} else if _, err := path.Match(strings.ToLower(t), ""); err != nil {
				errs.Add(line, where, "match.%s %q is not a valid pattern", list.key, t)
			}
		}
	}
	for _, f := range m.Flags {
		if !slices.Contains(allFlags, Flag(f)) {
			errs.Add(line, where, "match.flags %q is not one of %s", f, joinFlags(allFlags))
		}
	}
	for _, e := range m.Extension {
		if strings.Trim(e, ".") == "" || strings.ContainsAny(e, "/\\ *") {
			errs.Add(line, where, "match.extension %q must be a plain extension such as pdf", e)
		}
	}
	validateAddressPatterns("sender", m.Sender, line, where, errs)
	validateAddressPatterns("recipient", m.Recipient, line, where, errs)
	for _, p := range m.Size.parse() {
		errs.Add(line, where, "%s", p)
	}
	if d := m.ArchiveDepth; d.Min != nil && *d.Min < 0 || d.Max != nil && *d.Max < 0 || d.Min != nil && d.Max != nil && *d.Min > *d.Max {
		errs.Add(line, where, "match.archive_depth: bounds must be 0 or more, min not above max")
	}
	for _, a := range m.Authenticated {
		if !slices.Contains(authMethods, a) {
			errs.Add(line, where, "match.authenticated %q is not one of %s", a, strings.Join(authMethods, ", "))
		}
	}
}

// ruleKeyLines returns, for each rule in the document, the line of the rule
// ("" key) and of each of its keys, so problems point at the right line.
func ruleKeyLines(root *yaml.Node) []map[string]int {
	if root == nil || root.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "rules" || root.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		var out []map[string]int
		for _, rn := range root.Content[i+1].Content {
			m := map[string]int{"": rn.Line}
			for j := 0; j+1 < len(rn.Content); j += 2 {
				m[rn.Content[j].Value] = rn.Content[j].Line
			}
			out = append(out, m)
		}
		return out
	}
	return nil
}

func validateAddressPatterns(key string, patterns List, line int, where string, errs *strictyaml.Error) {
	for _, p := range patterns {
		switch {
		case p == "<>":
		case p == "" || strings.ContainsAny(p, " <>\"\\,;"):
			errs.Add(line, where, "match.%s %q must be an address or domain pattern such as *@example.lg.jp or *.lg.jp", key, p)
		case strings.Count(p, "@") > 1:
			errs.Add(line, where, "match.%s %q has more than one @", key, p)
		case strings.HasPrefix(p, "@") || strings.HasSuffix(p, "@"):
			// "@example.jp" (the accept.recipients spelling) would match no
			// address at all: the rule would silently never apply.
			errs.Add(line, where, "match.%s %q matches no address (nothing on one side of the @): write *@%s for every address of the domain, or the domain alone",
				key, p, strings.Trim(p, "@"))
		default:
			if _, err := path.Match(p, ""); err != nil {
				errs.Add(line, where, "match.%s %q is not a valid pattern", key, p)
			}
		}
	}
}
