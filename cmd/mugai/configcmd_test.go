package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The tests never read this machine's installed configuration or the
// environment's; a test that wants either sets it.
func init() {
	systemConfig = "/nonexistent/mugai-test/mugai.yaml"
	os.Unsetenv(configEnv)
}

// TestConfigCheck: a valid configuration is printed as it takes effect; a
// broken one has every problem printed as file:line: key.path and exit 1.
func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("accept:\n  max_message_bytes: 25MB\n  soft_reject: true\noriginals_retention: 90d\n"), 0o644)
	code, out, stderr := runCLI(t, "config", "check", "-config", good)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"# configuration " + good + ": valid", "max_message_bytes: 25MB\n", "soft_reject: true\n", "originals_retention: 90d\n", "listen: 127.0.0.1:2525\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// What it prints is a configuration that checks again.
	again := filepath.Join(dir, "again.yaml")
	os.WriteFile(again, []byte(out), 0o644)
	if code, _, stderr := runCLI(t, "config", "check", "-config", again); code != 0 {
		t.Errorf("printed configuration does not check: %s", stderr)
	}

	bad := filepath.Join(dir, "c9.yaml")
	os.WriteFile(bad, []byte("accept:\n  max_recipients: four\n  networks: [\"10.0.0.0/33\"]\ndeliver:\n  lifetime: 5 days\n"), 0o644)
	code, out, stderr = runCLI(t, "config", "check", "-config", bad)
	if code != 1 || out != "" {
		t.Errorf("bad config: exit %d, stdout %q", code, out)
	}
	for _, want := range []string{
		bad + `:2: accept.max_recipients: expected a whole number, got "four"`,
		bad + `:3: accept.networks[0]: "10.0.0.0/33" is not a CIDR or IP address`,
		bad + `:5: deliver.lifetime: "5 days" is not a duration`,
		"3 problems in " + bad,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if code, _, stderr := runCLI(t, "config", "check", "-config", filepath.Join(dir, "missing.yaml")); code != 2 || !strings.Contains(stderr, "no such file") {
		t.Errorf("missing file: exit %d, %q", code, stderr)
	}
	// Without -config: the embedded defaults, which are valid.
	if code, out, _ := runCLI(t, "config", "check"); code != 0 || !strings.Contains(out, "(embedded defaults): valid") {
		t.Errorf("defaults: exit %d, %q", code, out)
	}
}

// TestConfigDiscovery: -config, else $MUGAI_CONFIG, else the installed
// file, else the embedded defaults; a missing store names the config it
// came from.
func TestConfigDiscovery(t *testing.T) {
	t.Chdir(t.TempDir()) // no var/ here
	cfg, file := adminSetup(t)
	os.MkdirAll(cfg.Originals, 0o755)
	list := func() (int, string) {
		code, _, stderr := runCLI(t, "originals", "list")
		return code, stderr
	}
	// embedded defaults: var/originals does not exist here
	code, stderr := list()
	if want := "originals directory var/originals (from the embedded defaults; pass -config or set MUGAI_CONFIG)"; code != 2 || !strings.Contains(stderr, want) {
		t.Errorf("defaults: exit %d, %q; want %q", code, stderr, want)
	}
	// the installed file
	installed := filepath.Join(t.TempDir(), "mugai.yaml")
	os.WriteFile(installed, []byte("originals: /nonexistent/installed-originals\n"), 0o644)
	old := systemConfig
	systemConfig = installed
	t.Cleanup(func() { systemConfig = old })
	code, stderr = list()
	if want := "originals directory /nonexistent/installed-originals (from " + installed + ", the installed default)"; code != 2 || !strings.Contains(stderr, want) {
		t.Errorf("installed: exit %d, %q; want %q", code, stderr, want)
	}
	// $MUGAI_CONFIG before the installed file: the store is found
	t.Setenv(configEnv, file)
	if code, stderr = list(); code != 0 {
		t.Errorf("$MUGAI_CONFIG: exit %d, %q", code, stderr)
	}
	// -config before $MUGAI_CONFIG
	if code, _, stderr := runCLI(t, "originals", "list", "-config", installed); code != 2 || !strings.Contains(stderr, "(from "+installed+")") {
		t.Errorf("-config: exit %d, %q", code, stderr)
	}
	// A broken file found through the environment says so.
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	os.WriteFile(broken, []byte("spool: [x]\n"), 0o644)
	t.Setenv(configEnv, broken)
	if code, stderr = list(); code != 2 || !strings.Contains(stderr, broken+":1: spool: expected a single value") || !strings.Contains(stderr, "(configuration found through $MUGAI_CONFIG)") {
		t.Errorf("broken via env: exit %d, %q", code, stderr)
	}
}

// TestDurationFlag: command-line durations read like the configuration's.
func TestDurationFlag(t *testing.T) {
	fs := newFlags("t", io.Discard, "")
	d := durationFlag(fs, "wait", time.Minute, "")
	if *d != time.Minute {
		t.Fatalf("default %s", *d)
	}
	if err := parseFlags(fs, []string{"-wait", "2d"}); err != nil || *d != 48*time.Hour {
		t.Errorf("-wait 2d: %s, %v", *d, err)
	}
	if err := parseFlags(fs, []string{"-wait", "soon"}); err == nil || !strings.Contains(err.Error(), `"soon" is not a duration`) {
		t.Errorf("-wait soon: %v", err)
	}
}

// TestReportConfigAudit: without AUDIT files report reads the audit log of
// the configuration it finds.
func TestReportConfigAudit(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, file := adminSetup(t)
	if code, _, stderr := runCLI(t, "report"); code != 2 || !strings.Contains(stderr, "audit log var/audit.jsonl (from the embedded defaults; pass -config or set MUGAI_CONFIG)") {
		t.Errorf("defaults: exit %d, %q", code, stderr)
	}
	os.WriteFile(cfg.Audit, []byte(`{"time":"2026-11-20T10:00:00Z","event":"received","msg_id":"m1","from":"a@example.jp","rcpts":["b@city.example.lg.jp"],"size":10}`+"\n"), 0o600)
	t.Setenv(configEnv, file)
	code, out, stderr := runCLI(t, "report")
	if code != 0 || out == "" {
		t.Errorf("$MUGAI_CONFIG: exit %d, %q", code, stderr)
	}
	if code2, out2, _ := runCLI(t, "report", cfg.Audit); code2 != 0 || out2 != out {
		t.Errorf("report of the config's audit log differs from report AUDIT:\n%s\n---\n%s", out, out2)
	}
}
