package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mugai/gateway/queue"
)

// TestQueueCommands: list, requeue and delete on a spool, each audited.
func TestQueueCommands(t *testing.T) {
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	auditFile := filepath.Join(dir, "audit.jsonl")
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("spool: "+spool+"\naudit: "+auditFile+"\n"), 0o644)
	sp, _, _, err := queue.Open(spool)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, id := range []string{"waiting-1", "failed-1"} {
		e := &queue.Entry{ID: id, From: "a@example.jp", Created: now, NextAttempt: now,
			Rcpts: []*queue.Recipient{{Addr: "b@city.example.lg.jp", Status: queue.StatusPending}}}
		if err := sp.Add(e, []byte("m")); err != nil {
			t.Fatal(err)
		}
	}
	failed, _, _, _ := queue.Open(spool)
	e := &queue.Entry{ID: "failed-1", From: "a@example.jp", Created: now,
		Rcpts: []*queue.Recipient{{Addr: "b@city.example.lg.jp", Status: queue.StatusFailed, Last: &queue.Reply{Text: "550 5.1.1 no such user", Code: 550, Enhanced: "5.1.1", Permanent: true}}}}
	if err := failed.MoveToFailed(e); err != nil {
		t.Fatal(err)
	}

	code, out, stderr := runCLI(t, "queue", "list", "-config", cfg)
	if code != 0 || !strings.Contains(out, "waiting-1  queued") || !strings.Contains(out, "failed-1   failed") || !strings.Contains(out, "1 queued, 1 failed") {
		t.Fatalf("list: %d %s %s", code, out, stderr)
	}
	if code, _, stderr := runCLI(t, "queue", "requeue", "-config", cfg, "failed-1"); code != 2 || !strings.Contains(stderr, "-operator") {
		t.Errorf("requeue without operator: %d %s", code, stderr)
	}
	if code, out, stderr := runCLI(t, "queue", "requeue", "-config", cfg, "-operator", "yamada", "failed-1"); code != 0 || !strings.Contains(out, "requeued") {
		t.Fatalf("requeue: %d %s %s", code, out, stderr)
	}
	if code, out, stderr := runCLI(t, "queue", "delete", "-config", cfg, "-operator", "yamada", "-reason", "spam", "waiting-1"); code != 0 || !strings.Contains(out, "deleted") {
		t.Fatalf("delete: %d %s %s", code, out, stderr)
	}
	if code, _, stderr := runCLI(t, "queue", "delete", "-config", cfg, "-operator", "x", "-reason", "y", "nope"); code != 2 || !strings.Contains(stderr, "no message nope") {
		t.Errorf("delete unknown: %d %s", code, stderr)
	}
	waiting, failedList, _ := sp.List()
	if len(waiting) != 1 || waiting[0].ID != "failed-1" || waiting[0].Rcpts[0].Status != queue.StatusPending || len(failedList) != 0 {
		t.Errorf("after: waiting %v, failed %v", waiting, failedList)
	}
	b, _ := os.ReadFile(auditFile)
	var events []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r map[string]any
		json.Unmarshal([]byte(line), &r)
		events = append(events, r["event"].(string)+":"+r["operator"].(string))
	}
	if strings.Join(events, ",") != "requeued:yamada,deleted:yamada" {
		t.Errorf("audit: %v", events)
	}
	if code, _, stderr := runCLI(t, "queue", "flush", "-config", cfg); code != 1 || !strings.Contains(stderr, "no running gateway") {
		t.Errorf("flush without a gateway: %d %s", code, stderr)
	}
}
