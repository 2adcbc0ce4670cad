// Package policy owns the rules that decide what happens to each part of a
// message, the catalogue of municipal-policy clauses that rules cite, the
// Decision record and its stable reason codes.
//
// A Policy is loaded once (from the embedded default or a file), validated as
// a whole, and then only read: Evaluate is safe for concurrent use.
package policy

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"mugai/policy/strictyaml"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultSource names the embedded default policy in messages and records.
const DefaultSource = "embedded:default.yaml"

// Role is what a MIME leaf part is to the message, as the walker sees it.
type Role string

// The roles a rule can match.
const (
	// RoleBody is text that makes up the body staff read.
	RoleBody Role = "body"
	// RoleAlternative is another representation of the body that was not
	// chosen (the HTML of a multipart/alternative with a text part).
	RoleAlternative Role = "alternative"
	// RoleAttachment is everything else: files, inline images, nested
	// messages, calendar parts.
	RoleAttachment Role = "attachment"
)

var allRoles = []Role{RoleBody, RoleAlternative, RoleAttachment}

// allowedActions says which actions make sense for each role. Validate
// refuses a rule whose action does not fit every role it can match.
var allowedActions = map[Role][]Action{
	RoleBody:        {ActionTextify, ActionStrip},
	RoleAlternative: {ActionStrip},
	RoleAttachment:  {ActionKeep, ActionDisarm, ActionFlatten, ActionExtract, ActionStrip, ActionReject},
}

// Text is a human-readable string in Japanese and English.
type Text struct {
	JA string `yaml:"ja"`
	EN string `yaml:"en"`
}

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
	Flags        List      `yaml:"flags"`         // all must be set: encrypted, macro, disguised, polyglot
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

var allFlags = []string{"encrypted", "macro", "disguised", "polyglot", FlagHiddenText}

// FlagHiddenText is set on a body part whose HTML holds text a mail client
// would not show (the phishing trick builtin-hidden-text reports).
const FlagHiddenText = "hidden-text"

// UsesFlag reports whether any rule matches on flag, so the rebuild only
// looks for what some rule will ask about.
func (p *Policy) UsesFlag(flag string) bool {
	return slices.ContainsFunc(p.Rules, func(r Rule) bool { return slices.Contains(r.Match.Flags, flag) })
}

// Rule is one entry of a policy. The first rule that matches a part decides.
type Rule struct {
	ID      string  `yaml:"id"`
	Clause  string  `yaml:"clause"`
	Match   Match   `yaml:"match"`
	Action  Action  `yaml:"action"`
	Reason  Text    `yaml:"reason"`
	Options Options `yaml:"options"`

	Line int `yaml:"-"` // where the rule starts in its file
}

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
}

// Subject is what Evaluate knows about one part.
type Subject struct {
	Role         Role
	DetectedType string
	DeclaredType string
	Filename     string
	Flags        []string     // detect flags: encrypted, macro, disguised, polyglot
	Sender       string       // envelope sender ("" for <>)
	Rcpts        []string     // envelope recipients (none offline)
	Size         int64        // decoded bytes of the part
	Auth         []AuthResult // trusted Authentication-Results (see Authentication)
	ArchiveDepth int          // 0 for a MIME part, 1 for an archive member, …
}

// Built-in rules apply where the policy file has no say: structure the
// gateway cannot fully parse, and parts no rule matches. Both fail closed.
var (
	// RuleStructure removes parts beyond limits or with broken MIME.
	RuleStructure = Rule{
		ID: "builtin-structure", Clause: "2(13)", Action: ActionStrip,
		Reason: Text{
			JA: "メールの構造を完全には解析できない部分は、安全のため削除しました。",
			EN: "A part whose structure could not be fully parsed was removed to be safe.",
		},
	}
	// RuleHiddenText records text in an HTML body that a mail client would
	// not show; it is left out of the rebuilt text.
	RuleHiddenText = Rule{
		ID: "builtin-hidden-text", Clause: "3(1)", Action: ActionStrip,
		Reason: Text{
			JA: "HTML 本文に画面に表示されない文字列（フィッシングで使われる手口）があったため、取り除きました。",
			EN: "The HTML body held text that is not shown on screen (a phishing trick); it was left out.",
		},
	}
	// RuleLinkCheck records a link whose visible text names another host
	// than its target.
	RuleLinkCheck = Rule{
		ID: "builtin-link-check", Clause: "3(1)", Action: ActionTextify,
		Reason: Text{
			JA: "リンクの表示と実際の行き先が異なります。フィッシングの疑いがあります。",
			EN: "A link's visible text differs from where it leads. This may be phishing.",
		},
	}
	// RuleEmbeddedFile removes files written as text into a body.
	RuleEmbeddedFile = Rule{
		ID: "builtin-embedded-file", Clause: "2(13)", Action: ActionStrip,
		Reason: Text{
			JA: "本文の中に文字として埋め込まれたファイル（uuencode・yEnc・BinHex）を取り除きました。",
			EN: "A file written as text into the body (uuencode, yEnc, BinHex) was removed.",
		},
	}
	// RuleDangerous removes content that can never be made harmless here.
	RuleDangerous = Rule{
		ID: "builtin-dangerous-type", Clause: "6(6)", Action: ActionStrip,
		Reason: Text{
			JA: "実行ファイル・スクリプト・ショートカット・ディスクイメージ等は無害化できないため削除しました。",
			EN: "Executables, scripts, shortcuts, disk images and the like cannot be made harmless; removed.",
		},
	}
	// RuleTypeCheck removes disguised files and polyglots unless a rule
	// names the flag.
	RuleTypeCheck = Rule{
		ID: "builtin-type-check", Clause: "3(1)", Action: ActionStrip,
		Reason: Text{
			JA: "ファイル名・宣言された種類・中身が一致しない（偽装の疑いがある）ため削除しました。",
			EN: "The file's name, declared type and content disagree (it may be disguised); removed.",
		},
	}
	// RuleEncrypted removes encrypted files, which cannot be inspected.
	RuleEncrypted = Rule{
		ID: "builtin-encrypted", Clause: "6(6)", Action: ActionStrip,
		Reason: Text{
			JA: "暗号化（パスワード付き）されていて中身を検査できないため削除しました。原本は保管されています。必要な場合はシステム管理者に連絡してください。",
			EN: "The file is encrypted (password-protected), so its content cannot be inspected; removed. The original is held; ask the mail administrator if you need it.",
		},
	}
	// RuleSanitizeFailed removes a part whose sanitizer did not finish.
	RuleSanitizeFailed = Rule{
		ID: "builtin-sanitize-failed", Clause: "2(13)", Action: ActionStrip,
		Reason: Text{
			JA: "無害化の処理を完了できなかったため、安全のため削除しました。原本は保管されています。",
			EN: "The file could not be made harmless, so it was removed to be safe. The original is kept.",
		},
	}
	// RuleDefault removes parts that no rule of the policy matches.
	RuleDefault = Rule{
		ID: "builtin-default", Clause: "2(13)", Action: ActionStrip,
		Reason: Text{
			JA: "ポリシーのどの規則にも該当しないため削除しました。",
			EN: "No rule of the policy allows this part; it was removed.",
		},
	}
)

// Builtins lists the built-in rules, in the order they are shown to admins.
func Builtins() []Rule {
	return []Rule{RuleStructure, RuleEmbeddedFile, RuleDangerous, RuleTypeCheck, RuleEncrypted,
		RuleSanitizeFailed, RuleHiddenText, RuleLinkCheck, RuleDefault}
}

// Default returns the embedded default policy. The embedded file is checked
// by tests, so failing here is a build defect.
func Default() *Policy {
	p, err := Parse(DefaultSource, defaultYAML)
	if err != nil {
		panic("embedded default policy is invalid: " + err.Error())
	}
	return p
}

// DefaultYAML returns the bytes of the embedded default policy.
func DefaultYAML() []byte { return slices.Clone(defaultYAML) }

// LoadFile reads and validates a policy file. An empty path means the
// embedded default.
func LoadFile(file string) (*Policy, error) {
	if file == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(file, data)
}

// Parse decodes and validates a policy. The error, if any, is a
// *strictyaml.Error listing every problem as file:line.
func Parse(file string, data []byte) (*Policy, error) {
	p := &Policy{Body: Body{Prefer: "plain", Links: LinksDefang, Charset: CharsetUTF8, Notice: NoticeTop}}
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
	p.validate(ruleKeyLines(root), errs)
	slices.SortStableFunc(errs.Problems, func(a, b strictyaml.Problem) int { return a.Line - b.Line })
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

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
		} else if _, ok := LookupClause(r.Clause); !ok {
			errs.Add(at("clause"), where, "clause %q is not in the clause catalogue (known: %s)", r.Clause, strings.Join(ClauseIDs(), ", "))
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

// LinkMode returns the link mode for text made under rule r.
func (p *Policy) LinkMode(r Rule) string {
	if r.Options.Links != "" {
		return r.Options.Links
	}
	return p.Body.Links
}

func joinActions(as []Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
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
		if !slices.Contains(allFlags, f) {
			errs.Add(line, where, "match.flags %q is not one of %s", f, strings.Join(allFlags, ", "))
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

// Evaluate returns the first rule that matches s, or RuleDefault.
func (p *Policy) Evaluate(s Subject) Rule {
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
		if !slices.Contains(s.Flags, f) {
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
