package gateway

import (
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestDSNAuditedInItsCommit: a DSN's records are part of the commit of its
// spool entry. Sent, it has its received and queued records; while the
// audit log refuses records, no DSN is spooled or sent, and the bounced
// message stays in the spool (nothing is lost).
func TestDSNAuditedInItsCommit(t *testing.T) {
	hop := startNextHop(t)
	hop.rcptReply = func(rcpt string) error {
		if strings.HasPrefix(rcpt, "nobody@") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}
	bounces := startNextHop(t)
	tg := startGateway(t, func(c *Config) { c.Deliver.Relay, c.Deliver.BounceRelay = hop.addr, bounces.addr })
	msg := "From: sender@example.jp\r\nSubject: s\r\n\r\nbody\r\n"
	if _, err := send(tg.addr, "sender@example.jp", []string{"nobody@city.example.lg.jp"}, msg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the DSN", func() bool { return len(bounces.messages()) == 1 })
	var dsnID string
	for _, ev := range auditEvents(t, tg.cfg.Audit, "") {
		if ev["event"] == "received" && ev["from"] == "" {
			dsnID, _ = ev["id"].(string)
		}
	}
	events := map[string]bool{}
	for _, ev := range auditEvents(t, tg.cfg.Audit, dsnID) {
		events[ev["event"].(string)] = true
	}
	if dsnID == "" || !events["received"] || !events["queued"] || !events["delivered"] {
		t.Fatalf("DSN %q records: %v", dsnID, events)
	}

	// A message waiting in the spool when the log breaks: its DSN cannot
	// be committed, so none goes out, and the message is kept.
	var refuse atomic.Bool
	hop.rcptReply = func(rcpt string) error {
		if refuse.Load() {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "try later"}
	}
	reply, err := send(tg.addr, "sender@example.jp", []string{"later@city.example.lg.jp"}, msg)
	if err != nil {
		t.Fatal(err)
	}
	_, id, _ := strings.Cut(reply, "queued as ")
	waitFor(t, "the first deferral", func() bool {
		for _, ev := range auditEvents(t, tg.cfg.Audit, id) {
			if ev["event"] == "deferred" {
				return true
			}
		}
		return false
	})
	tg.g.audit.Fail(errors.New("injected: the audit file failed to sync"))
	refuse.Store(true)
	tg.g.Rescan() // a flush: the message is tried now and refused for good
	time.Sleep(500 * time.Millisecond)
	if n := len(bounces.messages()); n != 1 {
		t.Errorf("%d DSNs sent; want only the first", n)
	}
	if m, _ := filepath.Glob(filepath.Join(tg.cfg.Spool, id+".msg")); len(m) != 1 {
		t.Errorf("the bounced message left the spool without its DSN: %v", m)
	}
}
