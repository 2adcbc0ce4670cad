package policy

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseAuthResults(t *testing.T) {
	id, rs := ParseAuthResults("mx.pref.example.lg.jp 1; (comment; with semicolon)\r\n dkim=pass (good signature) header.d=Town.Example.LG.JP header.s=sel;\r\n" +
		" spf=pass smtp.mailfrom=bounce@town.example.lg.jp; dmarc=fail (p=reject) header.from=town.example.lg.jp; dkim/2=pass header.i=@other.example")
	if id != "mx.pref.example.lg.jp" {
		t.Errorf("authserv-id = %q", id)
	}
	want := []AuthResult{
		{"dkim", "pass", "town.example.lg.jp"},
		{"spf", "pass", "town.example.lg.jp"},
		{"dmarc", "fail", "town.example.lg.jp"},
		{"dkim", "pass", "other.example"},
	}
	if !reflect.DeepEqual(rs, want) {
		t.Errorf("results = %+v\nwant      %+v", rs, want)
	}
	if id, rs := ParseAuthResults("mx.example; none"); id != "mx.example" || len(rs) != 0 {
		t.Errorf("none: %q %v", id, rs)
	}
	if id, rs := ParseAuthResults(`mx.example; dkim=pass header.d="a;b.example"`); id != "mx.example" || len(rs) != 1 || rs[0].Domain != "a;b.example" {
		t.Errorf("quoted semicolon: %q %+v", id, rs)
	}
}

// TestTrustedResults: only the listed authserv-id, and only above the
// allowed number of Received fields: a result the sender wrote into the
// message sits below the upstream MTA's Received and does not count.
func TestTrustedResults(t *testing.T) {
	a := Authentication{AuthservIDs: List{"mx.pref.example.lg.jp"}}
	fields := []Field{
		{"Authentication-Results", "mx.pref.example.lg.jp; dmarc=pass header.from=town.example.lg.jp"},
		{"Authentication-Results", "mx.other.example; dkim=pass header.d=evil.example"},
		{"Received", "from outside by mx.pref.example.lg.jp"},
		{"Authentication-Results", "mx.pref.example.lg.jp; dkim=pass header.d=forged.example"}, // came with the message
		{"Received", "from attacker"},
	}
	got := a.TrustedResults(fields)
	if len(got) != 1 || got[0].Domain != "town.example.lg.jp" {
		t.Errorf("trusted = %+v, want only the top dmarc pass", got)
	}
	a.ReceivedAbove = 1
	if got := a.TrustedResults(fields); len(got) != 2 {
		t.Errorf("received_above 1: %d results, want 2", len(got))
	}
	if got := (Authentication{}).TrustedResults(fields); got != nil {
		t.Errorf("no trusted ids: %+v", got)
	}
}

func TestAuthenticated(t *testing.T) {
	rs := []AuthResult{{"dkim", "pass", "town.example.lg.jp"}, {"dmarc", "fail", "city.example.lg.jp"}, {"dkim", "pass", "jp"}}
	for _, tc := range []struct {
		methods List
		sender  string
		want    bool
	}{
		{List{"dkim"}, "a@town.example.lg.jp", true},
		{List{"dkim"}, "a@sub.town.example.lg.jp", true}, // relaxed alignment
		{List{"dmarc"}, "a@town.example.lg.jp", false},   // dkim passed, dmarc was not asked
		{List{"dmarc", "dkim"}, "a@city.example.lg.jp", false},
		{List{"dkim"}, "a@eviltown.example.lg.jp", false}, // suffix without a dot boundary
		{List{"dkim"}, "a@anything.jp", false},            // a bare TLD never aligns
		{List{"dkim"}, "", false},
	} {
		if got := authenticated(tc.methods, rs, tc.sender); got != tc.want {
			t.Errorf("authenticated(%v, %q) = %v, want %v", tc.methods, tc.sender, got, tc.want)
		}
	}
}

// FuzzAuthResults: never panics; every result has a lower-case method and
// result, and the authserv-id has no space.
func FuzzAuthResults(f *testing.F) {
	f.Add("mx.example 1; dkim=pass header.d=a.example; spf=fail (x) smtp.mailfrom=a@b")
	f.Add(`x; dkim=pass header.d="(;)"; (unterminated`)
	f.Fuzz(func(t *testing.T, v string) {
		id, rs := ParseAuthResults(v)
		for _, c := range id {
			if c == ' ' || c == '\t' {
				t.Fatalf("authserv-id %q has white space", id)
			}
		}
		for _, r := range rs {
			if r.Method == "" {
				t.Fatalf("empty method in %+v", r)
			}
		}
	})
}

func TestParseClauses(t *testing.T) {
	_, err := ParseClauses("c.yaml", []byte("- id: \"5.2\"\n  title: メール\n  text: 本文\n- id: \"5.2\"\n  title: x\n  text: y\n- id: \"6\"\n  title: t\n- id: \"7\"\n  title: t\n  text: x\n  colour: red\n"))
	for _, want := range []string{
		`c.yaml:4: [1]: duplicate clause id "5.2" (first on line 1)`,
		`c.yaml:7: [2]: id, title and text are all required`,
		`c.yaml:12: [3].colour: unknown key`,
		`c.yaml:1: clause "2(13)" is missing: the built-in rule builtin-structure cites it`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q: %v", want, err)
		}
	}
	if _, err := ParseClauses("e.yaml", []byte("[]\n")); err == nil {
		t.Error("an empty catalogue was accepted")
	}
}

// TestOwnClauses: the catalogue a policy is parsed with decides which
// clauses its rules may cite, and nothing else is affected by it.
func TestOwnClauses(t *testing.T) {
	own := "- id: \"対策基準5.2\"\n  title: 電子メール\n  text: 無害化したメールのみ受信する。\n"
	for _, id := range []string{"2(13)", "3(1)", "6(6)"} { // cited by built-in rules
		own += fmt.Sprintf("- id: %q\n  title: t\n  text: x\n", id)
	}
	cs, err := ParseClauses("own.yaml", []byte(own))
	if err != nil {
		t.Fatal(err)
	}
	rule := "rules:\n  - id: a\n    clause: %q\n    action: strip\n    reason: {ja: x, en: y}\n"
	p, err := Parse("p.yaml", []byte(fmt.Sprintf(rule, "対策基準5.2")), cs)
	if err != nil {
		t.Errorf("own clause refused: %v", err)
	} else if c, ok := p.Clauses.Lookup("対策基準5.2"); !ok || c.Title != "電子メール" {
		t.Errorf("the policy does not keep its catalogue: %+v", p.Clauses)
	}
	if _, err := Parse("p.yaml", []byte(fmt.Sprintf(rule, "対策基準5.2")), DefaultClauses()); err == nil {
		t.Error("own clause accepted under the embedded catalogue: the catalogue is not a parameter")
	}
	if _, err := Parse("p.yaml", []byte(fmt.Sprintf(rule, "6(7)")), cs); err == nil || !strings.Contains(err.Error(), `clause "6(7)" is not in the clause catalogue (known: 対策基準5.2, 2(13), 3(1), 6(6))`) {
		t.Errorf("embedded clause accepted under the own catalogue: %v", err)
	}
}
