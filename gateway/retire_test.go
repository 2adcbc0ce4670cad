package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestReleaseRefusedNoBackscatter: a release goes out from the gateway's
// own envelope sender; refused by the next hop, it produces no mail at
// all (not to the original Internet sender, nothing by the bounce relay),
// is audited and kept in spool/failed/.
func TestReleaseRefusedNoBackscatter(t *testing.T) {
	hop := startNextHop(t)
	hop.rcptReply = func(rcpt string) error {
		if strings.HasPrefix(rcpt, "refuse@") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "release refused by lgwan-mx1.internal"}
		}
		return nil
	}
	bounces := startNextHop(t)
	tg := startGateway(t, func(c *Config) { c.Deliver.Relay, c.Deliver.BounceRelay = hop.addr, bounces.addr })
	reply, err := send(tg.addr, "outsider@example.jp", []string{"b@city.example.lg.jp"}, "From: outsider@example.jp\r\nSubject: s\r\n\r\nbody\r\n")
	if err != nil {
		t.Fatal(err)
	}
	_, id, _ := strings.Cut(reply, "queued as ")
	waitFor(t, "the sanitized message", func() bool { return len(hop.messages()) == 1 })

	release := func(to string) Released {
		rel, err := Release(tg.cfg, tg.g.originals, tg.g.spool, tg.g.audit,
			ReleaseRequest{ID: id, Operator: "yamada", Reason: "asked by staff", To: []string{to}, Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		tg.g.Rescan()
		return rel
	}
	// Accepted: the envelope sender is ours.
	release("b@city.example.lg.jp")
	waitFor(t, "the release", func() bool { return len(hop.messages()) == 2 })
	if from := hop.messages()[1].from; from != "postmaster@"+tg.cfg.Hostname {
		t.Errorf("release sent from <%s>, want the gateway's own sender", from)
	}
	// Refused.
	rel := release("refuse@city.example.lg.jp")
	waitFor(t, "the refused release in failed/", func() bool {
		_, err := os.Stat(filepath.Join(tg.cfg.Spool, "failed", rel.SpoolID+".json"))
		return err == nil
	})
	time.Sleep(300 * time.Millisecond) // a DSN would be on its way by now
	if n := len(bounces.messages()); n != 0 {
		t.Errorf("%d messages went out by the bounce relay for a refused release: %q", n, bounces.messages()[0].rcpts)
	}
	for _, m := range hop.messages() {
		for _, r := range m.rcpts {
			if r == "outsider@example.jp" {
				t.Error("mail went to the original Internet sender")
			}
		}
	}
	bounced := false
	for _, r := range auditEvents(t, tg.cfg.Audit, rel.SpoolID) {
		bounced = bounced || r["event"] == "bounced" && strings.Contains(r["reply"].(string), "550 5.7.1")
	}
	if !bounced {
		t.Error("the refused release has no bounced audit record")
	}
}
