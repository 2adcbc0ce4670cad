// Package policy owns the rules that decide what happens to each part of a
// message, the catalogue of municipal-policy clauses that rules cite, the
// Decision record and the vocabularies decisions are made of: actions,
// reasons (with what the notice says about them) and flags.
//
// A Policy is parsed once (from the embedded default or a file) against a
// clause catalogue passed in, validated as a whole, and then only read:
// Evaluate is safe for concurrent use. The package keeps no state of its
// own.
//
// Files: policy.go the Policy and its loading; rule.go roles, rules and the
// built-in rules; match.go what a rule matches and how; validate.go the
// checks of a parsed policy; action.go, reason.go, flag.go the
// vocabularies; clause.go the catalogue; decision.go the record.
package policy

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"os"
	"slices"

	"mugai/policy/strictyaml"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultSource names the embedded default policy in messages and records.
const DefaultSource = "embedded:default.yaml"

// Options tune an action. Empty fields take the policy's body options.
type Options struct {
	Links   string `yaml:"links"`   // textify: keep, defang or remove
	Into    string `yaml:"into"`    // extract: attachment (default: a .txt file) or body
	DPI     int    `yaml:"dpi"`     // flatten: 36–300, default 150
	Quality int    `yaml:"quality"` // flatten: JPEG quality 30–95, default 80
	Pages   int    `yaml:"pages"`   // flatten: pages rendered at most, 1–500, default 50
	URI     string `yaml:"uri"`     // disarm (PDF): keep or remove (default) links to web pages
}

// Link modes for URLs in the rebuilt text.
const (
	LinksKeep   = "keep"   // shown as they are
	LinksDefang = "defang" // hxxps://example[.]com/…: readable, not clickable
	LinksRemove = "remove" // replaced by a placeholder
)

// Output charsets for the rebuilt text.
const (
	CharsetUTF8      = "utf-8"
	CharsetISO2022JP = "iso-2022-jp" // for legacy clients; UTF-8 when the text does not fit
)

// Body options say how the body text is chosen and written.
type Body struct {
	Prefer  string `yaml:"prefer"`  // plain (default) or html: which alternative becomes the body
	Links   string `yaml:"links"`   // default link mode: defang (default), keep or remove
	Charset string `yaml:"charset"` // utf-8 (default) or iso-2022-jp
	// SubjectTag, when set (e.g. "[無害化]"), is put in front of the
	// subject of every rebuilt message that does not already carry it.
	SubjectTag string `yaml:"subject_tag"`
	// Notice is where the notice goes: top (default) or bottom.
	Notice string `yaml:"notice"`
	// NoticeText replaces the notice's opening paragraph (both languages
	// must be given); the list of parts and the original's id follow it.
	NoticeText Text `yaml:"notice_text"`
	// NoticeLanguages are the languages the notice is written in:
	// [ja, en] (default: Japanese first, English after it) or [ja].
	NoticeLanguages []string `yaml:"notice_languages"`
}

// Notice languages.
const (
	LangJA = "ja"
	LangEN = "en"
)

// NoticeEN reports whether the notice has English after the Japanese.
func (b Body) NoticeEN() bool {
	return b.NoticeLanguages == nil || slices.Contains(b.NoticeLanguages, LangEN)
}

// Notice positions.
const (
	NoticeTop    = "top"
	NoticeBottom = "bottom"
)

// Policy is a validated, ordered rule set.
type Policy struct {
	Name           string         `yaml:"name"`
	Body           Body           `yaml:"body"`
	Authentication Authentication `yaml:"authentication"`
	Rules          []Rule         `yaml:"rules"`

	Source string `yaml:"-"` // file path, or DefaultSource
	SHA256 string `yaml:"-"` // of the file's bytes; in every decision record
	// Clauses is the catalogue the rules were checked against: every
	// clause a rule of this policy cites is in it.
	Clauses Catalogue `yaml:"-"`
	// Observe, when set, is called by Evaluate with each subject and the
	// rule it returns: how a dry run (mugai policy test) sees what the
	// rules were asked (see Unapplied). Set it on a copy of the policy;
	// it must be safe for concurrent use. Nil in the gateway.
	Observe func(Subject, Rule) `yaml:"-"`
}

// Default returns the embedded default policy, checked against the
// embedded catalogue. The embedded files are checked by tests, so failing
// here is a build defect.
func Default() *Policy {
	p, err := Parse(DefaultSource, defaultYAML, DefaultClauses())
	if err != nil {
		panic("embedded default policy is invalid: " + err.Error())
	}
	return p
}

// DefaultYAML returns the bytes of the embedded default policy.
func DefaultYAML() []byte { return slices.Clone(defaultYAML) }

// LoadFile reads and validates a policy file against the clause
// catalogue. An empty path means the embedded default policy (checked
// against clauses too: a deployment's own catalogue must hold what it
// cites).
func LoadFile(file string, clauses Catalogue) (*Policy, error) {
	data, source := defaultYAML, DefaultSource
	if file != "" {
		var err error
		if data, err = os.ReadFile(file); err != nil {
			return nil, err
		}
		source = file
	}
	return Parse(source, data, clauses)
}

// Parse decodes a policy and validates it, every rule's clause against
// clauses (DefaultClauses() when the deployment has no catalogue of its
// own). The error, if any, is a *strictyaml.Error listing every problem
// as file:line.
func Parse(file string, data []byte, clauses Catalogue) (*Policy, error) {
	p := &Policy{Body: Body{Prefer: "plain", Links: LinksDefang, Charset: CharsetUTF8, Notice: NoticeTop,
		NoticeLanguages: []string{LangJA, LangEN}}, Clauses: clauses}
	root, err := strictyaml.Decode(file, data, p)
	errs := &strictyaml.Error{File: file}
	if err != nil {
		var se *strictyaml.Error
		if root == nil || !errors.As(err, &se) {
			return nil, err // not YAML at all: nothing to validate
		}
		errs.Problems = append(errs.Problems, se.Problems...)
	}
	p.Source = file
	sum := sha256.Sum256(data)
	p.SHA256 = hex.EncodeToString(sum[:])
	p.validate(ruleKeyLines(root), keyLines(root, "body"), errs)
	slices.SortStableFunc(errs.Problems, func(a, b strictyaml.Problem) int { return a.Line - b.Line })
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// LinkMode returns the link mode for text made under rule r.
func (p *Policy) LinkMode(r Rule) string {
	if r.Options.Links != "" {
		return r.Options.Links
	}
	return p.Body.Links
}
