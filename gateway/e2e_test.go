package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mugai/gateway/courier"
	"mugai/sanitize/format"
)

// testGateway runs a Gateway on 127.0.0.1:0 with its stores in a temp dir.
type testGateway struct {
	g       *Gateway
	addr    string
	cfg     Config
	stopped bool
}

func startGateway(t testing.TB, mutate func(*Config)) *testGateway {
	t.Helper()
	return startGatewayWith(t, testConfig(t, mutate))
}

// testConfig is the defaults with every path in a temp dir, fast retries,
// and no free-space threshold.
func testConfig(t testing.TB, mutate func(*Config)) Config {
	t.Helper()
	dir := t.TempDir()
	cfg := Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.Spool = filepath.Join(dir, "spool")
	cfg.Originals = filepath.Join(dir, "originals")
	cfg.Audit = filepath.Join(dir, "audit.jsonl")
	cfg.Deliver.Maildir = filepath.Join(dir, "maildir")
	cfg.Deliver.RetryMin = Duration(50 * time.Millisecond)
	cfg.Deliver.RetryMax = Duration(200 * time.Millisecond)
	cfg.Deliver.Timeout = Duration(10 * time.Second)
	cfg.Backpressure.MinFreeBytes = 0 // tests must not depend on this machine's free space
	if mutate != nil {
		mutate(&cfg)
	}
	return cfg
}

func startGatewayWith(t testing.TB, cfg Config, prepare ...func(*Gateway)) *testGateway {
	t.Helper()
	return startGatewaySanitizers(t, cfg, nil, prepare...)
}

// startGatewaySanitizers is startGatewayWith with sanitizers for the
// policy's disarm, extract and flatten actions.
func startGatewaySanitizers(t testing.TB, cfg Config, reg *format.Registry, prepare ...func(*Gateway)) *testGateway {
	t.Helper()
	var h slog.Handler = slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})
	if _, ok := t.(*testing.B); ok {
		h = slog.DiscardHandler // a benchmark measures the gateway, not the test log
	}
	log := slog.New(h)
	g, err := New(cfg, log, reg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, p := range prepare {
		p(g) // before Serve: no session can race with it
	}
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(l)
	tg := &testGateway{g: g, addr: l.Addr().String(), cfg: cfg}
	t.Cleanup(func() { tg.stop(t) })
	return tg
}

func (tg *testGateway) stop(t testing.TB) {
	if tg.stopped {
		return
	}
	tg.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tg.g.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if n := tg.g.Panics(); n != 0 {
		t.Errorf("%d panics were recovered during the test", n)
	}
}

// tWriter sends logs to t.Log.
type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// send delivers one message with the go-smtp client and returns the reply
// text of the final DATA, or the error.
func send(addr, from string, rcpts []string, msg string) (string, error) {
	c, err := smtp.Dial(addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return "", err
	}
	if err := c.Mail(from, nil); err != nil {
		return "", err
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			return "", err
		}
	}
	w, err := c.Data()
	if err != nil {
		return "", err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return "", err
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", err
	}
	_ = c.Quit()
	return resp.StatusText, nil
}

// wantSMTPErr checks code and enhanced code together.
func wantSMTPErr(t *testing.T, err error, code int, enh smtp.EnhancedCode) {
	t.Helper()
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want SMTP error %d %v", err, code, enh)
	}
	if se.Code != code || se.EnhancedCode != enh {
		t.Fatalf("got %d %v %q, want %d %v", se.Code, se.EnhancedCode, se.Message, code, enh)
	}
}

// auditEvents reads the audit log: event names in order, for one id ("" = all).
func auditEvents(t *testing.T, path, id string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if id == "" || rec["id"] == id {
			out = append(out, rec)
		}
	}
	return out
}

func eventNames(recs []map[string]any) []string {
	var names []string
	for _, r := range recs {
		names = append(names, r["event"].(string))
	}
	return names
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const richMessage = "From: =?UTF-8?B?5bGx55Sw?= <yamada@example.jp>\r\n" +
	"To: staff@city.example.lg.jp\r\n" +
	"Subject: =?ISO-2022-JP?B?GyRCMnE1RBsoQg==?=\r\n" +
	"Message-ID: <rich-1@example.jp>\r\n" +
	"X-Spam-Score: 0\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"MIX\"\r\n" +
	"\r\n" +
	"--MIX\r\n" +
	"Content-Type: multipart/alternative; boundary=\"ALT\"\r\n" +
	"\r\n" +
	"--ALT\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Agenda attached.\r\n" +
	"--ALT\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"\r\n" +
	"<p>Agenda <b>attached</b>.</p><script>evil()</script>\r\n" +
	"--ALT--\r\n" +
	"--MIX\r\n" +
	"Content-Type: application/pdf; name=agenda.pdf\r\n" +
	"Content-Disposition: attachment; filename=agenda.pdf\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"JVBERi0xLjQKJVNFQ1JFVC1QQVlMT0FECg==\r\n" +
	"--MIX--\r\n"

// TestEndToEnd: go-smtp client → gateway → recording next hop. The relayed
// message is one text part, the original is kept, and the audit log tells
// the whole story.
func TestEndToEnd(t *testing.T) {
	hop := startNextHop(t)
	tg := startGateway(t, func(c *Config) { c.Deliver.Relay = hop.addr })

	reply, err := send(tg.addr, "yamada@example.jp", []string{"staff@city.example.lg.jp"}, richMessage)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	_, id, ok := strings.Cut(reply, "queued as ")
	if !ok || id == "" {
		t.Fatalf("250 reply %q does not name the gateway id", reply)
	}
	waitFor(t, "the next hop to receive the message", func() bool { return len(hop.messages()) == 1 })
	got := hop.messages()[0]
	if got.from != "yamada@example.jp" || strings.Join(got.rcpts, ",") != "staff@city.example.lg.jp" {
		t.Errorf("envelope = %q → %v", got.from, got.rcpts)
	}
	m, err := mail.ReadMessage(bytes.NewReader(got.data))
	if err != nil {
		t.Fatalf("relayed message does not parse: %v", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		t.Errorf("relayed Content-Type = %q, want text/plain; charset=UTF-8", m.Header.Get("Content-Type"))
	}
	for _, bad := range []string{"text/html", "application/pdf", "<script", "JVBERi", "X-Spam-Score", "multipart"} {
		if bytes.Contains(got.data, []byte(bad)) {
			t.Errorf("relayed message contains %q", bad)
		}
	}
	if m.Header.Get("X-Mugai-Id") != id || !strings.Contains(m.Header.Get("Received"), id) {
		t.Errorf("X-Mugai-Id %q / Received %q do not carry id %s", m.Header.Get("X-Mugai-Id"), m.Header.Get("Received"), id)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if subject != "会議" {
		t.Errorf("Subject = %q, want 会議", subject)
	}

	// The original is kept byte for byte.
	day := filepath.Join(tg.cfg.Originals, time.Now().UTC().Format("2006-01-02"))
	orig, err := os.ReadFile(filepath.Join(day, id+".eml"))
	if err != nil {
		t.Fatalf("original not kept: %v", err)
	}
	if string(orig) != richMessage {
		t.Errorf("kept original differs from what was sent")
	}

	waitFor(t, "the delivered record", func() bool {
		names := eventNames(auditEvents(t, tg.cfg.Audit, id))
		return len(names) > 0 && names[len(names)-1] == "delivered"
	})
	recs := auditEvents(t, tg.cfg.Audit, id)
	want := "received,decision,decision,decision,queued,delivered"
	if got := strings.Join(eventNames(recs), ","); got != want {
		t.Fatalf("audit events = %s, want %s", got, want)
	}
	actions := map[string]string{}
	for _, r := range recs[1:4] {
		actions[r["part"].(string)] = r["action"].(string) + "/" + r["reason"].(string) + "/" + r["rule"].(string)
		if r["clause"] == "" || r["sha256"] == "" || r["policy"] != tg.g.Policy().SHA256 {
			t.Errorf("decision record incomplete: %v", r)
		}
	}
	wantActions := map[string]string{
		"1.1": "textify/body-text/body-text",
		"1.2": "strip/alternative-unused/alternative-drop",
		// Built without sanitizers here: the rule's flatten has nobody to do
		// it, so the PDF is removed (fail closed).
		"2": "strip/no-sanitizer/pdf-flatten",
	}
	if fmt.Sprint(actions) != fmt.Sprint(wantActions) {
		t.Errorf("decisions = %v, want %v", actions, wantActions)
	}
	if r := recs[0]; r["from"] != "yamada@example.jp" || r["message_id"] != "<rich-1@example.jp>" || r["client"] != "127.0.0.1" {
		t.Errorf("received record = %v", r)
	}
	if r := recs[len(recs)-1]; r["rcpt"] != "staff@city.example.lg.jp" || r["relay"] != "relay "+hop.addr || !strings.HasPrefix(r["reply"].(string), "250") {
		t.Errorf("delivered record = %v", r)
	}
	// Delivered means gone from the spool.
	waitFor(t, "the spool to empty", func() bool {
		m, _ := filepath.Glob(filepath.Join(tg.cfg.Spool, "*.msg"))
		return len(m) == 0
	})
}

// TestAcceptPolicy covers the SMTP-time refusals, each with its code.
func TestAcceptPolicy(t *testing.T) {
	t.Run("client outside accept.networks", func(t *testing.T) {
		tg := startGateway(t, func(c *Config) { c.Accept.Networks = []string{"192.0.2.0/24"} })
		_, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: x\r\n\r\nx\r\n")
		wantSMTPErr(t, err, 550, smtp.EnhancedCode{5, 7, 1})
	})
	t.Run("recipient outside accept.domains", func(t *testing.T) {
		tg := startGateway(t, func(c *Config) { c.Accept.Domains = []string{"city.example.lg.jp"} })
		_, err := send(tg.addr, "a@example.jp", []string{"b@elsewhere.example"}, "Subject: x\r\n\r\nx\r\n")
		wantSMTPErr(t, err, 550, smtp.EnhancedCode{5, 7, 1})
		if _, err := send(tg.addr, "a@example.jp", []string{"b@CITY.example.lg.jp"}, "Subject: x\r\n\r\nx\r\n"); err != nil {
			t.Errorf("accepted domain (other case) refused: %v", err)
		}
		if got := strings.Join(eventNames(auditEvents(t, tg.cfg.Audit, ""))[:2], ","); got != "policy,rejected" {
			t.Errorf("first audit events = %s, want policy (at start), rejected", got)
		}
	})
	t.Run("over size", func(t *testing.T) {
		tg := startGateway(t, func(c *Config) { c.Accept.MaxMessageBytes = 4096 })
		_, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: x\r\n\r\n"+strings.Repeat("0123456789abcdef\r\n", 400))
		wantSMTPErr(t, err, 552, smtp.EnhancedCode{5, 3, 4})
		if n := countQueued(t, tg); n != 0 {
			t.Errorf("%d messages queued after an over-size refusal", n)
		}
	})
	t.Run("too many recipients", func(t *testing.T) {
		tg := startGateway(t, func(c *Config) { c.Accept.MaxRecipients = 2 })
		lines := rawDialogue(t, tg.addr, "EHLO t\r\nMAIL FROM:<a@example.jp>\r\n"+
			"RCPT TO:<b@city.example.lg.jp>\r\nRCPT TO:<c@city.example.lg.jp>\r\nRCPT TO:<d@city.example.lg.jp>\r\nQUIT\r\n")
		all := strings.Join(lines, "\n")
		if strings.Count(all, "gets this") != 2 {
			t.Errorf("the first two recipients were not accepted:\n%s", all)
		}
		if !strings.Contains(all, "452 4.5.3") {
			t.Errorf("no 452 4.5.3 for the third recipient:\n%s", all)
		}
	})
	t.Run("line too long", func(t *testing.T) {
		tg := startGateway(t, func(c *Config) { c.Accept.MaxLineLength = 1000 })
		_, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: x\r\n\r\n"+strings.Repeat("x", 1200)+"\r\n")
		wantSMTPErr(t, err, 500, smtp.EnhancedCode{5, 5, 2})
		if n := countQueued(t, tg); n != 0 {
			t.Errorf("%d messages queued after a line-length refusal", n)
		}
	})
	t.Run("header block over the per-part limit", func(t *testing.T) {
		tg := startGateway(t, func(c *Config) { c.Limits.HeaderBytes = 2048 })
		msg := "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain\r\n\r\nkept body\r\n" +
			"--b\r\nContent-Type: text/plain\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("p", 60)+"\r\n", 50) + "\r\nHIDDEN-PART-TEXT\r\n--b--\r\n"
		reply, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, msg)
		if err != nil {
			t.Fatal(err)
		}
		_, id, _ := strings.Cut(reply, "queued as ")
		var reasons []string
		for _, r := range auditEvents(t, tg.cfg.Audit, id) {
			if r["event"] == "decision" {
				reasons = append(reasons, fmt.Sprint(r["reason"]))
			}
		}
		if !slices.Contains(reasons, "header-limit") {
			t.Errorf("decisions %v name no header-limit", reasons)
		}
	})
	t.Run("address syntax", func(t *testing.T) {
		tg := startGateway(t, nil)
		for _, rcpt := range []string{"a%b@city.example.lg.jp", "b@city.example.lg.jp@other.example", "a!b@city.example.lg.jp",
			`"a@b"@city.example.lg.jp`, "a..b@city.example.lg.jp", "b@city.example.lg.jp.", `"a> ORCPT=rfc822;x"@city.example.lg.jp`} {
			_, err := send(tg.addr, "a@example.jp", []string{rcpt}, "Subject: x\r\n\r\nx\r\n")
			wantSMTPErr(t, err, 501, smtp.EnhancedCode{5, 1, 3})
		}
	})
	t.Run("source route is ignored, domain still checked", func(t *testing.T) {
		// go-smtp drops the route (RFC 5321 4.1.1.3); the mailbox decides.
		tg := startGateway(t, func(c *Config) { c.Accept.Domains = []string{"city.example.lg.jp"} })
		_, err := send(tg.addr, "a@example.jp", []string{"@city.example.lg.jp:b@elsewhere.example"}, "Subject: x\r\n\r\nx\r\n")
		wantSMTPErr(t, err, 550, smtp.EnhancedCode{5, 7, 1})
	})
}

func countQueued(t *testing.T, tg *testGateway) int {
	n := 0
	for _, name := range eventNames(auditEvents(t, tg.cfg.Audit, "")) {
		if name == "queued" {
			n++
		}
	}
	return n
}

// TestMaildirDefault: with no relay the message lands in the recipient's
// Maildir, fsynced into new/.
func TestMaildirDefault(t *testing.T) {
	tg := startGateway(t, nil)
	if _, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp", "c@city.example.lg.jp"}, "Subject: hello\r\n\r\nhello maildir\r\n"); err != nil {
		t.Fatal(err)
	}
	for _, rcpt := range []string{"b@city.example.lg.jp", "c@city.example.lg.jp"} {
		dir := filepath.Join(tg.cfg.Deliver.Maildir, courier.FolderName(rcpt), "new")
		waitFor(t, "delivery into "+dir, func() bool {
			m, _ := filepath.Glob(filepath.Join(dir, "*"))
			return len(m) == 1
		})
		m, _ := filepath.Glob(filepath.Join(dir, "*"))
		b, _ := os.ReadFile(m[0])
		if !strings.Contains(bodyText(t, b), "hello maildir") || !bytes.HasPrefix(b, []byte("Return-Path: <a@example.jp>\r\nDelivered-To: "+rcpt+"\r\n")) {
			t.Errorf("maildir message:\n%s", b)
		}
	}
}

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

// rawDialogue writes a whole client side at once (pipelined, as an
// attacker would) and returns every reply line until the server closes.
func rawDialogue(t *testing.T, addr string, script string) []string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(script)); err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// bodyText decodes the single text part of a rebuilt message.
func bodyText(t *testing.T, msg []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("message does not parse: %v", err)
	}
	raw, _ := io.ReadAll(m.Body)
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "base64") {
		raw, err = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(raw)))
		if err != nil {
			t.Fatalf("base64 body: %v", err)
		}
	}
	return string(raw)
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
