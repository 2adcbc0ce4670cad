package gateway

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// TestDSN, end to end: with deliver.bounce_relay set, a recipient the next
// hop refuses gets a DSN that leaves by SMTP through the bounce relay, from
// <> to the sender, with the rebuilt header and without the body, and the
// bounced message leaves the spool. (What a DSN says, and when none is
// sent, is tested in gateway/delivery.)
func TestDSN(t *testing.T) {
	hop := startNextHop(t)
	hop.rcptReply = func(rcpt string) error {
		if strings.HasPrefix(rcpt, "nobody@") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}
	bounces := startNextHop(t)
	tg := startGateway(t, func(c *Config) { c.Deliver.Relay, c.Deliver.BounceRelay = hop.addr, bounces.addr })

	msg := "From: sender@example.jp\r\nSubject: =?UTF-8?B?6KaL56mN?=\r\n\r\nSECRET-BODY-TEXT\r\n"
	if _, err := send(tg.addr, "sender@example.jp", []string{"ok@city.example.lg.jp", "nobody@city.example.lg.jp"}, msg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the DSN", func() bool { return len(bounces.messages()) == 1 })
	dsn := bounces.messages()[0]
	if dsn.from != "" || strings.Join(dsn.rcpts, ",") != "sender@example.jp" {
		t.Errorf("DSN envelope %q → %v", dsn.from, dsn.rcpts)
	}
	m, err := mail.ReadMessage(bytes.NewReader(dsn.data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if mt != "multipart/report" || params["report-type"] != "delivery-status" || m.Header.Get("Auto-Submitted") != "auto-replied" {
		t.Fatalf("DSN header: %v", m.Header)
	}
	parts := map[string]string{}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p)
		parts[p.Header.Get("Content-Type")] = string(b)
	}
	status := parts["message/delivery-status"]
	if !strings.Contains(status, "Final-Recipient: rfc822; nobody@city.example.lg.jp") || !strings.Contains(status, "Status: 5.1.1") ||
		strings.Contains(status, "ok@city.example.lg.jp") {
		t.Errorf("delivery-status:\n%s", status)
	}
	if h := parts["text/rfc822-headers"]; !strings.Contains(h, "Subject: =?UTF-8?B?6KaL56mN?=") || !strings.Contains(h, "X-Mugai-Id:") {
		t.Errorf("rfc822-headers:\n%s", h)
	}
	if bytes.Contains(dsn.data, []byte("SECRET-BODY-TEXT")) {
		t.Error("the DSN carries the message body")
	}
	// The bounced message left the spool (the DSN is its record now).
	waitFor(t, "the spool to empty", func() bool {
		m, _ := filepath.Glob(filepath.Join(tg.cfg.Spool, "*.msg"))
		f, _ := filepath.Glob(filepath.Join(tg.cfg.Spool, "failed", "*.msg"))
		return len(m) == 0 && len(f) == 0
	})
}
