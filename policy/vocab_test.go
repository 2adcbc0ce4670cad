package policy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// stableReasons are the reason strings the audit log, the originals
// index, reports and admins' scripts key on: a stable interface. A reason
// may be added (add it here too), never renamed or removed.
var stableReasons = map[string]string{
	"ReasonBodyText":           "body-text",
	"ReasonHTMLConverted":      "html-converted",
	"ReasonAlternativeUnused":  "alternative-unused",
	"ReasonBodyLimit":          "body-limit",
	"ReasonTNEFBody":           "tnef-body",
	"ReasonAttachment":         "attachment",
	"ReasonTypeMismatch":       "type-mismatch",
	"ReasonPolyglot":           "polyglot",
	"ReasonEncryptedArchive":   "encrypted-archive",
	"ReasonEncrypted":          "encrypted",
	"ReasonDangerousType":      "dangerous-type",
	"ReasonUnsupportedType":    "unsupported-type",
	"ReasonSanitizeFailed":     "sanitize-failed",
	"ReasonNoSanitizer":        "no-sanitizer",
	"ReasonHiddenContent":      "hidden-content",
	"ReasonEmbeddedFile":       "embedded-file",
	"ReasonNothingLeft":        "nothing-left",
	"ReasonFlattened":          "flattened",
	"ReasonExtracted":          "extracted",
	"ReasonDisarmed":           "disarmed",
	"ReasonNotKeepable":        "not-keepable",
	"ReasonCharsetMislabelled": "charset-mislabelled",
	"ReasonCharsetGuessed":     "charset-guessed",
	"ReasonHiddenText":         "hidden-text",
	"ReasonLinkMismatch":       "link-mismatch",
	"ReasonUnknownCharset":     "unknown-charset",
	"ReasonUndecodableText":    "undecodable-text",
	"ReasonUnknownEncoding":    "unknown-transfer-encoding",
	"ReasonEncodingError":      "encoding-error",
	"ReasonMalformedMIME":      "malformed-mime",
	"ReasonDepthLimit":         "depth-limit",
	"ReasonPartLimit":          "part-limit",
	"ReasonHeaderLimit":        "header-limit",
	"ReasonSizeLimit":          "size-limit",
	"ReasonUnparseable":        "unparseable-message",
}

// reasonConsts reads every constant of type Reason declared in the
// package's source, by name: what the code defines, not what a list in it
// says it defines.
func reasonConsts(t *testing.T) map[string]string {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Reason" {
					continue
				}
				for i, n := range vs.Names {
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok {
						t.Fatalf("%s is not a string literal", n.Name)
					}
					v, _ := strconv.Unquote(lit.Value)
					out[n.Name] = v
				}
			}
		}
	}
	return out
}

// TestReasonStrings pins every reason to its string: one file defines
// them (reason.go), each is kebab-case, none is shared, none renamed.
func TestReasonStrings(t *testing.T) {
	got := reasonConsts(t)
	kebab := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	seen := map[string]string{}
	for name, v := range got {
		want, ok := stableReasons[name]
		switch {
		case !ok:
			t.Errorf("%s = %q is new: add it to stableReasons (and never change it after)", name, v)
		case v != want:
			t.Errorf("%s = %q, was %q: reasons are a stable interface, never renamed", name, v, want)
		}
		if !kebab.MatchString(v) {
			t.Errorf("%s = %q is not kebab-case", name, v)
		}
		if other, dup := seen[v]; dup {
			t.Errorf("%s and %s are both %q", name, other, v)
		}
		seen[v] = name
	}
	for name := range stableReasons {
		if _, ok := got[name]; !ok {
			t.Errorf("%s was removed: audit logs and scripts still name it", name)
		}
	}
	// The typed constants are those strings (what the audit writes).
	if string(ReasonUnknownEncoding) != "unknown-transfer-encoding" || string(ReasonUnparseable) != "unparseable-message" {
		t.Error("constants and source disagree")
	}
}

// TestReasonNotice: the reasons staff are told about carry both texts;
// ordinary ones carry none.
func TestReasonNotice(t *testing.T) {
	tests := []struct {
		r      Reason
		ja, en string // prefixes; "" when the notice says nothing more
	}{
		{ReasonEncryptedArchive, "パスワード付き ZIP（PPAP）", "A password-protected ZIP (PPAP)"},
		{ReasonCharsetMislabelled, "本文の文字コードの表示が誤って", "The text's declared character set was wrong"},
		{ReasonPartLimit, "部分の数が上限を超えた", "The mail has too many parts"},
		{ReasonMalformedMIME, "メールの構造が壊れている", "The mail's structure is broken here."},
		{ReasonUnparseable, "メールの構造が壊れている", "The mail's structure is broken here."},
		{ReasonBodyLimit, "本文が処理の上限を超えました。", "The body text exceeded a processing limit."},
		{ReasonBodyText, "", ""},
		{ReasonHTMLConverted, "", ""},
		{ReasonAttachment, "", ""},
		{ReasonDisarmed, "", ""},
		{ReasonTypeMismatch, "", ""},
		{Reason("no-such-reason"), "", ""},
	}
	for _, tc := range tests {
		n := tc.r.Notice()
		if tc.ja == "" && n != (Text{}) || !strings.HasPrefix(n.JA, tc.ja) || !strings.HasPrefix(n.EN, tc.en) {
			t.Errorf("%s.Notice() = %+v, want %q… / %q…", tc.r, n, tc.ja, tc.en)
		}
	}
	for r, n := range reasonNotices {
		if n.JA == "" || n.EN == "" || strings.Contains(n.JA+n.EN, "\n") {
			t.Errorf("%s: notice needs one line of each language: %+v", r, n)
		}
		if _, ok := stableReasons[reasonName(t, r)]; !ok {
			t.Errorf("notice for %q, which is no reason", r)
		}
	}
}

func reasonName(t *testing.T, r Reason) string {
	for name, v := range reasonConsts(t) {
		if v == string(r) {
			return name
		}
	}
	return ""
}

// TestActions: the enum holds what this build carries out; a policy
// naming a planned action (reject) or an unknown one is told which exist.
func TestActions(t *testing.T) {
	for _, a := range allActions {
		if got, err := ParseAction(string(a)); got != a || err != nil {
			t.Errorf("ParseAction(%s) = %q, %v", a, got, err)
		}
		if ja, en := a.Label(); ja == string(a) || en == string(a) {
			t.Errorf("%s has no notice label", a)
		}
	}
	tests := []struct{ in, want string }{
		{"reject", `action "reject" is not available in this version of mugai (available: textify, keep, disarm, flatten, extract, strip)`},
		{"explode", `unknown action "explode" (one of: textify, keep, disarm, flatten, extract, strip)`},
		{"", `unknown action ""`},
	}
	for _, tc := range tests {
		if _, err := ParseAction(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseAction(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
	_, err := Parse("r.yaml", []byte("rules:\n  - id: refuse\n    clause: \"6(6)\"\n    match: {role: attachment}\n    action: reject\n    reason: {ja: x, en: y}\n"), DefaultClauses())
	if err == nil || !strings.Contains(err.Error(), `r.yaml:5: rules[0] (refuse): action "reject" is not available in this version of mugai`) {
		t.Errorf("a policy naming reject: %v", err)
	}
}

// TestFlags: match.flags takes the Flag vocabulary, and a rule that names
// a flag decides the parts that carry it.
func TestFlags(t *testing.T) {
	p, err := Parse("f.yaml", []byte(`
rules:
  - id: macro-docs
    clause: "6(6)"
    match: {role: attachment, flags: [macro, disguised]}
    action: strip
    reason: {ja: x, en: y}
  - id: hidden
    clause: "3(1)"
    match: {role: body, flags: hidden-text}
    action: strip
    reason: {ja: x, en: y}
`), DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	if !p.UsesFlag(FlagHiddenText) || !p.UsesFlag(FlagMacro) || p.UsesFlag(FlagEncrypted) {
		t.Error("UsesFlag does not follow the rules")
	}
	if r := p.Rules[0]; !r.NamesFlag(FlagDisguised) || r.NamesFlag(FlagPolyglot) {
		t.Error("NamesFlag does not follow match.flags")
	}
	s := Subject{Role: RoleAttachment, Flags: []Flag{FlagMacro}}
	if got := p.Evaluate(s).ID; got != "builtin-default" {
		t.Errorf("one of two flags matched %s", got)
	}
	s.Flags = append(s.Flags, FlagDisguised)
	if got := p.Evaluate(s).ID; got != "macro-docs" {
		t.Errorf("both flags matched %s", got)
	}
	_, err = Parse("f.yaml", []byte("rules:\n  - id: a\n    clause: \"6(6)\"\n    match: {flags: [signed]}\n    action: strip\n    reason: {ja: x, en: y}\n"), DefaultClauses())
	if err == nil || !strings.Contains(err.Error(), `match.flags "signed" is not one of encrypted, macro, disguised, polyglot, hidden-text`) {
		t.Errorf("unknown flag: %v", err)
	}
}
