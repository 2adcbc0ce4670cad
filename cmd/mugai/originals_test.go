package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mugai/gateway/originals"
	"mugai/gateway/queue"
	"mugai/gateway/safeio"
)

// TestOriginalsCommands: list with filters, show with the part tree (and
// an escape sequence in a filename neutralised), purge audited.
func TestOriginalsCommands(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "originals")
	auditFile := filepath.Join(dir, "audit.jsonl")
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("originals: "+store+"\naudit: "+auditFile+"\nspool: "+filepath.Join(dir, "spool")+"\noriginals_retention: 30d\n"), 0o644)
	st, err := originals.Open(store)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := queue.Open(filepath.Join(dir, "spool")); err != nil { // as serve would have
		t.Fatal(err)
	}
	now := time.Now().UTC()
	old := now.AddDate(0, 0, -40)
	for _, o := range []struct {
		id   string
		at   time.Time
		rcpt string
	}{
		{old.Format("20060102T150405") + "-aaaaaaaaaaaa", old, "x@city.example.lg.jp"},
		{now.Format("20060102T150405") + "-bbbbbbbbbbbb", now, "y@city.example.lg.jp"},
	} {
		f, _ := st.TempFile(o.at, o.id)
		f.WriteString("Subject: =?UTF-8?B?6KaL56mN?=\r\n\r\nx\r\n")
		m := originals.Meta{ID: o.id, Received: o.at, From: "a@example.jp", Rcpts: []string{o.rcpt}, Subject: "[無害化] 見積", Auth: "dmarc=pass (example.jp)",
			Parts: []originals.Part{
				{Path: "1", Action: "textify", Rule: "body-text", Clause: "2(13)", Reason: "body-text", SHA256: "0123456789abcdef"},
				{Path: "2", Action: "strip", Rule: "builtin-dangerous-type", Clause: "6(6)", Reason: "dangerous-type", Filename: "a\x1b[31m.exe", SHA256: "fedcba9876543210", Release: "never"},
			}}
		var staged safeio.Staged
		if err := st.Stage(&staged, f, m); err != nil {
			t.Fatal(err)
		}
		if err := staged.Commit(nil); err != nil {
			t.Fatal(err)
		}
	}
	newID := now.Format("20060102T150405") + "-bbbbbbbbbbbb"

	code, out, stderr := runCLI(t, "originals", "list", "-config", cfg, "-rcpt", "Y@city.example.lg.jp")
	if code != 0 || !strings.Contains(out, newID) || strings.Contains(out, "aaaaaaaaaaaa") || !strings.Contains(out, "2 (1)") || !strings.Contains(out, "1 originals") {
		t.Errorf("list -rcpt: %d\n%s%s", code, out, stderr)
	}
	if !strings.Contains(out, "  見積\n") || strings.Contains(out, "[無害化]") {
		t.Errorf("list must show the subject as received, not with the policy's tag:\n%s", out)
	}
	if code, out, _ := runCLI(t, "originals", "list", "-config", cfg, "-since", now.AddDate(0, 0, -1).Format("2006-01-02")); code != 0 || !strings.Contains(out, "1 originals") {
		t.Errorf("list -since: %d\n%s", code, out)
	}
	if code, _, stderr := runCLI(t, "originals", "list", "-config", cfg, "-since", "yesterday"); code != 2 || !strings.Contains(stderr, "not a date") {
		t.Errorf("bad -since: %d %s", code, stderr)
	}
	if code, out, _ := runCLI(t, "originals", "list", "-config", cfg, "-id", newID); code != 0 || !strings.Contains(out, "1 originals") {
		t.Errorf("list -id: %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "originals", "show", "-config", cfg, newID)
	if !strings.Contains(out, "subject:    見積\ndelivered:  [無害化] 見積\n") {
		t.Errorf("show must give the subject as received, then as delivered:\n%s", out)
	}
	if !strings.Contains(out, "header as received:\n  Subject: =?UTF-8?B?6KaL56mN?=\n") || strings.Contains(out, "\n  x\n") {
		t.Errorf("show must print the header and not the body:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^2\s+strip\s+builtin-dangerous-type\s+6\(6\)\s+dangerous-type\s+never\s`).MatchString(out) || !strings.Contains(out, "auth:       dmarc=pass (example.jp)\n") {
		t.Errorf("show lacks the release mode or the authentication:\n%s", out)
	}
	if code != 0 || !strings.Contains(out, "builtin-dangerous-type") || !strings.Contains(out, "a?[31m.exe") || strings.Contains(out, "\x1b") || !strings.Contains(out, "見積") {
		t.Errorf("show: %d\n%q", code, out)
	}
	if code, _, stderr := runCLI(t, "originals", "show", "-config", cfg, "20260101T000000-nothere"); code != 2 || !strings.Contains(stderr, "no such original") {
		t.Errorf("show unknown: %d %s", code, stderr)
	}
	// Release: part 2 was removed as dangerous-type (no -force needed);
	// without a running gateway the entry waits in the spool.
	if code, _, stderr := runCLI(t, "originals", "release", "-config", cfg, "-operator", "yamada", newID); code != 2 || !strings.Contains(stderr, "-reason") {
		t.Errorf("release without reason: %d %s", code, stderr)
	}
	code, out, stderr = runCLI(t, "originals", "release", "-config", cfg, "-operator", "yamada", "-reason", "audit request", "-to", "kansa@city.example.lg.jp", newID)
	if code != 0 || !strings.Contains(out, "released the whole original of "+newID+" to kansa@city.example.lg.jp") || !strings.Contains(out, "no running gateway") {
		t.Errorf("release: %d\n%s%s", code, out, stderr)
	}
	if code, out, _ := runCLI(t, "queue", "list", "-config", cfg); code != 0 || !strings.Contains(out, "1 queued") {
		t.Errorf("the release is not in the queue:\n%s", out)
	}
	os.Remove(auditFile) // the purge check below counts from here
	if code, _, stderr := runCLI(t, "originals", "purge", "-config", cfg); code != 2 || !strings.Contains(stderr, "-operator") {
		t.Errorf("purge without operator: %d %s", code, stderr)
	}
	code, out, _ = runCLI(t, "originals", "purge", "-config", cfg, "-operator", "yamada")
	if code != 0 || !strings.Contains(out, "purged 1 originals") {
		t.Errorf("purge: %d %s", code, out)
	}
	if code, out, _ := runCLI(t, "originals", "list", "-config", cfg); code != 0 || !strings.Contains(out, "1 originals") {
		t.Errorf("after purge: %s", out)
	}
	recs := auditRecords(auditFile)
	if len(recs) != 1 || recs[0]["event"] != "purged" || recs[0]["operator"] != "yamada" || !strings.Contains(recs[0]["detail"].(string), "clause 6(7)") {
		t.Errorf("audit = %v", recs)
	}
}

func TestReportCommand(t *testing.T) {
	log := "../../policy/report/testdata/audit.jsonl"
	code, out, stderr := runCLI(t, "report", "-since", "2026-11-01T00:00:00Z", "-until", "2026-12-01T00:00:00Z", "-format", "csv", log)
	if code != 0 || !strings.Contains(out, "messages,received,3\n") || !strings.Contains(out, "released,yamada,1\n") {
		t.Errorf("csv: %d\n%s%s", code, out, stderr)
	}
	if code, out, _ := runCLI(t, "report", "-format", "html", log); code != 0 || !strings.HasPrefix(out, "<!DOCTYPE html>") {
		t.Errorf("html: %d", code)
	}
	if code, _, stderr := runCLI(t, "report", "-format", "pdf", log); code != 2 || !strings.Contains(stderr, "not text, csv or html") {
		t.Errorf("bad format: %d %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "report"); code != 2 || !strings.Contains(stderr, "at least one audit file") {
		t.Errorf("no file: %d %s", code, stderr)
	}
}

// TestOriginalsReleaseMember: releasing a member of an archive is refused
// (exit 2) with the archive's part to release instead; nothing is queued.
func TestOriginalsReleaseMember(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "originals")
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("originals: "+store+"\naudit: "+filepath.Join(dir, "audit.jsonl")+"\nspool: "+filepath.Join(dir, "spool")+"\n"), 0o644)
	st, err := originals.Open(store)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := queue.Open(filepath.Join(dir, "spool")); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	id := now.Format("20060102T150405") + "-cccccccccccc"
	f, _ := st.TempFile(now, id)
	f.WriteString("Subject: x\r\n\r\nx\r\n")
	var staged safeio.Staged
	if err := st.Stage(&staged, f, originals.Meta{ID: id, Received: now, From: "a@example.jp", Rcpts: []string{"b@city.example.lg.jp"},
		Parts: []originals.Part{
			{Path: "1", Action: "textify", Rule: "body-text", Reason: "body-text", SHA256: "01"},
			{Path: "7", Action: "disarm", Rule: "zip", Reason: "disarmed", Filename: "資料.zip", SHA256: "02"},
			{Path: "7/1", Action: "strip", Rule: "builtin-unsupported", Reason: "unsupported", Filename: "a.bin", SHA256: "03"},
		}}); err != nil {
		t.Fatal(err)
	}
	if err := staged.Commit(nil); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "originals", "release", "-config", cfg, "-operator", "yamada", "-reason", "need", "-part", "7/1", id)
	if code != 2 || !strings.Contains(stderr, "cannot be released alone: part 7/1 is inside part 7 (資料.zip); release part 7 instead") {
		t.Errorf("release of a member: exit %d %s", code, stderr)
	}
	if code, out, _ := runCLI(t, "queue", "list", "-config", cfg); code != 0 || !strings.Contains(out, "0 queued") {
		t.Errorf("a refused release queued something:\n%s", out)
	}
}

// An original that does not match its index (a power cut during its
// commit round, which gave no 250, left its data zeros or cut short)
// is not shown as "the header as received": show says it is damaged.
func TestOriginalsShowDamaged(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "originals")
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("originals: "+store+"\naudit: "+filepath.Join(dir, "audit.jsonl")+"\nspool: "+filepath.Join(dir, "spool")+"\n"), 0o644)
	st, err := originals.Open(store)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	msg := "From: a@example.jp\r\nSubject: kept\r\n\r\nbody\r\n"
	sum := sha256.Sum256([]byte(msg))
	for i, hurt := range []func([]byte) []byte{
		func(b []byte) []byte { return b },
		func(b []byte) []byte { return make([]byte, len(b)) },
		func(b []byte) []byte { return b[:len(b)/2] },
	} {
		id := now.Format("20060102T150405") + fmt.Sprintf("-%012d", i)
		f, _ := st.TempFile(now, id)
		f.WriteString(msg)
		m := originals.Meta{ID: id, Received: now, From: "a@example.jp", Rcpts: []string{"b@city.example.lg.jp"},
			Size: int64(len(msg)), SHA256: hex.EncodeToString(sum[:])}
		var staged safeio.Staged
		if err := st.Stage(&staged, f, m); err != nil {
			t.Fatal(err)
		}
		if err := staged.Commit(nil); err != nil {
			t.Fatal(err)
		}
		_, path, err := st.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		os.WriteFile(path, hurt(b), 0o640)
		code, out, stderr := runCLI(t, "originals", "show", "-config", cfg, id)
		if code != 0 {
			t.Fatalf("show: %d %s", code, stderr)
		}
		intact := i == 0
		if strings.Contains(out, "header as received:") != intact || strings.Contains(out, "does not match its index") == intact {
			t.Errorf("show of original %d (intact: %v):\n%s", i, intact, out)
		}
	}
}
