package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// auditRecords reads a JSON-lines audit file ("" records when missing).
func auditRecords(path string) []map[string]any {
	b, _ := os.ReadFile(path)
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r map[string]any
		if json.Unmarshal([]byte(line), &r) == nil {
			out = append(out, r)
		}
	}
	return out
}

// TestServeSIGHUP runs mugai serve as a child and sends it SIGHUP: a good
// new policy is put in force, a broken one is refused while the process
// keeps serving, and after a logrotate rename the audit goes to a new file.
func TestServeSIGHUP(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "mugai")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	strict, _ := os.ReadFile("../../policy/examples/strict.yaml")
	cdr, _ := os.ReadFile("../../policy/examples/cdr.yaml")
	polPath := filepath.Join(dir, "policy.yaml")
	os.WriteFile(polPath, strict, 0o644)
	auditFile := filepath.Join(dir, "audit.jsonl")
	listen := freePort(t)
	cfg := filepath.Join(dir, "mugai.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("listen: %q\npolicy: %q\nspool: %q\noriginals: %q\naudit: %q\ncache: %q\ndeliver:\n  maildir: %q\nbackpressure:\n  min_free_bytes: 0\nportal:\n  listen: \"\"\n",
		listen, polPath, filepath.Join(dir, "spool"), filepath.Join(dir, "originals"), auditFile,
		filepath.Join(dir, "cache"), filepath.Join(dir, "maildir"))), 0o644)

	cmd := exec.Command(bin, "serve", "-config", cfg)
	logPath := filepath.Join(dir, "serve.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stderr = logf // a file: read it any time without racing the child
	readLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	up := false
	for i := 0; i < 200 && !up; i++ {
		if c, err := net.Dial("tcp", listen); err == nil {
			c.Close()
			up = true
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !up {
		t.Fatalf("mugai did not start:\n%s", readLog())
	}
	// waitPolicy waits for the n-th policy record in file and returns it.
	waitPolicy := func(file string, n int) map[string]any {
		t.Helper()
		for i := 0; i < 200; i++ {
			var ps []map[string]any
			for _, r := range auditRecords(file) {
				if r["event"] == "policy" {
					ps = append(ps, r)
				}
			}
			if len(ps) >= n {
				return ps[n-1]
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("no policy record #%d in %s; log:\n%s", n, file, readLog())
		return nil
	}
	start := waitPolicy(auditFile, 1)

	os.WriteFile(polPath, cdr, 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	reloaded := waitPolicy(auditFile, 2)
	if reloaded["previous"] != start["policy"] || reloaded["policy"] == start["policy"] || reloaded["error"] != nil {
		t.Errorf("reload record %v after start %v", reloaded, start)
	}

	os.WriteFile(polPath, []byte("rules: [oops\n"), 0o644)
	os.Rename(auditFile, auditFile+".1")
	cmd.Process.Signal(syscall.SIGHUP)
	refused := waitPolicy(auditFile, 1) // in the new file
	if refused["error"] == nil || refused["policy"] != reloaded["policy"] {
		t.Errorf("refusal record %v; the policy in force must stay %v", refused, reloaded["policy"])
	}
	if err := send(listen, "Subject: after reloads\r\n\r\nstill serving\r\n"); err != nil {
		t.Fatalf("after a refused reload: %v", err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v\n%s", err, readLog())
	}
	if !strings.Contains(readLog(), "new policy refused") || !strings.Contains(readLog(), "a restart would fail") {
		t.Errorf("the refusal is not in the log, or does not say a restart would fail:\n%s", readLog())
	}
	// The effective configuration is logged once, after a successful start.
	before, started, ok := strings.Cut(readLog(), `msg="mugai started"`)
	if line, _, _ := strings.Cut(started, "\n"); !ok || strings.Contains(before, "effective=") || !strings.Contains(line, "effective=") {
		t.Errorf("want the effective configuration on the start line only:\n%s", readLog())
	}
}

// TestServeEarlySIGHUP: a SIGHUP that arrives while serve is starting (a
// logrotate at the wrong moment) is handled once the gateway runs, never
// the default action that would kill it.
func TestServeEarlySIGHUP(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "mugai")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	auditFile := filepath.Join(dir, "audit.jsonl")
	listen := freePort(t)
	cfg := filepath.Join(dir, "mugai.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("listen: %q\nspool: %q\noriginals: %q\naudit: %q\ncache: %q\ndeliver:\n  maildir: %q\nbackpressure:\n  min_free_bytes: 0\nportal:\n  listen: \"\"\n",
		listen, filepath.Join(dir, "spool"), filepath.Join(dir, "originals"), auditFile,
		filepath.Join(dir, "cache"), filepath.Join(dir, "maildir"))), 0o644)
	logPath := filepath.Join(dir, "serve.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "serve", "-v", "-config", cfg) // -v: "starting mugai" comes first
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	readLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	for i := 0; i < 400 && !strings.Contains(readLog(), "starting mugai"); i++ {
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGHUP) // before it listens
	for i := 0; i < 200; i++ {
		select {
		case err := <-exited:
			t.Fatalf("serve exited on an early SIGHUP: %v\n%s", err, readLog())
		default:
		}
		policies := 0
		for _, r := range auditRecords(auditFile) {
			if r["event"] == "policy" {
				policies++
			}
		}
		if policies >= 2 { // the start, then the reload the SIGHUP asked for
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no reload after an early SIGHUP:\n%s", readLog())
}
