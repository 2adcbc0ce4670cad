package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportClausesAndZone: the clause titles come from the catalogue the
// configuration names, the times are shown in -tz with the zone named,
// and the period is the first and the last record's.
func TestReportClausesAndZone(t *testing.T) {
	dir := t.TempDir()
	own, err := os.ReadFile("../../policy/clauses.yaml")
	if err != nil {
		t.Fatal(err)
	}
	clauses := filepath.Join(dir, "clauses.yaml")
	os.WriteFile(clauses, []byte(strings.ReplaceAll(string(own), "技術的セキュリティ", "技術的な対策（市）")), 0o644)
	cfg := filepath.Join(dir, "mugai.yaml")
	os.WriteFile(cfg, []byte("clauses: "+clauses+"\n"), 0o644)
	log := "../../policy/report/testdata/audit.jsonl"

	code, out, stderr := runCLI(t, "report", "-config", cfg, "-tz", "UTC", log)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"期間 / Period: 2026-10-31 23:59 UTC (最初の記録 / first record) – 2026-12-01 00:00 UTC (最後の記録 / last record)",
		"時刻の表示 / Times shown in: UTC (UTC, UTC+00:00)",
		"6(6)   1  技術的な対策（市） / Technical security",
		"  2026-11-04 水      0                 0                 1 ##########",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	// A -since date is midnight in -tz.
	if code, out, _ := runCLI(t, "report", "-tz", "Asia/Tokyo", "-since", "2026-11-02", "-format", "csv", log); code != 0 || !strings.Contains(out, "period,since,2026-11-02T00:00:00+09:00\n") {
		t.Errorf("-since in -tz: %d\n%s", code, out)
	}
	if code, _, stderr := runCLI(t, "report", "-tz", "Mars/Olympus", log); code != 2 || !strings.Contains(stderr, "not a time zone") {
		t.Errorf("bad -tz: %d %s", code, stderr)
	}
}

// TestReportEmptyPeriod: -until not after -since is a usage error (exit
// 2) naming both, not an empty report that reads as "no mail".
func TestReportEmptyPeriod(t *testing.T) {
	log := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := os.WriteFile(log, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "report", "-tz", "UTC", "-since", "2026-12-01", "-until", "2026-11-01", log)
	if code != 2 || !strings.Contains(stderr, "-until 2026-11-01") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}
