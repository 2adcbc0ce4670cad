package gateway

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// rcptReplies opens one transaction and returns the reply to each RCPT
// (nil: accepted); the client is left open for DATA.
func rcptReplies(t *testing.T, addr string, rcpts ...string) (*smtp.Client, []error) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("forged@example.jp", nil); err != nil {
		t.Fatal(err)
	}
	errs := make([]error, len(rcpts))
	for i, r := range rcpts {
		errs[i] = c.Rcpt(r, nil)
	}
	return c, errs
}

// TestRecipientsRefusedAtRcpt: end to end, the list and the probe refuse
// unknown users at RCPT with 550 5.1.1 (audited), the known one is
// delivered, and nothing bounces: no DSN to the (forged) sender.
func TestRecipientsRefusedAtRcpt(t *testing.T) {
	hop := startNextHop(t)
	var probes atomic.Int64
	knownUsers(hop, &probes, 0, "staff@city.example")
	list := filepath.Join(t.TempDir(), "recipients")
	os.WriteFile(list, []byte("# nobody left the city but is still listed\nstaff@city.example\nnobody@city.example\n"), 0o644)
	tg := startGateway(t, func(c *Config) {
		c.Deliver.Relay, c.Deliver.TLS = hop.addr, TLSNone
		c.Deliver.BounceRelay = hop.addr // a DSN would show up at the next hop
		c.Accept.Recipients = list
		c.Accept.VerifyRecipients = true
	})
	c, errs := rcptReplies(t, tg.addr, "ghost@city.example", "nobody@city.example", "Staff@City.Example")
	wantSMTPErr(t, errs[0], 550, smtp.EnhancedCode{5, 1, 1}) // not in the list: no probe
	wantSMTPErr(t, errs[1], 550, smtp.EnhancedCode{5, 1, 1}) // listed, refused by the next hop
	if errs[2] != nil {
		t.Fatalf("known user refused: %v", errs[2])
	}
	if n := probes.Load(); n != 2 { // nobody, then staff: ghost never reaches the next hop
		t.Errorf("%d probes, want 2", n)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Subject: hi\r\nMessage-ID: <rcpt@test>\r\n\r\nhello\r\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery", func() bool { return len(hop.messages()) == 1 })
	time.Sleep(200 * time.Millisecond) // a DSN, if any, would follow
	msgs := hop.messages()
	if len(msgs) != 1 || !slices.Equal(msgs[0].rcpts, []string{"Staff@city.example"}) || msgs[0].from != "forged@example.jp" {
		t.Fatalf("next hop received %d messages (%+v), want the one for staff only", len(msgs), msgs)
	}
	var rejected []string
	for _, r := range auditEvents(t, tg.cfg.Audit, "") {
		switch r["event"] {
		case "rejected":
			rejected = append(rejected, r["rcpt"].([]any)[0].(string)+" "+r["reply"].(string))
		case "bounced", "dsn":
			t.Errorf("audit has a %s record: %v", r["event"], r)
		}
	}
	want := []string{"ghost@city.example 550 5.1.1 Recipient address rejected: user unknown in the recipient list",
		"nobody@city.example 550 5.1.1 Recipient address rejected: user unknown at the internal mail server"}
	if !slices.Equal(rejected, want) {
		t.Errorf("rejected records:\n%q\nwant\n%q", rejected, want)
	}
	for reason, want := range map[string]float64{refusedUnlisted: 1, refusedUnknown: 1, refusedUnverified: 0} {
		if got := counterValue(tg.g.rcpt.refused.WithLabelValues(reason)); got != want {
			t.Errorf("refused{%s} = %v, want %v", reason, got, want)
		}
	}
	_, body := httpMetrics(t, tg)
	for _, m := range []string{`mugai_recipient_probes_total{result="unknown"} 1`, `mugai_recipient_cache_lookups_total{result="miss"} 2`,
		`mugai_recipients_refused_total{reason="unlisted"} 1`} {
		if !strings.Contains(body, m) {
			t.Errorf("metrics lack %s", m)
		}
	}
}

// httpMetrics is what /metrics serves from the gateway's registry.
func httpMetrics(t *testing.T, tg *testGateway) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(tg.g.metrics.reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Code, rec.Body.String()
}

// TestRecipientsUndecided: a next hop that cannot be asked gives 450
// 4.1.1 at RCPT (never 250, never 5xx), audited.
func TestRecipientsUndecided(t *testing.T) {
	down := scriptedHop(t, func(string) string { return "421 4.3.2 shutting down" })
	tg := startGateway(t, func(c *Config) {
		c.Deliver.Relay, c.Deliver.TLS = down, TLSNone
		c.Accept.VerifyRecipients = true
		c.Accept.VerifyTimeout = Duration(time.Second)
	})
	_, errs := rcptReplies(t, tg.addr, "staff@city.example")
	wantSMTPErr(t, errs[0], 450, smtp.EnhancedCode{4, 1, 1})
	recs := auditEvents(t, tg.cfg.Audit, "")
	last := recs[len(recs)-1]
	if last["event"] != "rejected" || !strings.HasPrefix(last["reply"].(string), "450 4.1.1 ") {
		t.Errorf("last audit record %v, want the 450 rejection", last)
	}
}

// TestRecipientsReload: SIGHUP (Reload) reads accept.recipients again; a
// file that does not load keeps the list in force and says where.
func TestRecipientsReload(t *testing.T) {
	list := filepath.Join(t.TempDir(), "recipients")
	os.WriteFile(list, []byte("staff@city.example\n"), 0o644)
	tg := startGateway(t, func(c *Config) { c.Accept.Recipients = list })
	rcpt := func(addr string) error { _, errs := rcptReplies(t, tg.addr, addr); return errs[0] }
	wantSMTPErr(t, rcpt("newcomer@city.example"), 550, smtp.EnhancedCode{5, 1, 1})

	os.WriteFile(list, []byte("staff@city.example\nnewcomer@city.example\n"), 0o644)
	if err := tg.g.Reload(); err != nil {
		t.Fatal(err)
	}
	if err := rcpt("newcomer@city.example"); err != nil {
		t.Fatalf("after reload: %v", err)
	}

	os.WriteFile(list, []byte("staff@city.example\n\nnot-an-address\n"), 0o644)
	err := tg.g.Reload()
	if err == nil || !strings.Contains(err.Error(), list+":3:") {
		t.Fatalf("Reload with a bad list: %v, want an error naming %s:3", err, list)
	}
	if err := rcpt("newcomer@city.example"); err != nil {
		t.Fatalf("the list in force was dropped by a bad reload: %v", err)
	}
	if _, body := httpMetrics(t, tg); !strings.Contains(body, "mugai_recipients_file_stale 1\n") {
		t.Errorf("stale gauge not set:\n%s", body)
	}
}
