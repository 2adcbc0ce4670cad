package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mugai/policy"
)

func policySHA(t *testing.T, path string) string {
	t.Helper()
	p, err := policy.LoadFile(path, policy.DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	return p.SHA256
}

// TestReload: SIGHUP's work while mail flows. A good new policy takes over
// for the messages after it, a bad one is refused with the old one kept,
// no message is dropped, every decision names the policy it was made
// under, and the audit log follows a logrotate rename.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	polPath := filepath.Join(dir, "policy.yaml")
	strict, err := os.ReadFile("../policy/examples/strict.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cdr, err := os.ReadFile("../policy/examples/cdr.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(polPath, strict, 0o644)
	shaA := policySHA(t, polPath)
	tg := startGateway(t, func(c *Config) { c.Policy = polPath })

	// Senders run through all the reloads.
	const senders, each = 3, 15
	var wg sync.WaitGroup
	errs := make(chan error, senders*each)
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				msg := fmt.Sprintf("Subject: flow %d-%d\r\n\r\nmail while reloading\r\n", s, i)
				if _, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, msg); err != nil {
					errs <- err
				}
			}
		}()
	}

	os.WriteFile(polPath, cdr, 0o644)
	shaB := policySHA(t, polPath)
	if err := tg.g.Reload(); err != nil {
		t.Fatalf("reload of a good policy: %v", err)
	}
	if got := tg.g.Policy().SHA256; got != shaB {
		t.Errorf("policy in force %s, want the new one %s", got, shaB)
	}
	os.WriteFile(polPath, []byte("rules:\n  - id: broken\n    action: explode\n"), 0o644)
	if err := tg.g.Reload(); err == nil {
		t.Error("a broken policy was accepted")
	}
	if got := tg.g.Policy().SHA256; got != shaB {
		t.Errorf("after a refused reload the policy in force is %s, want %s (kept)", got, shaB)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a message was refused during reloads: %v", err)
	}

	// logrotate: rename, SIGHUP, and the next records go to a new file.
	rotated := tg.cfg.Audit + ".1"
	if err := os.Rename(tg.cfg.Audit, rotated); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(polPath, cdr, 0o644)
	if err := tg.g.Reload(); err != nil {
		t.Fatalf("reload after rotation: %v", err)
	}
	reply, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: after\r\n\r\nafter rotation\r\n")
	if err != nil {
		t.Fatal(err)
	}
	_, lastID, _ := strings.Cut(reply, "queued as ")

	old, fresh := auditEvents(t, rotated, ""), auditEvents(t, tg.cfg.Audit, "")
	var policies []map[string]any
	decisions := map[string]int{}
	for _, r := range old {
		switch r["event"] {
		case "policy":
			policies = append(policies, r)
		case "decision":
			decisions[fmt.Sprint(r["policy"])]++
		}
	}
	if len(policies) != 3 {
		t.Fatalf("%d policy records in the rotated log, want 3 (start, reload, refusal): %v", len(policies), policies)
	}
	if policies[0]["policy"] != shaA || policies[1]["policy"] != shaB || policies[1]["previous"] != shaA {
		t.Errorf("start/reload records wrong: %v", policies[:2])
	}
	if policies[2]["error"] == nil || policies[2]["policy"] != shaB {
		t.Errorf("refusal record wrong: %v", policies[2])
	}
	for sha := range decisions {
		if sha != shaA && sha != shaB {
			t.Errorf("a decision names policy %s, neither the old nor the new one", sha)
		}
	}
	if n := decisions[shaA] + decisions[shaB]; n < senders*each {
		t.Errorf("%d decisions for %d messages", n, senders*each)
	}
	var lastPolicy any
	for _, r := range fresh {
		if r["id"] == lastID && r["event"] == "decision" {
			lastPolicy = r["policy"]
		}
	}
	if lastPolicy != shaB {
		t.Errorf("the message after rotation was decided under %v (or not audited in the new file), want %s", lastPolicy, shaB)
	}
}

// TestClausesConfig: a configured catalogue is loaded at start (a broken
// one, or one without the clause the gateway's purges cite, stops the
// start and the config load with a clear error), and reloaded with the
// policy.
func TestClausesConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("- {id: x, title: t}\n"), 0o644)
	cfg := testConfig(t, func(c *Config) { c.Clauses = bad })
	if _, err := New(cfg, slog.New(slog.DiscardHandler), nil); err == nil || !strings.Contains(err.Error(), "clauses: "+bad+":1:") {
		t.Fatalf("New with a broken catalogue: %v", err)
	}
	// Valid for the policy's built-in rules, but without 6(7).
	noRetention := filepath.Join(dir, "no-retention.yaml")
	os.WriteFile(noRetention, []byte("- {id: \"2(13)\", title: a, text: b}\n- {id: \"3(1)\", title: a, text: b}\n- {id: \"6(6)\", title: a, text: b}\n"), 0o644)
	want := `clauses: ` + noRetention + `: clause "6(7)" is missing: purging originals (originals_retention) cites it`
	cfg = testConfig(t, func(c *Config) { c.Clauses = noRetention })
	if _, err := New(cfg, slog.New(slog.DiscardHandler), nil); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("New with a catalogue without %s: %v", RetentionClause, err)
	}
	cfgFile := filepath.Join(dir, "mugai.yaml")
	os.WriteFile(cfgFile, []byte("clauses: "+noRetention+"\n"), 0o644)
	if _, err := LoadConfig(cfgFile); err == nil || !strings.Contains(err.Error(), cfgFile+":1: "+want) {
		t.Errorf("LoadConfig with a catalogue without %s: %v", RetentionClause, err)
	}
	if _, err := Defaults().LoadClauses(); err != nil {
		t.Errorf("the embedded catalogue: %v", err)
	}
	own := filepath.Join(dir, "own.yaml")
	os.WriteFile(own, []byte("- {id: \"2(13)\", title: a, text: b}\n- {id: \"3(1)\", title: a, text: b}\n- {id: \"6(6)\", title: a, text: b}\n- {id: \"6(7)\", title: a, text: b}\n- {id: \"対策基準5.2\", title: a, text: b}\n"), 0o644)
	polPath := filepath.Join(dir, "p.yaml")
	os.WriteFile(polPath, []byte("rules:\n  - id: body\n    clause: \"対策基準5.2\"\n    match: {role: body}\n    action: textify\n    reason: {ja: x, en: y}\n"), 0o644)
	tg := startGateway(t, func(c *Config) { c.Clauses, c.Policy = own, polPath })
	// A reload whose catalogue breaks is refused and changes nothing.
	os.WriteFile(own, []byte("- {id: \"only\", title: a}\n"), 0o644)
	if err := tg.g.Reload(); err == nil {
		t.Error("a reload with a broken catalogue succeeded")
	}
	if _, ok := tg.g.Policy().Clauses.Lookup("対策基準5.2"); !ok {
		t.Error("the catalogue in force changed after a refused reload")
	}
}

// TestApplyConfig: intake settings change live, the rest is named for a
// restart and left as it was.
func TestApplyConfig(t *testing.T) {
	tg := startGateway(t, func(c *Config) { c.Accept.Domains = []string{"city.example.lg.jp"} })
	_, err := send(tg.addr, "a@example.jp", []string{"b@town.example.lg.jp"}, "Subject: x\r\n\r\nx\r\n")
	wantSMTPErr(t, err, 550, smtp.EnhancedCode{5, 7, 1})

	cfg := tg.cfg
	cfg.Accept.Domains = []string{"city.example.lg.jp", "town.example.lg.jp"}
	cfg.Deliver.Workers = 9
	cfg.Hostname = "other.localhost"
	applied, restart := tg.g.ApplyConfig(cfg)
	if strings.Join(applied, ",") != "accept.domains" || strings.Join(restart, ",") != "deliver,hostname" {
		t.Errorf("applied %v, restart %v", applied, restart)
	}
	if _, err := send(tg.addr, "a@example.jp", []string{"b@town.example.lg.jp"}, "Subject: x\r\n\r\nx\r\n"); err != nil {
		t.Errorf("newly accepted domain: %v", err)
	}
	cfg.Accept.Networks = []string{"192.0.2.0/24"} // loopback no longer allowed
	if applied, _ := tg.g.ApplyConfig(cfg); strings.Join(applied, ",") != "accept.networks" {
		t.Errorf("applied %v", applied)
	}
	_, err = send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: x\r\n\r\nx\r\n")
	wantSMTPErr(t, err, 550, smtp.EnhancedCode{5, 7, 1})
}

// TestShutdownBeforeServe: a Shutdown that comes before or while Serve
// starts ends it; Serve never keeps accepting after Shutdown returned.
func TestShutdownBeforeServe(t *testing.T) {
	for _, delay := range []time.Duration{0, time.Millisecond} {
		cfg := testConfig(t, nil)
		g, err := New(cfg, slog.New(slog.DiscardHandler), nil)
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		if delay == 0 {
			g.Shutdown(context.Background())
			go func() { done <- g.Serve(l) }()
		} else {
			go func() { done <- g.Serve(l) }()
			time.Sleep(delay)
			g.Shutdown(context.Background())
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Serve still running after Shutdown (delay %s)", delay)
		}
	}
}
