package policy

import (
	"fmt"
	"slices"
	"testing"
)

// TestUnapplied: the rules a dry run without an envelope or trusted
// Authentication-Results could not evaluate are named, with what each
// lacked; a rule that fails on the part itself, or one after the rule that
// decided, is not.
func TestUnapplied(t *testing.T) {
	p, err := Parse("u.yaml", []byte(`
authentication: {authserv_ids: [mx.city.example.lg.jp]}
rules:
  - id: partner-office
    clause: "6(6)"
    match: {role: attachment, type: application/pdf, sender: "*.lg.jp"}
    action: keep
    reason: {ja: "連携", en: "partner"}
  - id: signed-partner
    clause: "6(6)"
    match: {role: attachment, type: application/pdf, authenticated: dmarc}
    action: keep
    reason: {ja: "認証済み", en: "authenticated"}
  - id: to-it
    clause: "6(7)"
    match: {role: attachment, recipient: "it@city.example.lg.jp"}
    action: keep
    reason: {ja: "情報政策課", en: "IT"}
  - id: csv-only
    clause: "6(6)"
    match: {role: attachment, type: text/csv, sender: "*.lg.jp"}
    action: disarm
    reason: {ja: "表", en: "tables"}
  - id: pdf
    clause: "6(6)"
    match: {role: attachment, type: application/pdf}
    action: disarm
    reason: {ja: "PDF", en: "PDF"}
  - id: late-partner
    clause: "6(6)"
    match: {role: attachment, sender: "*.lg.jp"}
    action: keep
    reason: {ja: "遅い", en: "late"}
`), DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	pdf := Subject{Role: RoleAttachment, DetectedType: "application/pdf", Size: 100}
	passed := []AuthResult{{Method: "dmarc", Result: "pass", Domain: "town.example.lg.jp"}}
	show := func(us []Unapplied) string {
		var out []string
		for _, u := range us {
			out = append(out, fmt.Sprintf("%s:%v", u.Rule.ID, u.Missing))
		}
		return fmt.Sprint(out)
	}
	tests := []struct {
		name    string
		s       Subject
		missing []Need
		want    string
	}{
		// no envelope at all: every envelope rule before the decider
		{"nothing known", pdf, []Need{NeedSender, NeedRcpts},
			"[partner-office:[sender] signed-partner:[sender authentication] to-it:[recipients]]"},
		// the sender known, no trusted results: only authenticated lacks
		{"sender given", func() Subject { s := pdf; s.Sender = "a@example.com"; return s }(), []Need{NeedRcpts},
			"[signed-partner:[authentication] to-it:[recipients]]"},
		// results trusted but no sender: authenticated needs the sender's domain
		{"results, no sender", func() Subject { s := pdf; s.Auth = passed; return s }(), []Need{NeedSender},
			"[partner-office:[sender] signed-partner:[sender]]"},
		// everything known: nothing was skipped (the rules simply did not match)
		{"all known", func() Subject {
			s := pdf
			s.Sender, s.Rcpts, s.Auth = "a@example.com", []string{"b@city.example.lg.jp"}, passed
			return s
		}(), nil, "[]"},
		// a rule that decides stops the trace: nothing after it is named
		{"decided early", func() Subject { s := pdf; s.Sender = "a@town.example.lg.jp"; return s }(), []Need{NeedRcpts}, "[]"},
		// a CSV: partner-office fails on its type whatever the envelope
		{"other type", Subject{Role: RoleAttachment, DetectedType: "text/csv"}, []Need{NeedSender, NeedRcpts},
			"[to-it:[recipients] csv-only:[sender] late-partner:[sender]]"},
	}
	for _, tc := range tests {
		if got := show(p.Unapplied(tc.s, tc.missing...)); got != tc.want {
			t.Errorf("%s: Unapplied = %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestObserve: Evaluate tells a policy's observer each subject and the
// rule it returned, and the policy without one evaluates alike.
func TestObserve(t *testing.T) {
	p := Default()
	s := Subject{Role: RoleAttachment, DetectedType: "application/pdf", Filename: "a.pdf", Size: 10}
	want := p.Evaluate(s)
	var seen []string
	q := *p
	q.Observe = func(s Subject, r Rule) { seen = append(seen, s.Filename+" "+r.ID) }
	if got := q.Evaluate(s); got.ID != want.ID {
		t.Errorf("with an observer Evaluate = %s, without %s", got.ID, want.ID)
	}
	if !slices.Equal(seen, []string{"a.pdf " + want.ID}) {
		t.Errorf("observed %q", seen)
	}
}
