package policy

import (
	"fmt"
	"strings"
	"testing"
)

func TestDefaultPolicy(t *testing.T) {
	p := Default()
	if p.SHA256 == "" || p.Source != DefaultSource || len(p.Rules) == 0 {
		t.Fatalf("default policy = %+v", p)
	}
	tests := []struct {
		s      Subject
		rule   string
		action Action
	}{
		{Subject{Role: RoleBody, DetectedType: "text/plain", DeclaredType: "text/plain"}, "body-text", ActionTextify},
		{Subject{Role: RoleBody, DetectedType: "text/html", DeclaredType: "text/html"}, "body-text", ActionTextify},
		{Subject{Role: RoleAlternative, DeclaredType: "text/html"}, "alternative-drop", ActionStrip},
		{Subject{Role: RoleAttachment, DetectedType: "application/pdf", Filename: "a.pdf"}, "pdf-flatten", ActionFlatten},
		{Subject{Role: RoleAttachment, DetectedType: "application/x-7z-compressed", Filename: "a.7z"}, "attachment-strip", ActionStrip},
		{Subject{Role: RoleAttachment, DetectedType: "text/plain", Filename: "a.txt"}, "text-disarm", ActionDisarm},
		{Subject{Role: RoleAttachment, DetectedType: "image/jpeg", Filename: "a.jpg"}, "image-disarm", ActionDisarm},
		{Subject{Role: RoleAttachment, DetectedType: "application/zip", Filename: "a.zip"}, "archive-open", ActionDisarm},
		{Subject{Role: RoleAttachment, DetectedType: "application/pdf", Filename: "a.pdf"}, "pdf-flatten", ActionFlatten},
		{Subject{Role: RoleAttachment, DetectedType: "application/x-7z-compressed", Filename: "a.7z"}, "attachment-strip", ActionStrip},
	}
	for _, tc := range tests {
		r := p.Evaluate(tc.s)
		if r.ID != tc.rule || r.Action != tc.action {
			t.Errorf("Evaluate(%+v) = %s/%s, want %s/%s", tc.s, r.ID, r.Action, tc.rule, tc.action)
		}
		if _, ok := p.Clauses.Lookup(r.Clause); !ok {
			t.Errorf("rule %s cites unknown clause %q", r.ID, r.Clause)
		}
	}
}

func TestMatch(t *testing.T) {
	p, err := Parse("m.yaml", []byte(`
name: match test
rules:
  - id: keep-text
    clause: "6(6)"
    match: {role: attachment, type: ["text/*"], extension: [txt, ".CSV"]}
    action: keep
    reason: {ja: "テキストは添付します", en: "plain text is attached"}
  - id: body
    clause: "2(13)"
    match: {role: body}
    action: textify
    reason: {ja: "本文", en: "body"}
`), DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		s    Subject
		rule string
	}{
		{Subject{Role: RoleAttachment, DetectedType: "text/plain", Filename: "memo.txt"}, "keep-text"},
		{Subject{Role: RoleAttachment, DetectedType: "text/plain", Filename: "DATA.csv"}, "keep-text"},
		{Subject{Role: RoleAttachment, DetectedType: "application/pdf", Filename: "memo.txt"}, "builtin-default"},
		{Subject{Role: RoleAttachment, DetectedType: "text/plain", Filename: "noext"}, "builtin-default"},
		{Subject{Role: RoleAttachment, DetectedType: "text/plain", Filename: "a.txt.exe"}, "builtin-default"},
		{Subject{Role: RoleBody, DetectedType: "text/plain"}, "body"},
		{Subject{Role: RoleAlternative, DetectedType: "text/html"}, "builtin-default"},
	}
	for _, tc := range tests {
		if got := p.Evaluate(tc.s).ID; got != tc.rule {
			t.Errorf("Evaluate(%+v) = %s, want %s", tc.s, got, tc.rule)
		}
	}
}

// TestParseErrors: every problem is reported at once, each with file:line.
func TestParseErrors(t *testing.T) {
	src := `name: broken
rules:
  - id: Bad_ID
    clause: "9(99)"
    action: reject
    reason: {ja: "x"}
  - id: dup
    clause: "2(13)"
    action: keep
    reason: {ja: "x", en: "x"}
  - id: dup
    clause: "2(13)"
    match: {role: [body, bogus], type: pdf}
    action: explode
    reason: {ja: "x", en: "x"}
  - id: builtin-mine
    clause: "2(13)"
    match: {role: attachment}
    action: strip
    reason: {ja: "x", en: "x"}
    options: {uri: keep}
    colour: red
`
	_, err := Parse("p.yaml", []byte(src), DefaultClauses())
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`p.yaml:22: rules[3].colour: unknown key`,
		`p.yaml:3: rules[0] (Bad_ID): id "Bad_ID" must be lower-case`,
		`p.yaml:4: rules[0] (Bad_ID): clause "9(99)" is not in the clause catalogue`,
		`p.yaml:5: rules[0] (Bad_ID): action "reject" is not available in this version`,
		`p.yaml:6: rules[0] (Bad_ID): reason needs both ja and en text`,
		`p.yaml:9: rules[1] (dup): action keep cannot apply to role body`,
		`p.yaml:11: rules[2] (dup): duplicate id (first used on line 7)`,
		`p.yaml:14: rules[2] (dup): unknown action "explode"`,
		`rules[2] (dup): match.role "bogus" is not one of`,
		`rules[2] (dup): match.type "pdf" must look like type/subtype`,
		`p.yaml:16: rules[3] (builtin-mine): ids starting with builtin- are reserved`,
		`rules[3] (builtin-mine): options.uri only applies to disarm rules`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q\n--- got ---\n%v", want, err)
		}
	}
}

func TestParseSyntaxError(t *testing.T) {
	_, err := Parse("s.yaml", []byte("rules:\n  - id: x\n   bad indent: [\n"), DefaultClauses())
	if err == nil || !strings.HasPrefix(err.Error(), "s.yaml:") {
		t.Fatalf("err = %v, want s.yaml:LINE: …", err)
	}
	if _, err := Parse("e.yaml", []byte(""), DefaultClauses()); err == nil || !strings.Contains(err.Error(), "at least one rule") {
		t.Errorf("empty policy: err = %v", err)
	}
}

// FuzzPolicyParse: Parse never panics, and a policy it accepts evaluates
// every subject to a rule with a known clause.
func FuzzPolicyParse(f *testing.F) {
	f.Add(defaultYAML)
	f.Add([]byte("rules:\n  - id: a\n    clause: \"7\"\n    action: strip\n    reason: {ja: x, en: y}\n"))
	f.Add([]byte("rules:\n  - id: a\n    clause: \"7\"\n    match: {sender: \"*.lg.jp\", recipient: [\"<>\"], size: {min: 1KiB, max: 2MB}}\n    action: strip\n    reason: {ja: x, en: y}\n"))
	f.Add([]byte("rules: [{id: a, match: {type: '[', role: body}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("f.yaml", data, DefaultClauses())
		if err != nil {
			return
		}
		for _, role := range allRoles {
			r := p.Evaluate(Subject{Role: role, DetectedType: "application/pdf", DeclaredType: "text/html", Filename: "a.b", Sender: "x@a.lg.jp", Rcpts: []string{"y@b.example"}, Size: 2048})
			if _, ok := p.Clauses.Lookup(r.Clause); !ok || r.Action == "" {
				t.Fatalf("rule %+v", r)
			}
		}
	})
}

// TestMatchEnvelopeAndSize: rules that look at the envelope and the size.
func TestMatchEnvelopeAndSize(t *testing.T) {
	p, err := Parse("e.yaml", []byte(`
rules:
  - id: partner-csv
    clause: "6(6)"
    match: {role: attachment, sender: ["*.lg.jp", "soumu@example.go.jp"], type: text/csv}
    action: disarm
    reason: {ja: "連携自治体", en: "partner municipality"}
  - id: to-it-big
    clause: "6(7)"
    match: {role: attachment, recipient: "it-*@city.example.lg.jp", size: {min: 1MiB}}
    action: strip
    reason: {ja: "大きい", en: "big"}
  - id: small
    clause: "6(6)"
    match: {role: attachment, size: {max: 10KB}}
    action: disarm
    reason: {ja: "小さい", en: "small"}
  - id: bounces
    clause: "6(7)"
    match: {role: attachment, sender: "<>"}
    action: strip
    reason: {ja: "不達通知", en: "bounce"}
`), DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	csv := Subject{Role: RoleAttachment, DetectedType: "text/csv", Size: 50_000, Sender: "someone@example.com"}
	with := func(s Subject, f func(*Subject)) Subject { f(&s); return s }
	tests := []struct {
		name string
		s    Subject
		rule string
	}{
		{"partner domain", with(csv, func(s *Subject) { s.Sender = "Taro@Town.Example.LG.JP" }), "partner-csv"},
		{"partner address", with(csv, func(s *Subject) { s.Sender = "soumu@example.go.jp" }), "partner-csv"},
		{"other address at that domain", with(csv, func(s *Subject) { s.Sender = "other@example.go.jp" }), "builtin-default"},
		{"lookalike domain", with(csv, func(s *Subject) { s.Sender = "x@evil-lg.jp" }), "builtin-default"},
		{"domain as suffix of another", with(csv, func(s *Subject) { s.Sender = "x@lg.jp.evil.example" }), "builtin-default"},
		{"all recipients match", with(csv, func(s *Subject) {
			s.Size, s.Rcpts = 2<<20, []string{"it-a@city.example.lg.jp", "IT-b@city.example.lg.jp"}
		}), "to-it-big"},
		{"one recipient does not", with(csv, func(s *Subject) {
			s.Size, s.Rcpts = 2<<20, []string{"it-a@city.example.lg.jp", "mayor@city.example.lg.jp"}
		}), "builtin-default"},
		{"too small for to-it-big", with(csv, func(s *Subject) { s.Size, s.Rcpts = 1<<20-1, []string{"it-a@city.example.lg.jp"} }), "builtin-default"},
		{"max is inclusive", with(csv, func(s *Subject) { s.Size = 10_000 }), "small"},
		{"just over max", with(csv, func(s *Subject) { s.Size = 10_001 }), "builtin-default"},
		{"null sender", with(csv, func(s *Subject) { s.Sender = "" }), "bounces"},
	}
	for _, tc := range tests {
		if got := p.Evaluate(tc.s).ID; got != tc.rule {
			t.Errorf("%s: Evaluate = %s, want %s", tc.name, got, tc.rule)
		}
	}

	_, err = Parse("bad.yaml", []byte(`
rules:
  - id: a
    clause: "6(6)"
    match: {role: attachment, sender: ["a b@x", "@example.jp"], recipient: ["x@@y", "taro@"], size: {min: 2MB, max: 1MB}}
    action: strip
    reason: {ja: x, en: y}
  - id: b
    clause: "6(6)"
    match: {role: attachment, size: {max: lots}}
    action: strip
    reason: {ja: x, en: y}
`), DefaultClauses())
	for _, want := range []string{
		`bad.yaml:5: rules[0] (a): match.sender "a b@x" must be an address or domain pattern`,
		`bad.yaml:5: rules[0] (a): match.recipient "x@@y" has more than one @`,
		`bad.yaml:5: rules[0] (a): match.sender "@example.jp" matches no address (nothing on one side of the @): write *@example.jp for every address`,
		`bad.yaml:5: rules[0] (a): match.recipient "taro@" matches no address`,
		`bad.yaml:5: rules[0] (a): match.size: min 2000000 is above max 1000000`,
		`bad.yaml:10: rules[1] (b): match.size.max: "lots" is not a size`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q\n--- got ---\n%v", want, err)
		}
	}
}

// TestRelease: a rule's release mode is checked, defaults to approval,
// and the built-in rules for what cannot be made harmless are never.
func TestRelease(t *testing.T) {
	cs := DefaultClauses()
	rule := "rules:\n  - id: pdf\n    clause: \"2(13)\"\n    match: {role: attachment}\n    action: strip\n    release: %s\n    reason: {ja: x, en: y}\n"
	p, err := Parse("p.yaml", []byte(fmt.Sprintf(rule, "self")), cs)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := p.RuleByID("pdf"); !ok || r.ReleaseMode() != ReleaseSelf {
		t.Errorf("pdf: %+v %v", r, ok)
	}
	if _, err := Parse("p.yaml", []byte(fmt.Sprintf(rule, "always")), cs); err == nil ||
		!strings.Contains(err.Error(), `p.yaml:6: rules[0] (pdf): release "always" is not one of: never, approval, self`) {
		t.Errorf("bad release: %v", err)
	}
	p, err = Parse("p.yaml", []byte(strings.Replace(fmt.Sprintf(rule, "x"), "    release: x\n", "", 1)), cs)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := p.RuleByID("pdf"); r.ReleaseMode() != ReleaseApproval {
		t.Errorf("default release %q", r.ReleaseMode())
	}
	for _, id := range []string{"builtin-dangerous-type", "builtin-sanitize-failed", "builtin-encrypted", "builtin-type-check", "builtin-structure"} {
		if r, ok := p.RuleByID(id); !ok || r.ReleaseMode() != ReleaseNever {
			t.Errorf("%s: release %q", id, r.ReleaseMode())
		}
	}
	if r, _ := p.RuleByID("builtin-default"); r.ReleaseMode() != ReleaseApproval {
		t.Errorf("builtin-default: release %q", r.ReleaseMode())
	}
	if _, ok := p.RuleByID("nope"); ok {
		t.Error("unknown id found")
	}
}
