package gateway

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReleaseAuditedInItsCommit: a release's record is written as part of
// the commit of its spool entry. When the audit log refuses it, nothing
// is queued (no release reaches staff without its record); otherwise the
// record is there as soon as the entry is.
func TestReleaseAuditedInItsCommit(t *testing.T) {
	hop := startNextHop(t)
	tg := startGateway(t, func(c *Config) { c.Deliver.Relay = hop.addr })
	reply, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: s\r\n\r\nbody\r\n")
	if err != nil {
		t.Fatal(err)
	}
	_, id, _ := strings.Cut(reply, "queued as ")
	waitFor(t, "the sanitized message", func() bool { return len(hop.messages()) == 1 })
	req := ReleaseRequest{ID: id, Operator: "yamada", Reason: "needed", Now: time.Now()}

	rel, err := Release(tg.cfg, tg.g.originals, tg.g.spool, tg.g.audit, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(tg.cfg.Spool, rel.SpoolID+".msg")); err != nil {
		t.Fatalf("release not spooled: %v", err)
	}
	released := 0
	for _, ev := range auditEvents(t, tg.cfg.Audit, id) {
		if ev["event"] == "released" && ev["spool_id"] == rel.SpoolID {
			released++
		}
	}
	if released != 1 {
		t.Fatalf("%d released records for %s", released, rel.SpoolID)
	}

	tg.g.audit.Fail(errors.New("injected: the audit file failed to sync"))
	req.Now = time.Now().Add(time.Second)
	rel, err = Release(tg.cfg, tg.g.originals, tg.g.spool, tg.g.audit, req)
	if err == nil {
		t.Fatal("a release was queued while the audit log refuses records")
	}
	matches, _ := filepath.Glob(filepath.Join(tg.cfg.Spool, "*.msg"))
	for _, m := range matches {
		if strings.Contains(m, rel.SpoolID) && rel.SpoolID != "" {
			t.Errorf("unaudited release left in the spool: %s", m)
		}
	}
}
