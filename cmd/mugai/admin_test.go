package main

import (
	"bytes"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"mugai/gateway"
	"mugai/gateway/originals"
	"mugai/gateway/queue"
	"mugai/gateway/safeio"
)

// TestAdminStrings: operator names that could forge a header or a line
// in the audit log are refused (exit 2, naming the rule) before anything
// is released, purged, requeued or deleted; a hostile reason is recorded
// and written into the released mail as one bounded, encoded line.
func TestAdminStrings(t *testing.T) {
	dir := t.TempDir()
	store, spool, auditFile := filepath.Join(dir, "originals"), filepath.Join(dir, "spool"), filepath.Join(dir, "audit.jsonl")
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("originals: "+store+"\naudit: "+auditFile+"\nspool: "+spool+"\n"), 0o644)
	st, err := originals.Open(store)
	if err != nil {
		t.Fatal(err)
	}
	sp, _, _, err := queue.Open(spool)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	id := now.Format("20060102T150405") + "-cccccccccccc"
	f, _ := st.TempFile(now, id)
	f.WriteString("Subject: x\r\n\r\nx\r\n")
	var staged safeio.Staged
	if err := st.Stage(&staged, f, originals.Meta{ID: id, Received: now, From: "a@example.jp", Rcpts: []string{"y@city.example.lg.jp"},
		Parts: []originals.Part{{Path: "1", Action: "textify", Reason: "body-text", SHA256: "0123456789abcdef"}}}); err != nil {
		t.Fatal(err)
	}
	if err := staged.Commit(nil); err != nil {
		t.Fatal(err)
	}

	for _, op := range []string{"a\r\nBcc: x@y", "a\nX-Evil: 1", "\u2028", "a\u2028b", "yamada\u202e", strings.Repeat("a", 200), " yamada", "x:y", "山田"} {
		for _, cmd := range [][]string{
			{"originals", "release", "-config", cfg, "-operator", op, "-reason", "needed", id},
			{"originals", "purge", "-config", cfg, "-operator", op},
			{"queue", "requeue", "-config", cfg, "-operator", op, "20260101T000000-000000000000"},
			{"queue", "delete", "-config", cfg, "-operator", op, "-reason", "spam", "20260101T000000-000000000000"},
		} {
			code, _, stderr := runCLI(t, cmd...)
			if code != 2 || !strings.Contains(stderr, gateway.OperatorRule) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("%s %s -operator %q: exit %d, %q", cmd[0], cmd[1], op, code, stderr)
			}
		}
	}
	if code, _, stderr := runCLI(t, "originals", "release", "-config", cfg, "-operator", "", "-reason", "x", id); code != 2 || !strings.Contains(stderr, "-operator") {
		t.Errorf("empty operator: exit %d %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, "originals", "release", "-config", cfg, "-operator", "yamada", "-reason", "\r\n\u2028\u200b", id); code != 2 || !strings.Contains(stderr, "-reason") {
		t.Errorf("reason of nothing: exit %d %q", code, stderr)
	}
	if waiting, failed, _ := sp.List(); len(waiting)+len(failed) != 0 {
		t.Fatalf("%d entries queued by refused commands", len(waiting)+len(failed))
	}
	if recs := auditRecords(auditFile); len(recs) != 0 {
		t.Fatalf("refused commands were audited: %v", recs)
	}

	reason := "監査\r\nBcc: x@y\u2028X-Evil: 1\u202e =?utf-8?b?4oCu?= " + strings.Repeat("理由 reason ", 50)
	code, out, stderr := runCLI(t, "originals", "release", "-config", cfg, "-operator", "yamada@city.example.lg.jp", "-reason", reason, id)
	if code != 0 {
		t.Fatalf("release: %d %s%s", code, out, stderr)
	}
	waiting, _, _ := sp.List()
	if len(waiting) != 1 {
		t.Fatalf("%d queued", len(waiting))
	}
	msg, err := sp.Message(waiting[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	block, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	m, err := mail.ReadMessage(bytes.NewReader(append(block, "\r\n\r\n"...)))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Header["Bcc"]) != 0 || len(m.Header["X-Evil"]) != 0 || len(m.Header["X-Mugai-Release-Reason"]) != 1 {
		t.Fatalf("released header:\n%s", block)
	}
	got, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("X-Mugai-Release-Reason"))
	if err != nil || got != gateway.CleanReason(reason) || utf8.RuneCountInString(got) > gateway.MaxReason ||
		strings.ContainsAny(got, "\r\n\u2028\u202e") || !strings.HasPrefix(got, "監査 Bcc: x@y X-Evil: 1 =?utf-8?b?4oCu?= 理由") {
		t.Errorf("reason header %q (%v)", got, err)
	}
	for _, line := range bytes.Split(block, []byte("\r\n")) {
		if len(line) > 100 {
			t.Errorf("header line of %d bytes: %q", len(line), line)
		}
	}
	recs := auditRecords(auditFile)
	if len(recs) != 1 || recs[0]["operator"] != "yamada@city.example.lg.jp" || recs[0]["reason"] != gateway.CleanReason(reason) {
		t.Errorf("audit: %v", recs)
	}
}
