package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"mugai/gateway"
	"mugai/policy"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		err  string // in stderr
	}{
		// usage errors: exit 2, one line naming the problem
		{nil, 2, "Usage:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"version", "extra"}, 2, "mugai version: takes no arguments"},
		{[]string{"sanitize", "-nope"}, 2, "flag provided but not defined: -nope"},
		{[]string{"sanitize", "/does/not/exist.eml"}, 2, "no such file"},
		{[]string{"sanitize", "a", "b"}, 2, "takes at most one message file"},
		{[]string{"serve", "-config", "/does/not/exist.yaml"}, 2, "mugai serve: open /does/not/exist.yaml"},
		{[]string{"serve", "stray"}, 2, `unexpected argument "stray"`},
		// help is not an error
		{[]string{"help"}, 0, "mugai sanitize"},
		{[]string{"sanitize", "-h"}, 0, "-explain"},
	}
	for _, tc := range tests {
		code, _, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.err) {
			t.Errorf("mugai %v: exit %d, stderr %q; want exit %d with %q", tc.args, code, stderr, tc.code, tc.err)
		}
		if tc.code == 2 && tc.args != nil && strings.Count(strings.TrimSpace(stderr), "\n") > 0 && tc.args[0] != "help" {
			t.Errorf("mugai %v: usage error spans several lines: %q", tc.args, stderr)
		}
	}
}

func TestServeBadConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("listen: nope\naccept:\n  max_message_bytes: 1\n"), 0o644)
	code, _, stderr := runCLI(t, "serve", "-config", p)
	if code != 2 || !strings.Contains(stderr, "listen:") || !strings.Contains(stderr, "accept.max_message_bytes:") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "mugai ") {
		t.Errorf("exit %d, %q", code, out)
	}
}

func TestPolicyCheck(t *testing.T) {
	code, out, _ := runCLI(t, "policy", "check")
	if code != 0 || !strings.Contains(out, "attachment-strip") || !strings.Contains(out, "builtin-default") || !strings.Contains(out, "6(3)②") {
		t.Errorf("embedded policy: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, " notice_languages=ja,en\n") || !strings.Contains(out, "builtin-unsupported") {
		t.Errorf("embedded policy: no notice languages or builtin-unsupported:\n%s", out)
	}
	jaOnly := filepath.Join(t.TempDir(), "ja.yaml")
	os.WriteFile(jaOnly, []byte("body:\n  notice_languages: [ja]\nrules:\n  - id: x\n    clause: \"2(13)\"\n    match: {role: attachment}\n    action: strip\n    reason: {ja: a, en: b}\n"), 0o644)
	if code, out, stderr := runCLI(t, "policy", "check", jaOnly); code != 0 || !strings.Contains(out, " notice_languages=ja\n") {
		t.Errorf("notice_languages [ja]: exit %d\n%s%s", code, out, stderr)
	}
	os.WriteFile(jaOnly, []byte("body:\n  prefer: plain\n  notice_languages: [en]\nrules:\n  - id: x\n    clause: \"2(13)\"\n    match: {role: attachment}\n    action: strip\n    reason: {ja: a, en: b}\n"), 0o644)
	if code, _, stderr := runCLI(t, "policy", "check", jaOnly); code != 1 || !strings.Contains(stderr, jaOnly+":3: body.notice_languages: [\"en\"] is not [ja, en] or [ja]") {
		t.Errorf("notice_languages [en]: exit %d\n%s", code, stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("rules:\n  - id: x\n    clause: \"99\"\n    action: strip\n    reason: {ja: a, en: b}\n    extra: 1\n"), 0o644)
	code, _, stderr := runCLI(t, "policy", "check", bad)
	if code != 1 || !strings.Contains(stderr, bad+":3: rules[0] (x): clause \"99\"") || !strings.Contains(stderr, bad+":6: rules[0].extra: unknown key") {
		t.Errorf("bad policy: exit %d\n%s", code, stderr)
	}
}

func TestSanitize(t *testing.T) {
	dir := t.TempDir()
	msg := filepath.Join(dir, "in.eml")
	os.WriteFile(msg, []byte("From: a@example.jp\r\nSubject: hi\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>Hello</p>\r\n--b\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename=x.zip\r\n\r\nPK\x03\x04\r\n--b--\r\n"), 0o644)
	auditFile := filepath.Join(dir, "audit.jsonl")
	code, out, stderr := runCLI(t, "sanitize", "-audit", auditFile, "-explain", msg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "Content-Type: text/plain; charset=UTF-8") || strings.Contains(out, "PK\x03\x04") {
		t.Errorf("output:\n%s", out)
	}
	for _, want := range []string{"PART", "html-converted", "builtin-sanitize-failed", "not a readable ZIP", "x.zip"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("explain table lacks %q:\n%s", want, stderr)
		}
	}
	b, _ := os.ReadFile(auditFile)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("audit has %d lines:\n%s", len(lines), b)
	}
	var rec map[string]any
	json.Unmarshal([]byte(lines[1]), &rec)
	if rec["event"] != "decision" || rec["filename"] != "x.zip" || rec["action"] != "strip" {
		t.Errorf("audit record %v", rec)
	}
}

// TestSanitizeUnparseable: input that is not a message still yields a
// notice-only message and exit 0.
func TestSanitizeUnparseable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "junk")
	os.WriteFile(p, []byte("\x00\x01 not: a\n message at all\n"), 0o644)
	code, out, stderr := runCLI(t, "sanitize", p)
	if code != 0 || !strings.Contains(out, "Content-Type: text/plain; charset=UTF-8") {
		t.Errorf("exit %d, stderr %q, out:\n%s", code, stderr, out)
	}
}

// TestShippedPolicies: every policy we ship passes policy check.
func TestShippedPolicies(t *testing.T) {
	files, _ := filepath.Glob("../../policy/examples/*.yaml")
	if len(files) < 2 {
		t.Fatalf("examples: %v", files)
	}
	for _, f := range append(files, "../../policy/default.yaml") {
		if code, _, stderr := runCLI(t, "policy", "check", f); code != 0 {
			t.Errorf("%s: exit %d\n%s", f, code, stderr)
		}
	}
}

func TestPolicyExplain(t *testing.T) {
	code, out, stderr := runCLI(t, "policy", "explain", "../../policy/examples/strict.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"rule 3 attachment-strip — strip",
		"match:   role=attachment",
		"添付ファイルはインターネット側から LGWAN 接続系へ持ち込めない", // the rule's Japanese reason
		"6(3)② LGWAN 接続系の通信経路の分割",            // the clause title...
		"両システム間で通信する場合には、無害化通信を実施する",         // ...and its text
		"built-in builtin-encrypted — strip",
		"built-in builtin-unsupported — strip",
		"release: never (staff cannot ask for the original; only mugai originals release)",
		"release: approval (staff may ask for the original; an approver decides)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("rules:\n  - id: x\n    clause: \"99\"\n    action: strip\n"), 0o644)
	if code, _, stderr := runCLI(t, "policy", "explain", bad); code != 1 || !strings.Contains(stderr, bad+":3:") {
		t.Errorf("bad policy: exit %d\n%s", code, stderr)
	}
}

// TestPolicyTest: the dry run shows, per message and part, the rule that
// decided under the given policy; the same message decides differently
// under two policies.
func TestPolicyTest(t *testing.T) {
	dir := t.TempDir()
	msg := filepath.Join(dir, "m.eml")
	os.WriteFile(msg, []byte("From: a@example.jp\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"+
		"--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n--b\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=list.csv\r\n\r\na,b\r\n1,2\r\n--b--\r\n"), 0o644)
	code, out, stderr := runCLI(t, "policy", "test", "../../policy/examples/strict.yaml", msg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !regexp.MustCompile(`(?m)^2\s+strip\s+attachment-strip\s+6\(3\)②\s+attachment\s`).MatchString(out) {
		t.Errorf("strict: the csv is not shown stripped by attachment-strip:\n%s", out)
	}
	code, out, _ = runCLI(t, "policy", "test", "../../policy/default.yaml", msg)
	if code != 0 || !regexp.MustCompile(`(?m)^2\s+disarm\s+text-disarm\s`).MatchString(out) {
		t.Errorf("default: the csv is not shown disarmed by text-disarm (exit %d):\n%s", code, out)
	}
	if code, _, stderr := runCLI(t, "policy", "test", "../../policy/default.yaml"); code != 2 || !strings.Contains(stderr, "at least one message") {
		t.Errorf("no message: exit %d %s", code, stderr)
	}
}

// TestREADMEPolicies: every policy example in the README is valid, so an
// admin copying one starts from something that loads.
func TestREADMEPolicies(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1)
	n := 0
	for i, b := range blocks {
		if !bytes.Contains(b[1], []byte("\nrules:")) && !bytes.HasPrefix(b[1], []byte("rules:")) {
			continue // a config example
		}
		n++
		if _, err := policy.Parse(fmt.Sprintf("README.md yaml block %d", i+1), b[1], policy.DefaultClauses()); err != nil {
			t.Errorf("%v", err)
		}
	}
	if n < 2 {
		t.Errorf("found %d policy examples in the README, want at least 2", n)
	}
}

// TestPolicyCheckOwnClauses: -clauses checks citations against the
// municipality's own catalogue.
func TestPolicyCheckOwnClauses(t *testing.T) {
	dir := t.TempDir()
	own := filepath.Join(dir, "clauses.yaml")
	os.WriteFile(own, []byte(`- {id: "対策基準5.2", title: 電子メール, text: 無害化したメールのみ受信する。}
- {id: "2(13)", title: 無害化通信, text: x}
- {id: "3(1)", title: 意図的な脅威, text: x}
- {id: "6(6)", title: 技術的セキュリティ, text: x}
`), 0o644)
	pol := filepath.Join(dir, "p.yaml")
	os.WriteFile(pol, []byte("rules:\n  - id: a\n    clause: \"対策基準5.2\"\n    match: {role: attachment}\n    action: strip\n    reason: {ja: x, en: y}\n"), 0o644)
	if code, out, stderr := runCLI(t, "policy", "explain", "-clauses", own, pol); code != 0 || !strings.Contains(out, "対策基準5.2 電子メール") {
		t.Errorf("own catalogue: exit %d\n%s%s", code, out, stderr)
	}
	if code, _, stderr := runCLI(t, "policy", "check", pol); code != 1 || !strings.Contains(stderr, `clause "対策基準5.2" is not in the clause catalogue`) {
		t.Errorf("embedded catalogue: exit %d %s", code, stderr)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("- {id: x, title: t}\n"), 0o644)
	if code, _, stderr := runCLI(t, "policy", "check", "-clauses", bad, pol); code != 1 || !strings.Contains(stderr, bad+":1: [0]: id, title and text are all required") {
		t.Errorf("bad catalogue: exit %d %s", code, stderr)
	}
}

// TestContribConfig: the deployment kit's example config loads.
func TestContribConfig(t *testing.T) {
	cfg, err := gateway.LoadConfig("../../contrib/mugai.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:10026" || cfg.Deliver.TLS != "required" || cfg.Metrics == "" {
		t.Errorf("contrib config = %+v", cfg)
	}
	if cfg.Limits != gateway.Defaults().Limits { // it shows the defaults of the limits an admin may tune
		t.Errorf("contrib limits %+v, defaults %+v", cfg.Limits, gateway.Defaults().Limits)
	}
	unit, err := os.ReadFile("../../contrib/mugai.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ExecStart=/usr/local/bin/mugai serve -config /etc/mugai/mugai.yaml", "ExecReload=/bin/kill -HUP $MAINPID",
		"NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/mugai /var/log/mugai"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	// Everything the config writes is under the unit's writable paths.
	for _, p := range []string{cfg.Spool, cfg.Originals, cfg.Audit, cfg.Cache} {
		if !strings.HasPrefix(p, "/var/lib/mugai/") && !strings.HasPrefix(p, "/var/log/mugai/") {
			t.Errorf("%s is outside ReadWritePaths", p)
		}
	}
}
