package gateway

import (
	"bytes"
	"fmt"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mugai/gateway/courier"
)

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
		if strings.Count(all, "250 2.0.0 Recipient ok") != 2 {
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
