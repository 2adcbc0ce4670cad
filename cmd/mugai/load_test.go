package main

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mugai/gateway"
)

// TestLoad runs mugai load against a real gateway (strict policy) whose
// relay is the tool's own sink: every message is counted at both ends.
func TestLoad(t *testing.T) {
	sinkAddr := freePort(t)
	dir := t.TempDir()
	cfg := gateway.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.Spool, cfg.Originals, cfg.Audit = filepath.Join(dir, "spool"), filepath.Join(dir, "originals"), filepath.Join(dir, "audit.jsonl")
	cfg.Cache = filepath.Join(dir, "cache")
	cfg.Policy = "../../policy/examples/strict.yaml"
	cfg.Deliver.Relay = sinkAddr
	cfg.Deliver.RetryMin, cfg.Deliver.RetryMax = gateway.Duration(100*time.Millisecond), gateway.Duration(time.Second)
	cfg.Accept.Domains = []string{"city.example.lg.jp"}
	cfg.Backpressure.MinFreeBytes = 0
	cfg.Portal.Listen = ""
	g, err := gateway.New(cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(l)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		g.Shutdown(ctx)
	}()

	code, out, stderr := runCLI(t, "load", "-n", "30", "-c", "4", "-sink", sinkAddr, "-wait", "60s", l.Addr().String())
	if code != 0 || !strings.Contains(out, "sent 30 of 30 messages") || !strings.Contains(out, "30 messages, the last") || !strings.Contains(out, "p99") {
		t.Fatalf("load: exit %d\n%s%s", code, out, stderr)
	}
	t.Log(out)
	// Refused recipients are counted by reply code, and the exit says so.
	code, out, _ = runCLI(t, "load", "-n", "5", "-c", "2", "-to", "x@elsewhere.example", l.Addr().String())
	if code != 1 || !strings.Contains(out, "sent 0 of 5") || !strings.Contains(out, "errors 550: 5") {
		t.Errorf("refused load: exit %d\n%s", code, out)
	}
	if code, _, stderr := runCLI(t, "load", "-n", "0", l.Addr().String()); code != 2 || !strings.Contains(stderr, "at least 1") {
		t.Errorf("-n 0: %d %s", code, stderr)
	}
}
