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
func (p *Policy) validate(lines []map[string]int, errs *strictyaml.Error) {
	if len(p.Rules) == 0 {
		errs.Add(1, "rules", "a policy needs at least one rule")
	}
	if p.Body.Prefer != "plain" && p.Body.Prefer != "html" {
		errs.Add(0, "body.prefer", "%q is not plain or html", p.Body.Prefer)
	}
	if !validLinks(p.Body.Links) || p.Body.Links == "" {
		errs.Add(0, "body.links", "%q is not keep, defang or remove", p.Body.Links)
	}
	switch strings.ToLower(p.Body.Charset) {
	case CharsetUTF8, CharsetISO2022JP:
		p.Body.Charset = strings.ToLower(p.Body.Charset)
	default:
		errs.Add(0, "body.charset", "%q is not utf-8 or iso-2022-jp", p.Body.Charset)
	}
	if p.Body.Notice != NoticeTop && p.Body.Notice != NoticeBottom {
		errs.Add(0, "body.notice", "%q is not top or bottom", p.Body.Notice)
	}
	if t := p.Body.SubjectTag; len([]rune(t)) > 40 || strings.ContainsFunc(t, unicode.IsControl) {
		errs.Add(0, "body.subject_tag", "%q must be at most 40 characters on one line", t)
	}
	if nt := p.Body.NoticeText; (nt.JA == "") != (nt.EN == "") {
		errs.Add(0, "body.notice_text", "needs both ja and en text, or neither (the built-in text)")
	} else if len([]rune(nt.JA))+len([]rune(nt.EN)) > 4000 || strings.ContainsFunc(nt.JA+nt.EN, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) {
		errs.Add(0, "body.notice_text", "must be plain text lines, at most 4000 characters")
	}
	if p.Authentication.ReceivedAbove < 0 {
		errs.Add(0, "authentication.received_above", "%d is negative", p.Authentication.ReceivedAbove)
	}
	seen := map[string]int{}
	for i := range p.Rules {
		r := &p.Rules[i]
		at := func(key string) int {
			if i < len(lines) {
				if l, ok := lines[i][key]; ok {
					return l
				}
				return lines[i][""]
			}
			return 0
		}
		r.Line = at("")
		where := fmt.Sprintf("rules[%d]", i)
		if r.ID != "" {
			where += " (" + r.ID + ")"
		}
		switch {
		case r.ID == "":
			errs.Add(at(""), where, "id is required")
		case !idPattern.MatchString(r.ID):
			errs.Add(at("id"), where, "id %q must be lower-case letters, digits and '-', at most 64", r.ID)
		case strings.HasPrefix(r.ID, "builtin-"):
			errs.Add(at("id"), where, "ids starting with builtin- are reserved")
		default:
			if prev, dup := seen[r.ID]; dup {
				errs.Add(at("id"), where, "duplicate id (first used on line %d)", prev)
			}
			seen[r.ID] = at("id")
		}
		if r.Clause == "" {
			errs.Add(at(""), where, "clause is required (the clause of the municipal policy this rule serves, e.g. \"2(13)\")")
		} else if _, ok := p.Clauses.Lookup(r.Clause); !ok {
			errs.Add(at("clause"), where, "clause %q is not in the clause catalogue (known: %s)", r.Clause, strings.Join(p.Clauses.IDs(), ", "))
		}
		if r.Reason.JA == "" || r.Reason.EN == "" {
			errs.Add(at("reason"), where, "reason needs both ja and en text")
		}
		act, err := ParseAction(string(r.Action))
		if r.Action == "" {
			errs.Add(at(""), where, "action is required")
		} else if err != nil {
			errs.Add(at("action"), where, "%v", err)
		}
		r.Match.validate(where, at("match"), errs)
		if len(r.Match.Authenticated) > 0 && len(p.Authentication.AuthservIDs) == 0 {
			errs.Add(at("match"), where, "match.authenticated needs authentication.authserv_ids: the authserv-id of the upstream MTA whose Authentication-Results are trusted")
		}
		if !validLinks(r.Options.Links) {
			errs.Add(at("options"), where, "options.links %q is not keep, defang or remove", r.Options.Links)
		} else if r.Options.Links != "" && act != ActionTextify && err == nil {
			errs.Add(at("options"), where, "options.links only applies to textify rules")
		}
		switch {
		case r.Options.Into != "" && r.Options.Into != "attachment" && r.Options.Into != "body":
			errs.Add(at("options"), where, "options.into %q is not attachment or body", r.Options.Into)
		case r.Options.Into != "" && act != ActionExtract && err == nil:
			errs.Add(at("options"), where, "options.into only applies to extract rules")
		}
		switch {
		case r.Options.URI != "" && r.Options.URI != "keep" && r.Options.URI != "remove":
			errs.Add(at("options"), where, "options.uri %q is not keep or remove", r.Options.URI)
		case r.Options.URI != "" && act != ActionDisarm && err == nil:
			errs.Add(at("options"), where, "options.uri only applies to disarm rules")
		}
		for _, o := range []struct {
			name      string
			v, lo, hi int
		}{{"dpi", r.Options.DPI, 36, 300}, {"quality", r.Options.Quality, 30, 95}, {"pages", r.Options.Pages, 1, 500}} {
			switch {
			case o.v == 0:
			case o.v < o.lo || o.v > o.hi:
				errs.Add(at("options"), where, "options.%s %d is outside %d–%d", o.name, o.v, o.lo, o.hi)
			case act != ActionFlatten && err == nil:
				errs.Add(at("options"), where, "options.%s only applies to flatten rules", o.name)
			}
		}
		if err == nil {
			for _, role := range r.Match.roles() {
				if !slices.Contains(allowedActions[role], act) {
					errs.Add(at("action"), where, "action %s cannot apply to role %s (allowed: %s); narrow match.role", act, role, joinActions(allowedActions[role]))
				}
			}
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
		default:
			if _, err := path.Match(p, ""); err != nil {
				errs.Add(line, where, "match.%s %q is not a valid pattern", key, p)
			}
		}
	}
}
