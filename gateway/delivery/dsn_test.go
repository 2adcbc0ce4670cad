package delivery

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mugai/gateway/courier"
)

// parsedDSN is a DSN read with the standard library only (net/mail,
// mime/multipart, net/textproto): its header, the parts by type, and the
// per-recipient fields of message/delivery-status by Final-Recipient.
type parsedDSN struct {
	raw     []byte
	header  mail.Header
	human   string
	headers string // the text/rfc822-headers part
	fields  map[string]textproto.MIMEHeader
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
	d := parsedDSN{raw: data, header: m.Header, fields: map[string]textproto.MIMEHeader{}}
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
		case "text/rfc822-headers":
			d.headers = string(b)
		case "message/delivery-status":
			d.readStatus(b)
		}
	}
	if len(d.fields) == 0 {
		t.Fatalf("no recipient in the delivery-status part:\n%s", data)
	}
	return d
}

// readStatus reads message/delivery-status (RFC 3464 2.1): a per-message
// block, then one block per recipient, separated by blank lines.
func (d *parsedDSN) readStatus(b []byte) {
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(b)))
	for i := 0; ; i++ {
		h, err := r.ReadMIMEHeader()
		if len(h) > 0 && i > 0 {
			d.fields[strings.TrimPrefix(h.Get("Final-Recipient"), "rfc822; ")] = h
		}
		if err != nil {
			return
		}
	}
}

// spoolEmpty reports whether neither the spool nor failed/ holds a message.
func (tr *testRunner) spoolEmpty() bool {
	m, _ := filepath.Glob(filepath.Join(tr.dir, "spool", "*.msg"))
	f, _ := filepath.Glob(filepath.Join(tr.dir, "spool", "failed", "*.msg"))
	return len(m) == 0 && len(f) == 0
}

// inFailed reports whether id is kept in failed/.
func (tr *testRunner) inFailed(id string) bool {
	_, err := os.Stat(filepath.Join(tr.dir, "spool", "failed", id+".json"))
	return err == nil
}

// TestDSN: one recipient refused for good, one delivered: the DSN goes by
// the bounce route from <> to the sender, is a multipart/report naming
// only the refused recipient, carries the rebuilt message's header and
// not its body, and the bounced message leaves the spool.
func TestDSN(t *testing.T) {
	hop := &fakeCourier{name: "relay hop", reply: func(rcpt string, _ int) error {
		if strings.HasPrefix(rcpt, "nobody@") {
			return refuse(550, "5.1.1", "no such user")
		}
		return nil
	}}
	bounces := &fakeCourier{name: "relay bounces"}
	tr := newTestRunner(t, "", testConfig(), hop, bounces, slog.LevelDebug)
	tr.start(t)
	id := tr.spoolMessage(t, "sender@example.jp", "ok@city.example.lg.jp", "nobody@city.example.lg.jp")
	waitFor(t, "the DSN", func() bool { return len(bounces.messages()) == 1 })
	dsn := bounces.messages()[0]
	if dsn.from != "" || strings.Join(dsn.rcpts, ",") != "sender@example.jp" {
		t.Errorf("DSN envelope %q → %v", dsn.from, dsn.rcpts)
	}
	d := parseDSN(t, dsn.data)
	if d.header.Get("Auto-Submitted") != "auto-replied" || !strings.Contains(d.header.Get("From"), "<MAILER-DAEMON@mugai.test>") ||
		d.header.Get("To") != "<sender@example.jp>" {
		t.Errorf("DSN header: %v", d.header)
	}
	if subject, _ := new(mime.WordDecoder).DecodeHeader(d.header.Get("Subject")); subject != "配送できませんでした / Undelivered mail" {
		t.Errorf("Subject %q", subject)
	}
	h := d.fields["nobody@city.example.lg.jp"]
	if h == nil || h.Get("Status") != "5.1.1" || d.fields["ok@city.example.lg.jp"] != nil {
		t.Errorf("delivery-status: %v", d.fields)
	}
	if !strings.Contains(d.headers, "Subject: =?UTF-8?B?6KaL56mN?=") || !strings.Contains(d.headers, "X-Mugai-Id: "+id) {
		t.Errorf("rfc822-headers:\n%s", d.headers)
	}
	if !strings.Contains(d.human, "受付番号 / gateway id: "+id) || bytes.Contains(dsn.data, []byte("SECRET-BODY-TEXT")) {
		t.Errorf("the DSN's text, or it carries the body:\n%s", dsn.data)
	}
	waitFor(t, "the spool to empty", func() bool { return len(bounces.messages()) == 1 && tr.spoolEmpty() })
}

// TestDSNDiagnostics: a next hop refuses recipients with replies that
// name internal hosts and carry misplaced or disagreeing enhanced codes,
// through the SMTP courier. The DSN keeps the reply code and a valid
// enhanced code only, with generic text; the audit log keeps the full
// reply.
func TestDSNDiagnostics(t *testing.T) {
	const secret = "lgwan-mx1.city.internal [10.20.30.40]"
	hop := startRecorder(t, "")
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
	bounces := &fakeCourier{name: "relay bounces"}
	c := &courier.SMTP{Addr: hop.addr, Hostname: "mugai.test", Timeout: 10 * time.Second}
	tr := newTestRunner(t, "", testConfig(), c, bounces, slog.LevelDebug)
	tr.start(t)
	id := tr.spoolMessage(t, "sender@example.jp", "ok@city.example.lg.jp", "leak@city.example.lg.jp",
		"misplaced@city.example.lg.jp", "class@city.example.lg.jp", "full@city.example.lg.jp")
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
	for _, r := range auditEvents(t, filepath.Join(tr.dir, "audit.jsonl"), id) {
		if r["event"] == "bounced" && r["rcpt"] == "leak@city.example.lg.jp" && !strings.Contains(r["reply"].(string), secret) {
			t.Errorf("the bounced record lost the next hop's reply: %v", r)
		}
	}
}

// TestDSNExpired: a recipient deferred until its lifetime runs out gets
// Status 4.4.7 and a local (non-SMTP) Diagnostic-Code, without the next
// hop's last words; its bounced record keeps them.
func TestDSNExpired(t *testing.T) {
	hop := &fakeCourier{name: "relay hop", reply: func(string, int) error { return refuse(451, "4.3.0", "queue full on 10.9.9.9") }}
	bounces := &fakeCourier{name: "relay bounces"}
	cfg := testConfig()
	cfg.Lifetime = 300 * time.Millisecond
	tr := newTestRunner(t, "", cfg, hop, bounces, slog.LevelDebug)
	tr.start(t)
	id := tr.spoolMessage(t, "sender@example.jp", "late@city.example.lg.jp")
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
	want := "expired after 300ms in the queue; last reply: 451 4.3.0 queue full on 10.9.9.9"
	var got []string
	for _, r := range auditEvents(t, filepath.Join(tr.dir, "audit.jsonl"), id) {
		if r["event"] == "bounced" {
			got = append(got, r["reply"].(string))
		}
	}
	if len(got) != 1 || got[0] != want {
		t.Errorf("bounced records %q, want one %q", got, want)
	}
}

// TestNoDSN: what is never answered with a DSN is kept in failed/: mail
// from the null sender, a DSN itself, mail the gateway originated (from
// its release sender), and everything when no bounce route is configured.
func TestNoDSN(t *testing.T) {
	refused := func(string, int) error { return refuse(550, "5.1.1", "no") }
	for _, tc := range []struct {
		name, from string
		noRoute    bool
	}{
		{name: "null sender", from: ""},
		{name: "release sender", from: "postmaster@mugai.test"},
		{name: "release sender, other case", from: "Postmaster@MUGAI.test"},
		{name: "no bounce route", from: "sender@example.jp", noRoute: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bounces := &fakeCourier{name: "relay bounces"}
			var route courier.Courier = bounces
			if tc.noRoute {
				route = nil
			}
			tr := newTestRunner(t, "", testConfig(), &fakeCourier{name: "relay hop", reply: refused}, route, slog.LevelDebug)
			tr.start(t)
			id := tr.spoolMessage(t, tc.from, "x@city.example.lg.jp")
			waitFor(t, "failed/", func() bool { return tr.inFailed(id) })
			time.Sleep(200 * time.Millisecond) // a DSN would be on its way by now
			if n := len(bounces.messages()); n != 0 {
				t.Errorf("%d DSNs sent", n)
			}
		})
	}
}

// TestDSNAuditedInItsCommit: a DSN's records are part of the commit of its
// spool entry. Sent, it has its received and queued records; while the
// audit log refuses records, no DSN is spooled or sent, and the bounced
// message stays in the spool (nothing is lost).
func TestDSNAuditedInItsCommit(t *testing.T) {
	var refuseAll atomic.Bool
	hop := &fakeCourier{name: "relay hop", reply: func(rcpt string, _ int) error {
		switch {
		case strings.HasPrefix(rcpt, "nobody@"), refuseAll.Load():
			return refuse(550, "5.1.1", "no such user")
		}
		return refuse(450, "4.2.0", "try later")
	}}
	bounces := &fakeCourier{name: "relay bounces"}
	tr := newTestRunner(t, "", testConfig(), hop, bounces, slog.LevelDebug)
	tr.start(t)
	audit := filepath.Join(tr.dir, "audit.jsonl")
	tr.spoolMessage(t, "sender@example.jp", "nobody@city.example.lg.jp")
	waitFor(t, "the DSN", func() bool { return len(bounces.messages()) == 1 })
	dsnID := string(mugaiIDOf(t, bounces.messages()[0].data))
	events := map[string]bool{}
	for _, ev := range auditEvents(t, audit, dsnID) {
		events[ev["event"].(string)] = true
	}
	if !events["received"] || !events["queued"] || !events["delivered"] {
		t.Fatalf("DSN %q records: %v", dsnID, events)
	}

	// A message waiting in the spool when the log breaks: its DSN cannot
	// be committed, so none goes out, and the message is kept.
	id := tr.spoolMessage(t, "sender@example.jp", "later@city.example.lg.jp")
	waitFor(t, "the first deferral", func() bool {
		for _, ev := range auditEvents(t, audit, id) {
			if ev["event"] == "deferred" {
				return true
			}
		}
		return false
	})
	tr.audit.Fail(errors.New("injected: the audit file failed to sync"))
	refuseAll.Store(true)
	tr.Rescan(true) // a flush: the message is tried now and refused for good
	time.Sleep(500 * time.Millisecond)
	if n := len(bounces.messages()); n != 1 {
		t.Errorf("%d DSNs sent; want only the first", n)
	}
	if !tr.spool.Has(id) {
		t.Error("the bounced message left the spool without its DSN")
	}
}

// mugaiIDOf reads the gateway id of a DSN from its Message-ID.
func mugaiIDOf(t *testing.T, dsn []byte) string {
	m, err := mail.ReadMessage(bytes.NewReader(dsn))
	if err != nil {
		t.Fatal(err)
	}
	id, _, _ := strings.Cut(strings.Trim(m.Header.Get("Message-ID"), "<>"), "@")
	return id
}

// TestDeletedInFlightNoDSN: an admin deletes a message while its delivery
// attempt is in flight; the attempt then fails permanently. Deleted means
// no DSN, and nothing comes back into the spool or failed/.
func TestDeletedInFlightNoDSN(t *testing.T) {
	inAttempt, deleted := make(chan struct{}), make(chan struct{})
	hop := &fakeCourier{name: "relay hop", reply: func(string, int) error {
		close(inAttempt)
		<-deleted
		return refuse(554, "5.6.0", "content refused")
	}}
	bounces := &fakeCourier{name: "relay bounces"}
	tr := newTestRunner(t, "", testConfig(), hop, bounces, slog.LevelDebug)
	tr.start(t)
	id := tr.spoolMessage(t, "sender@example.jp", "b@city.example.lg.jp")
	<-inAttempt
	if err := tr.spool.Delete(id); err != nil { // as mugai queue delete does
		t.Fatal(err)
	}
	close(deleted)
	waitFor(t, "the attempt's end", func() bool {
		for _, r := range auditEvents(t, filepath.Join(tr.dir, "audit.jsonl"), id) {
			if r["event"] == "bounced" {
				return true
			}
		}
		return false
	})
	waitFor(t, "an empty queue", func() bool { return tr.Queued() == 0 })
	if n := len(bounces.messages()); n != 0 {
		t.Errorf("%d DSNs for a deleted message", n)
	}
	if !tr.spoolEmpty() {
		t.Error("a deleted message came back")
	}
}
