package gateway

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestRetryThenDeliver: the next hop answers 451 twice, then 250; the
// message is delivered exactly once and every attempt is audited.
func TestRetryThenDeliver(t *testing.T) {
	hop := startNextHop(t)
	hop.dataReply = func(n int) error {
		if n <= 2 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	}
	tg := startGateway(t, func(c *Config) { c.Deliver.Relay = hop.addr })
	reply, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: retry\r\n\r\nretry me\r\n")
	if err != nil {
		t.Fatal(err)
	}
	_, id, _ := strings.Cut(reply, "queued as ")
	waitFor(t, "delivery after retries", func() bool {
		names := eventNames(auditEvents(t, tg.cfg.Audit, id))
		return names[len(names)-1] == "delivered"
	})
	time.Sleep(300 * time.Millisecond) // longer than retry_max: no extra attempt may follow
	if n := len(hop.messages()); n != 1 {
		t.Fatalf("next hop received %d copies, want 1", n)
	}
	want := "received,decision,queued,deferred,deferred,delivered"
	if got := strings.Join(eventNames(auditEvents(t, tg.cfg.Audit, id)), ","); got != want {
		t.Errorf("audit = %s, want %s", got, want)
	}
}

// TestSlowNextHop: a next hop that sits on its DATA reply past
// deliver.timeout is given up on and retried, not waited on forever; the
// late attempt is refused by the hop, so exactly one copy arrives.
func TestSlowNextHop(t *testing.T) {
	hop := startNextHop(t)
	hop.dataDelay = func(n int) time.Duration {
		if n == 1 {
			return 2 * time.Second
		}
		return 0
	}
	hop.dataReply = func(n int) error {
		if n == 1 { // the sender has long hung up; a real MTA would not deliver
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "too late"}
		}
		return nil
	}
	tg := startGateway(t, func(c *Config) {
		c.Deliver.Relay = hop.addr
		c.Deliver.Timeout = Duration(300 * time.Millisecond)
	})
	reply, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: slow\r\n\r\nslow hop\r\n")
	if err != nil {
		t.Fatal(err)
	}
	_, id, _ := strings.Cut(reply, "queued as ")
	waitFor(t, "delivery after a timed-out attempt", func() bool {
		names := eventNames(auditEvents(t, tg.cfg.Audit, id))
		return names[len(names)-1] == "delivered"
	})
	recs := auditEvents(t, tg.cfg.Audit, id)
	var deferred map[string]any
	for _, r := range recs {
		if r["event"] == "deferred" {
			deferred = r
			break
		}
	}
	if deferred == nil {
		t.Fatalf("no deferred event before delivery: %v", eventNames(recs))
	}
	if d := fmt.Sprint(deferred); !strings.Contains(d, "timeout") && !strings.Contains(d, "deadline") {
		t.Errorf("deferred record does not name the timeout: %s", d)
	}
	time.Sleep(2 * time.Second) // let the held first attempt finish at the hop
	if n := len(hop.messages()); n != 1 {
		t.Fatalf("next hop received %d copies, want 1", n)
	}
}

// TestPermanentFailure: a 5xx for one recipient fails that recipient only;
// the entry moves to failed/ for an admin, never silently dropped.
func TestPermanentFailure(t *testing.T) {
	hop := startNextHop(t)
	hop.rcptReply = func(rcpt string) error {
		if strings.HasPrefix(rcpt, "nobody@") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}
	tg := startGateway(t, func(c *Config) { c.Deliver.Relay = hop.addr })
	reply, err := send(tg.addr, "a@example.jp", []string{"ok@city.example.lg.jp", "nobody@city.example.lg.jp"}, "Subject: x\r\n\r\nx\r\n")
	if err != nil {
		t.Fatal(err)
	}
	_, id, _ := strings.Cut(reply, "queued as ")
	waitFor(t, "the entry in failed/", func() bool {
		_, err := os.Stat(filepath.Join(tg.cfg.Spool, "failed", id+".json"))
		return err == nil
	})
	got := map[string]string{}
	for _, r := range auditEvents(t, tg.cfg.Audit, id) {
		if r["event"] == "delivered" || r["event"] == "bounced" {
			got[r["rcpt"].(string)] = r["event"].(string) + " " + r["reply"].(string)
		}
	}
	if !strings.HasPrefix(got["ok@city.example.lg.jp"], "delivered 250") || !strings.HasPrefix(got["nobody@city.example.lg.jp"], "bounced 550 5.1.1") {
		t.Errorf("outcomes = %v", got)
	}
	if msgs := hop.messages(); len(msgs) != 1 || strings.Join(msgs[0].rcpts, ",") != "ok@city.example.lg.jp" {
		t.Errorf("next hop received %+v", msgs)
	}
}

// TestRestartResumes: mail queued while the next hop is down is delivered
// by the next process that opens the same spool.
func TestRestartResumes(t *testing.T) {
	down, _ := net.Listen("tcp", "127.0.0.1:0")
	downAddr := down.Addr().String()
	down.Close() // connection refused from now on
	tg := startGateway(t, func(c *Config) { c.Deliver.Relay = downAddr })
	reply, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: later\r\n\r\nsurvives a restart\r\n")
	if err != nil {
		t.Fatal(err)
	}
	_, id, _ := strings.Cut(reply, "queued as ")
	waitFor(t, "a deferred attempt", func() bool {
		return strings.Contains(strings.Join(eventNames(auditEvents(t, tg.cfg.Audit, id)), ","), "deferred")
	})
	tg.stop(t)

	hop := startNextHop(t)
	cfg := tg.cfg
	cfg.Listen = "127.0.0.1:0"
	cfg.Deliver.Relay = hop.addr
	startGatewayWith(t, cfg)
	waitFor(t, "delivery after restart", func() bool { return len(hop.messages()) == 1 })
	if !strings.Contains(bodyText(t, hop.messages()[0].data), "survives a restart") {
		t.Error("wrong message delivered")
	}
}

// TestDropAfterData: the next hop's 250 to DATA is the commit point; a
// connection that dies before QUIT is answered must not cause a resend.
func TestDropAfterData(t *testing.T) {
	hop := startNextHop(t)
	hop.dropAfterData = true
	tg := startGateway(t, func(c *Config) { c.Deliver.Relay = hop.addr })
	reply, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: once\r\n\r\nonce\r\n")
	if err != nil {
		t.Fatal(err)
	}
	_, id, _ := strings.Cut(reply, "queued as ")
	waitFor(t, "delivery", func() bool {
		names := eventNames(auditEvents(t, tg.cfg.Audit, id))
		return names[len(names)-1] == "delivered"
	})
	time.Sleep(500 * time.Millisecond) // longer than retry_max: a resend would have happened
	if n := len(hop.messages()); n != 1 {
		t.Errorf("next hop received %d copies, want 1", n)
	}
}
