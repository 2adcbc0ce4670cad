package gateway

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// parsedDSN is a DSN read with the standard library only (net/mail,
// mime/multipart, net/textproto): the parts by type, and the per-recipient
// fields of message/delivery-status by Final-Recipient.
type parsedDSN struct {
	raw    []byte
	human  string
	fields map[string]textproto.MIMEHeader
}

func parseDSN(t *testing.T, data []byte) parsedDSN {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("DSN Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	d := parsedDSN{raw: data, fields: map[string]textproto.MIMEHeader{}}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			r = base64.NewDecoder(base64.StdEncoding, p)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			d.human = string(b)
		case "message/delivery-status":
			// RFC 3464 2.1: a per-message block, then one block per
			// recipient, separated by blank lines.
			r := textproto.NewReader(bufio.NewReader(bytes.NewReader(b)))
			for i := 0; ; i++ {
				h, err := r.ReadMIMEHeader()
				if len(h) > 0 && i > 0 {
					fr := strings.TrimPrefix(h.Get("Final-Recipient"), "rfc822; ")
					d.fields[fr] = h
				}
				if err != nil {
					break
				}
			}
		}
	}
	if len(d.fields) == 0 {
		t.Fatalf("no recipient in the delivery-status part:\n%s", data)
	}
	return d
}

// TestDSNDiagnostics: a fault-injecting next hop refuses recipients with
// replies that name internal hosts and carry misplaced or disagreeing
// enhanced codes. The DSN keeps the reply code and a valid enhanced code
// only, with generic text; the audit log keeps the full reply.
func TestDSNDiagnostics(t *testing.T) {
	const secret = "lgwan-mx1.city.internal [10.20.30.40]"
	hop := startNextHop(t)
	hop.rcptReply = func(rcpt string) error {
		switch {
		case strings.HasPrefix(rcpt, "leak@"):
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + rcpt + ">: user unknown at " + secret}
		case strings.HasPrefix(rcpt, "misplaced@"):
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.NoEnhancedCode, Message: "refused by host 2.0.0.1 (" + secret + ")"}
		case strings.HasPrefix(rcpt, "class@"):
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "odd " + secret}
		case strings.HasPrefix(rcpt, "full@"):
			return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 2, 2}, Message: "mailbox full on " + secret}
		}
		return nil
	}
	bounces := startNextHop(t)
	tg := startGateway(t, func(c *Config) { c.Deliver.Relay, c.Deliver.BounceRelay = hop.addr, bounces.addr })
	rcpts := []string{"ok@city.example.lg.jp", "leak@city.example.lg.jp", "misplaced@city.example.lg.jp", "class@city.example.lg.jp", "full@city.example.lg.jp"}
	reply, err := send(tg.addr, "sender@example.jp", rcpts, "From: sender@example.jp\r\nSubject: x\r\n\r\nbody\r\n")
	if err != nil {
		t.Fatal(err)
	}
	_, id, _ := strings.Cut(reply, "queued as ")
	waitFor(t, "the DSN", func() bool { return len(bounces.messages()) == 1 })
	d := parseDSN(t, bounces.messages()[0].data)
	for _, leak := range []string{"lgwan-mx1", "10.20.30.40", "2.0.0.1", "user unknown"} {
		if bytes.Contains(d.raw, []byte(leak)) || strings.Contains(d.human, leak) {
			t.Errorf("the DSN repeats the next hop's words (%q)", leak)
		}
	}
	cases := []struct {
		rcpt, status, diag string
	}{
		// A valid enhanced code right after the reply code is kept.
		{"leak@city.example.lg.jp", "5.1.1", "smtp; 550 5.1.1 the recipient's mail system did not accept the address"},
		{"full@city.example.lg.jp", "5.2.2", "smtp; 552 5.2.2 the recipient's mailbox cannot take the message"},
		// An x.y.z elsewhere in the text is text: derived from the class.
		{"misplaced@city.example.lg.jp", "5.0.0", "smtp; 550 the recipient's mail system refused the message"},
		// An enhanced code that disagrees with the reply's class is not one.
		{"class@city.example.lg.jp", "5.0.0", "smtp; 550 the recipient's mail system refused the message"},
	}
	for _, tc := range cases {
		h := d.fields[tc.rcpt]
		if h == nil {
			t.Errorf("%s: not in the DSN", tc.rcpt)
			continue
		}
		if h.Get("Status") != tc.status || h.Get("Diagnostic-Code") != tc.diag || h.Get("Action") != "failed" {
			t.Errorf("%s: Status %q Diagnostic-Code %q Action %q; want %q %q failed", tc.rcpt, h.Get("Status"), h.Get("Diagnostic-Code"), h.Get("Action"), tc.status, tc.diag)
		}
		if !strings.Contains(d.human, "<"+tc.rcpt+">: "+strings.TrimPrefix(tc.diag, "smtp; ")) {
			t.Errorf("%s: human-readable part:\n%s", tc.rcpt, d.human)
		}
	}
	if d.fields["ok@city.example.lg.jp"] != nil {
		t.Error("a delivered recipient is in the DSN")
	}
	// The full reply is in the audit record of the bounce.
	for _, r := range auditEvents(t, tg.cfg.Audit, id) {
		if r["event"] == "bounced" && r["rcpt"] == "leak@city.example.lg.jp" && !strings.Contains(r["reply"].(string), secret) {
			t.Errorf("the bounced record lost the next hop's reply: %v", r)
		}
	}
}

// TestDSNExpired: a recipient deferred until its lifetime runs out gets
// Status 4.4.7 and a local (non-SMTP) Diagnostic-Code, without the next
// hop's last words.
func TestDSNExpired(t *testing.T) {
	hop := startNextHop(t)
	hop.dataReply = func(int) error {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "queue full on 10.9.9.9"}
	}
	bounces := startNextHop(t)
	tg := startGateway(t, func(c *Config) {
		c.Deliver.Relay, c.Deliver.BounceRelay = hop.addr, bounces.addr
		c.Deliver.Lifetime = Duration(300 * time.Millisecond)
	})
	if _, err := send(tg.addr, "sender@example.jp", []string{"late@city.example.lg.jp"}, "Subject: x\r\n\r\nbody\r\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the DSN", func() bool { return len(bounces.messages()) == 1 })
	d := parseDSN(t, bounces.messages()[0].data)
	h := d.fields["late@city.example.lg.jp"]
	if h == nil || h.Get("Status") != "4.4.7" || h.Get("Action") != "failed" ||
		h.Get("Diagnostic-Code") != "X-Mugai; delivery time expired after 300ms" {
		t.Errorf("expired recipient: %v", h)
	}
	if bytes.Contains(d.raw, []byte("10.9.9.9")) || strings.Contains(d.human, "10.9.9.9") {
		t.Error("the DSN repeats the next hop's last reply")
	}
}
