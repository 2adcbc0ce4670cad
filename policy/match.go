package policy

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"mugai/policy/strictyaml"
)

// List is a YAML list of strings that also accepts a single scalar.
type List []string

// UnmarshalYAML accepts "x" as well as ["x", "y"].
func (l *List) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = List{n.Value}
		return nil
	}
	var s []string
	if err := n.Decode(&s); err != nil {
		return err
	}
	*l = s
	return nil
}

// Match selects parts. Fields are ANDed; the values within one field are
// ORed; an empty field matches anything.
type Match struct {
	Role         List      `yaml:"role"`          // body, alternative, attachment
	Type         List      `yaml:"type"`          // detected type: "application/pdf", "image/*", "*"
	DeclaredType List      `yaml:"declared_type"` // type in Content-Type, same patterns
	Extension    List      `yaml:"extension"`     // filename extension: "pdf" or ".pdf", case-insensitive
	Flags        List      `yaml:"flags"`         // all must be set: encrypted, macro, disguised, polyglot, hidden-text (Flag)
	Sender       List      `yaml:"sender"`        // envelope sender: "*@example.lg.jp", "*.lg.jp", "<>"
	Recipient    List      `yaml:"recipient"`     // every envelope recipient must match (same patterns)
	Size         SizeRange `yaml:"size"`          // decoded size of the part: {min: 1KB, max: 10MiB}
	// Authenticated: one of these methods (dkim, dmarc, spf) passed, in
	// a trusted Authentication-Results field, for the sender's domain.
	Authenticated List `yaml:"authenticated"`
	// ArchiveDepth selects by nesting inside archives: 0 for a part of
	// the mail itself, 1 for a member of an attached ZIP, and so on.
	ArchiveDepth DepthRange `yaml:"archive_depth"`
}

// DepthRange is an inclusive range of archive depths; an unset bound is open.
type DepthRange struct {
	Min *int `yaml:"min"`
	Max *int `yaml:"max"`
}

func (r DepthRange) set() bool { return r.Min != nil || r.Max != nil }

func (r DepthRange) contains(n int) bool {
	return (r.Min == nil || n >= *r.Min) && (r.Max == nil || n <= *r.Max)
}

// Subject is what Evaluate knows about one part.
type Subject struct {
	Role         Role
	DetectedType string
	DeclaredType string
	Filename     string
	Flags        []Flag       // what identification (and the body's rendering) found
	Sender       string       // envelope sender ("" for <>)
	Rcpts        []string     // envelope recipients (none offline)
	Size         int64        // decoded bytes of the part
	Auth         []AuthResult // trusted Authentication-Results (see Authentication)
	ArchiveDepth int          // 0 for a MIME part, 1 for an archive member, …
}

// Evaluate returns the first rule that matches s, or RuleDefault.
func (p *Policy) Evaluate(s Subject) Rule {
	r := p.evaluate(s)
	if p.Observe != nil {
		p.Observe(s, r)
	}
	return r
}

func (p *Policy) evaluate(s Subject) Rule {
	for _, r := range p.Rules {
		if r.Match.matches(s) {
			return r
		}
	}
	return RuleDefault
}

func (m *Match) matches(s Subject) bool {
	if len(m.Role) > 0 && !slices.Contains(m.Role, string(s.Role)) {
		return false
	}
	if len(m.Type) > 0 && !matchType(m.Type, s.DetectedType) {
		return false
	}
	if len(m.DeclaredType) > 0 && !matchType(m.DeclaredType, s.DeclaredType) {
		return false
	}
	for _, f := range m.Flags {
		if !slices.Contains(s.Flags, Flag(f)) {
			return false
		}
	}
	if len(m.Sender) > 0 && !matchAddress(m.Sender, s.Sender) {
		return false
	}
	if len(m.Recipient) > 0 && !matchRecipients(m.Recipient, s.Rcpts) {
		return false
	}
	if m.Size.set() && !m.Size.contains(s.Size) {
		return false
	}
	if len(m.Authenticated) > 0 && !authenticated(m.Authenticated, s.Auth, s.Sender) {
		return false
	}
	if m.ArchiveDepth.set() && !m.ArchiveDepth.contains(s.ArchiveDepth) {
		return false
	}
	if len(m.Extension) > 0 {
		ext := strings.TrimPrefix(strings.ToLower(path.Ext(strings.TrimRight(s.Filename, ". "))), ".")
		if ext == "" || !slices.ContainsFunc(m.Extension, func(e string) bool {
			return strings.ToLower(strings.TrimPrefix(e, ".")) == ext
		}) {
			return false
		}
	}
	return true
}

func matchType(patterns List, typ string) bool {
	typ = strings.ToLower(typ)
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), typ); ok || p == "*" {
			return true
		}
	}
	return false
}

// roles returns the roles a match can select.
func (m *Match) roles() []Role {
	if len(m.Role) == 0 {
		return allRoles
	}
	var rs []Role
	for _, r := range m.Role {
		if slices.Contains(allRoles, Role(r)) {
			rs = append(rs, Role(r))
		}
	}
	return rs
}

// matchAddress reports whether addr matches one of the patterns. A
// pattern with "@" is matched against the whole address ("*@example.jp",
// "taro@example.jp"); one without is matched against the domain
// ("example.lg.jp", "*.lg.jp"). "<>" matches the null sender. Matching is
// case-insensitive; "*" and "?" work as in path.Match ('.' is ordinary).
func matchAddress(patterns List, addr string) bool {
	addr = strings.ToLower(addr)
	for _, p := range patterns {
		p = strings.ToLower(p)
		switch {
		case p == "<>":
			if addr == "" {
				return true
			}
		case addr == "":
		case strings.Contains(p, "@"):
			if ok, _ := path.Match(p, addr); ok {
				return true
			}
		default:
			_, domain, _ := strings.Cut(addr, "@")
			if ok, _ := path.Match(p, domain); ok {
				return true
			}
		}
	}
	return false
}

// matchRecipients is true when every recipient matches: the rebuilt
// message goes to all of them alike, so a rule that relaxes the handling
// for some recipients must not reach the others.
func matchRecipients(patterns List, rcpts []string) bool {
	if len(rcpts) == 0 {
		return false
	}
	for _, r := range rcpts {
		if !matchAddress(patterns, r) {
			return false
		}
	}
	return true
}

// ParseByteSize parses a size in bytes, written as a number or with a
// unit: 500, 10KB, 10KiB, 5MB, 5MiB, 1GB (KB=1000, KiB=1024). It is the
// configuration's syntax (strictyaml.ParseSize), so both read alike.
func ParseByteSize(s string) (int64, error) { return strictyaml.ParseSize(s) }

// SizeRange selects parts by decoded size; an unset bound is open. The
// bounds are kept as written and parsed when the policy is validated, so a
// bad one is reported with its line like every other problem.
type SizeRange struct {
	Min string `yaml:"min"`
	Max string `yaml:"max"`

	min, max int64 // parsed; max < 0 means none
}

func (r *SizeRange) set() bool { return r.Min != "" || r.Max != "" }

func (r *SizeRange) contains(n int64) bool {
	return n >= r.min && (r.max < 0 || n <= r.max)
}

// parse fills the parsed bounds and reports what is wrong with them.
func (r *SizeRange) parse() []string {
	var problems []string
	r.min, r.max = 0, -1
	if r.Min != "" {
		v, err := ParseByteSize(r.Min)
		if err != nil {
			problems = append(problems, "match.size.min: "+err.Error())
		}
		r.min = v
	}
	if r.Max != "" {
		v, err := ParseByteSize(r.Max)
		if err != nil {
			problems = append(problems, "match.size.max: "+err.Error())
		}
		r.max = v
	}
	if len(problems) == 0 && r.max >= 0 && r.min > r.max {
		problems = append(problems, fmt.Sprintf("match.size: min %d is above max %d", r.min, r.max))
	}
	return problems
}

func (r SizeRange) String() string {
	lo, hi := "0", "∞"
	if r.Min != "" {
		lo = r.Min
	}
	if r.Max != "" {
		hi = r.Max
	}
	return lo + "–" + hi
}
