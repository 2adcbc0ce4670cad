//go:build interop

package interop

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/japanese"

	"mugai/gateway/courier"
	"mugai/gateway/load"
)

// world is the mail flow of a deployment, all on 127.0.0.1:
// swaks → Internet-side Postfix → mugai → LGWAN-side Postfix → Maildir.
type world struct {
	dir             string
	internet, lgwan *Postfix
	mugai           *mugaiProc
	audit, maildir  string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldWith(t, nil, "")
}

// newWorldWith is newWorld with the LGWAN Postfix's main.cf settings
// changed by lgwanMain (an empty value removes the setting) and
// mugaiAccept added to mugai's accept section (indented lines).
func newWorldWith(t *testing.T, lgwanMain map[string]string, mugaiAccept string) *world {
	t.Helper()
	if err := Require("swaks"); err != nil {
		t.Fatal(err)
	}
	dir := workDir(t, "mugai-interop-")
	ports, err := FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{dir: dir}

	// The LGWAN side delivers every address of city.example into one
	// Maildir (virtual(8), as the unprivileged nobody).
	w.maildir = filepath.Join(dir, "lgwan", "mail", "staff")
	if err := os.MkdirAll(filepath.Dir(w.maildir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Dir(w.maildir), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	w.lgwan = &Postfix{Dir: filepath.Join(dir, "lgwan"), Hostname: "lgwan.test", Port: ports[2], Main: map[string]string{
		"virtual_mailbox_domains": "city.example",
		"virtual_mailbox_base":    filepath.Dir(w.maildir),
		"virtual_mailbox_maps":    "static:staff/",
		"virtual_uid_maps":        "static:65534",
		"virtual_gid_maps":        "static:65534",
		"virtual_minimum_uid":     "100",
		// One mailbox that does not exist: its 550 makes mugai bounce.
		"smtpd_recipient_restrictions": "check_recipient_access inline:{ { nobody@city.example = 550 5.1.1 no such mailbox } }, permit_mynetworks, reject",
	}}
	for k, v := range lgwanMain {
		if v == "" {
			delete(w.lgwan.Main, k)
		} else {
			w.lgwan.Main[k] = v
		}
	}
	// The Internet side relays city.example to mugai, as in
	// contrib/postfix/transport.
	w.internet = &Postfix{Dir: filepath.Join(dir, "internet"), Hostname: "internet.test", Port: ports[0], Main: map[string]string{
		"relay_domains": "city.example",
		// Mail for the senders' domain (mugai's DSNs) is discarded here,
		// with a log line to check: the test has no Internet to send to.
		"transport_maps": fmt.Sprintf("inline:{city.example=smtp:[127.0.0.1]:%d, example.jp=discard:}", ports[1]),
	}}
	if err := w.lgwan.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.lgwan.Stop() })
	w.mugai = startMugai(t, dir, ports[1], fmt.Sprintf(`deliver:
  relay: "127.0.0.1:%d"
  bounce_relay: "127.0.0.1:%d"
  tls: none
  retry_min: 1s
  retry_max: 2s
`, ports[2], ports[0]), mugaiAccept)
	w.audit = w.mugai.audit
	if err := w.internet.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.internet.Stop() })
	return w
}

// send hands one message to the Internet-side Postfix with swaks.
func (w *world) send(t *testing.T, name string, msg []byte, extra ...string) {
	t.Helper()
	w.sendTo(t, "staff@city.example", name, msg, extra...)
}

func (w *world) sendTo(t *testing.T, rcpt, name string, msg []byte, extra ...string) {
	t.Helper()
	args := []string{"--server", "127.0.0.1", "--port", strconv.Itoa(w.internet.Port), "--helo", "client.example",
		"--from", "sender@example.jp", "--to", rcpt}
	if msg != nil {
		f := filepath.Join(w.dir, name+".eml")
		if err := os.WriteFile(f, msg, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--data", "@"+f)
	}
	out, err := exec.Command("swaks", append(args, extra...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("swaks %s: %v\n%s", name, err, out)
	}
}

// delivered waits for the message with this Message-ID in the Maildir.
func (w *world) delivered(t *testing.T, msgID string, limit time.Duration) []byte {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		files, _ := filepath.Glob(filepath.Join(w.maildir, "new", "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			e, err := message.Read(bytes.NewReader(b))
			if err == nil && e.Header.Get("Message-Id") == msgID {
				return b
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not in the Maildir after %v\nmugai audit:\n%s\nlgwan log:\n%s\ninternet log:\n%s",
				msgID, limit, w.auditTail(10), w.lgwan.Log(10), w.internet.Log(10))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type auditRecord struct {
	Event     string `json:"event"`
	ID        string `json:"id"`
	MessageID string `json:"message_id"`
	Reply     string `json:"reply"`
}

func (w *world) records(t *testing.T) []auditRecord {
	t.Helper()
	f, err := os.Open(w.audit)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []auditRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r auditRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// events returns the gateway id of the message and the delivery events
// recorded for it so far.
func (w *world) events(t *testing.T, msgID string) (id string, evs []auditRecord) {
	for _, r := range w.records(t) {
		if r.Event == "received" && r.MessageID == msgID {
			id = r.ID
		}
		if id != "" && r.ID == id && (r.Event == "deferred" || r.Event == "delivered" || r.Event == "bounced") {
			evs = append(evs, r)
		}
	}
	return id, evs
}

func (w *world) waitEvent(t *testing.T, msgID, event string, limit time.Duration) auditRecord {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		_, evs := w.events(t, msgID)
		for _, e := range evs {
			if e.Event == event {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event for %s after %v\n%s", event, msgID, limit, w.auditTail(10))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (w *world) auditTail(n int) string {
	b, _ := os.ReadFile(w.audit)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func newMsgID(name string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "<interop-" + name + "-" + hex.EncodeToString(b[:]) + "@example.jp>"
}

// reader is what a mail client shows of a delivered message: the decoded
// subject, every leaf part's type and filename, and its text decoded to
// UTF-8.
type reader struct {
	subject  string
	received []string
	mugaiID  string
	parts    []leaf
	text     string
}

type leaf struct {
	ctype, filename string
	body            []byte
}

func read(t *testing.T, raw []byte) reader {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("delivered message does not parse: %v", err)
	}
	var r reader
	r.subject, _ = e.Header.Text("Subject")
	r.received = e.Header.Values("Received")
	r.mugaiID = e.Header.Get("X-Mugai-Id")
	err = e.Walk(func(_ []int, p *message.Entity, err error) error {
		if err != nil {
			return err
		}
		ct, params, _ := p.Header.ContentType()
		if strings.HasPrefix(ct, "multipart/") {
			return nil
		}
		body, err := io.ReadAll(p.Body)
		if err != nil {
			return err
		}
		_, dp, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
		name := dp["filename"]
		if name == "" {
			name = params["name"]
		}
		r.parts = append(r.parts, leaf{ct, name, body})
		if ct == "text/plain" && name == "" {
			r.text += string(body)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking the delivered message: %v", err)
	}
	return r
}

// checkTrace asserts the Received chain of a delivered message: the LGWAN
// Postfix, mugai, the Internet-side Postfix, each naming the one before it.
func checkTrace(t *testing.T, r reader) {
	t.Helper()
	want := []struct{ from, by string }{{"mugai.test", "lgwan.test"}, {"internet.test", "mugai.test"}, {"client.example", "internet.test"}}
	if len(r.received) != len(want) {
		t.Fatalf("%d Received fields, want %d:\n%s", len(r.received), len(want), strings.Join(r.received, "\n"))
	}
	for i, h := range want {
		f := strings.Fields(r.received[i])
		if len(f) < 2 || f[0] != "from" || f[1] != h.from || !strings.Contains(r.received[i], " by "+h.by+" ") {
			t.Errorf("Received[%d] = %q, want from %s by %s", i, r.received[i], h.from, h.by)
		}
	}
}

// checkSanitized asserts what every message leaving mugai must be: one
// text part (and only attachments the policy keeps, rebuilt), nothing
// HTML, the gateway's id.
func checkSanitized(t *testing.T, r reader) {
	t.Helper()
	if r.mugaiID == "" {
		t.Error("no X-Mugai-Id")
	}
	if len(r.parts) == 0 || r.parts[0].ctype != "text/plain" || r.parts[0].filename != "" {
		t.Fatalf("first part is not the text: %+v", r.parts)
	}
	for _, p := range r.parts[1:] {
		switch p.ctype {
		case "application/pdf", "image/png", "image/jpeg", "text/plain":
		default:
			t.Errorf("part %q of type %s passed", p.filename, p.ctype)
		}
	}
	if strings.Contains(strings.ToLower(r.text), "<script") || strings.Contains(strings.ToLower(r.text), "<html") {
		t.Errorf("markup in the text:\n%s", r.text)
	}
}

func TestInterop(t *testing.T) {
	w := newWorld(t)
	start := time.Now()

	type sample struct {
		name  string
		msg   func(id string) []byte
		swaks []string // when msg is nil: swaks builds the message
		check func(t *testing.T, r reader)
	}
	header := func(id, subject, ctype string) string {
		return "From: =?ISO-2022-JP?B?GyRCOzMbKEI=?= <sender@example.jp>\r\nTo: staff@city.example\r\nSubject: " + subject +
			"\r\nDate: Thu, 26 Nov 2026 09:00:00 +0900\r\nMessage-ID: " + id + "\r\nMIME-Version: 1.0\r\nContent-Type: " + ctype + "\r\n"
	}
	jis := func(s string) string {
		b, err := encodeJIS(s)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	samples := []sample{
		{name: "iso-2022-jp", msg: func(id string) []byte {
			return []byte(header(id, "=?ISO-2022-JP?B?"+b64(jis("お見積りの件"))+"?=", "text/plain; charset=ISO-2022-JP") +
				"Content-Transfer-Encoding: 7bit\r\n\r\n" + strings.ReplaceAll(jis("見積書を添付いたします。\nよろしくお願いいたします。\n"), "\n", "\r\n"))
		}, check: func(t *testing.T, r reader) {
			if r.subject != "お見積りの件" {
				t.Errorf("subject %q", r.subject)
			}
			if !strings.Contains(r.text, "見積書を添付いたします。") {
				t.Errorf("Japanese text lost:\n%s", r.text)
			}
		}},
		{name: "html-only", msg: func(id string) []byte {
			return []byte(header(id, "HTML", "text/html; charset=Shift_JIS") + "\r\n" +
				"<html><head><script>alert(1)</script></head><body><p>" + sjis(t, "本文です。") +
				"</p><a href=\"https://example.jp/info\">" + sjis(t, "お知らせ") + "</a><img src=\"https://tracker.example/p.gif\"></body></html>\r\n")
		}, check: func(t *testing.T, r reader) {
			if len(r.parts) != 1 {
				t.Errorf("%d parts, want the text only", len(r.parts))
			}
			if !strings.Contains(r.text, "本文です。") || !strings.Contains(r.text, "お知らせ") || strings.Contains(r.text, "alert(1)") {
				t.Errorf("text:\n%s", r.text)
			}
		}},
		{name: "reference-pdf", msg: func(id string) []byte {
			return bytes.Replace(load.Realistic(), []byte("<load@example.jp>"), []byte(id), 1)
		}, check: func(t *testing.T, r reader) {
			if !strings.Contains(r.text, "いつもお世話になっております") || !strings.Contains(r.text, "quote.pdf") {
				t.Errorf("text or notice missing:\n%.600s", r.text)
			}
			for _, p := range r.parts[1:] {
				if bytes.Contains(p.body, []byte("% padding")) {
					t.Errorf("the original PDF passed as %q", p.filename)
				}
			}
		}},
		{name: "raw-utf8", msg: func(id string) []byte {
			// 8-bit headers and body as some mailers send them, without
			// encoded words: Postfix passes them on as 8BITMIME.
			return []byte("From: 山田 <sender@example.jp>\r\nTo: staff@city.example\r\nSubject: 会議の資料\r\nDate: Thu, 26 Nov 2026 09:00:00 +0900\r\n" +
				"Message-ID: " + id + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n資料をお送りします。\r\n")
		}, check: func(t *testing.T, r reader) {
			if r.subject != "会議の資料" || !strings.Contains(r.text, "資料をお送りします。") {
				t.Errorf("subject %q, text:\n%s", r.subject, r.text)
			}
		}},
		{name: "exe", msg: func(id string) []byte {
			return []byte(header(id, "invoice", `multipart/mixed; boundary="b"`) + "\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n請求書です。\r\n" +
				"--b\r\nContent-Type: application/pdf; name=\"invoice.pdf.exe\"\r\nContent-Disposition: attachment; filename=\"invoice.pdf.exe\"\r\n" +
				"Content-Transfer-Encoding: base64\r\n\r\n" + b64("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00This program cannot be run in DOS mode.") + "\r\n--b--\r\n")
		}, check: func(t *testing.T, r reader) {
			if len(r.parts) != 1 {
				t.Errorf("%d parts, want the text only: %+v", len(r.parts), r.parts)
			}
			if !strings.Contains(r.text, "請求書です。") || !strings.Contains(r.text, "invoice.pdf.exe") {
				t.Errorf("text or notice missing:\n%s", r.text)
			}
		}},
		{name: "swaks-attach", swaks: []string{"--header", "Subject: swaks attachment", "--body", "attached page",
			"--attach-type", "text/html", "--attach-name", "page.html", "--attach", "<html><body><script>x()</script>page text</body></html>"},
			check: func(t *testing.T, r reader) {
				if !strings.Contains(r.text, "attached page") || !strings.Contains(r.text, "page.html") {
					t.Errorf("text or notice missing:\n%s", r.text)
				}
			}},
	}
	ids := make([]string, len(samples))
	for i, s := range samples {
		ids[i] = newMsgID(s.name)
		if s.msg != nil {
			w.send(t, s.name, s.msg(ids[i]))
		} else {
			w.send(t, s.name, nil, append(s.swaks, "--header", "Message-Id: "+ids[i])...)
		}
	}
	for i, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			raw := w.delivered(t, ids[i], 60*time.Second)
			r := read(t, raw)
			checkTrace(t, r)
			checkSanitized(t, r)
			s.check(t, r)
			id, evs := w.events(t, ids[i])
			if len(evs) != 1 || evs[0].Event != "delivered" {
				t.Errorf("audit for %s (%s): %+v, want one delivered", ids[i], id, evs)
			}
			t.Logf("%-14s %s delivered, %d parts, Received: %s", s.name, id, len(r.parts), byChain(r))
		})
	}
	t.Logf("%d messages through Postfix → mugai → Postfix in %v", len(samples), time.Since(start).Round(time.Millisecond))

	// An outage of the LGWAN Postfix: the message is deferred, retried
	// while the outage lasts, and delivered once after it ends.
	outage := func(t *testing.T, name string, begin, end func() error, wantReply string) {
		if err := begin(); err != nil {
			t.Fatal(err)
		}
		id := newMsgID(name)
		w.send(t, name, []byte(header(id, name, "text/plain; charset=utf-8")+"\r\n再送の確認です。\r\n"))
		ev := w.waitEvent(t, id, "deferred", 30*time.Second)
		if !strings.HasPrefix(ev.Reply, wantReply) {
			t.Errorf("deferred with %q, want %q…", ev.Reply, wantReply)
		}
		time.Sleep(2 * time.Second) // at least one more attempt meets the outage
		if err := end(); err != nil {
			t.Fatal(err)
		}
		r := read(t, w.delivered(t, id, 30*time.Second))
		checkTrace(t, r)
		checkSanitized(t, r)
		gid, evs := w.events(t, id)
		if len(evs) < 2 || evs[len(evs)-1].Event != "delivered" {
			t.Errorf("audit for %s: %+v, want deferred then delivered", gid, evs)
		}
		t.Logf("%s: %d attempts deferred (%s), then delivered", gid, len(evs)-1, ev.Reply)
	}
	// It answers 450 for a while.
	t.Run("4xx-retried", func(t *testing.T) {
		outage(t, "4xx", func() error {
			if err := w.lgwan.Postconf("smtpd_client_restrictions=defer"); err != nil {
				return err
			}
			// An smtpd already talking to mugai keeps the settings it
			// started with after a reload; mugai's connection cache may
			// hold one (CI saw the test message delivered on it). Wait
			// until the cache has closed its idle connections: a new
			// connection gets a new smtpd with the new settings.
			time.Sleep(courier.DefaultIdleTimeout + time.Second)
			return nil
		}, func() error { return w.lgwan.Postconf("smtpd_client_restrictions=") }, "450")
	})
	// It is down: connections refused until it is back.
	t.Run("down-retried", func(t *testing.T) {
		outage(t, "down", w.lgwan.Stop, w.lgwan.Start, "connect:")
	})

	// A 550 from the LGWAN Postfix: mugai bounces, and its DSN goes back
	// out through the Internet-side Postfix (deliver.bounce_relay).
	t.Run("5xx-bounced", func(t *testing.T) {
		id := newMsgID("bounce")
		w.sendTo(t, "nobody@city.example", "bounce", []byte(header(id, "bounce", "text/plain; charset=utf-8")+"\r\n宛先不明の確認です。\r\n"))
		ev := w.waitEvent(t, id, "bounced", 30*time.Second)
		if !strings.HasPrefix(ev.Reply, "550") {
			t.Errorf("bounced with %q, want the LGWAN Postfix's 550", ev.Reply)
		}
		var dsnID string
		deadline := time.Now().Add(30 * time.Second)
		for dsnID == "" && time.Now().Before(deadline) {
			for _, r := range w.records(t) {
				if r.Event == "received" && r.ID != ev.ID && strings.HasSuffix(r.MessageID, "@mugai.test>") && strings.Contains(r.MessageID, r.ID) {
					dsnID = r.ID
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		if dsnID == "" {
			t.Fatalf("no DSN queued after the bounce:\n%s", w.auditTail(10))
		}
		w.waitEvent(t, "<"+dsnID+"@mugai.test>", "delivered", 30*time.Second)
		// The Internet-side Postfix took the DSN (its cleanup logs the
		// Message-ID under a queue id) and passed it on from <>.
		deadline = time.Now().Add(30 * time.Second)
		for {
			log := w.internet.Log(300)
			qid := ""
			for _, line := range strings.Split(log, "\n") {
				if strings.HasSuffix(line, "message-id=<"+dsnID+"@mugai.test>") {
					if f := strings.Fields(line); len(f) > 5 {
						qid = strings.TrimSuffix(f[5], ":")
					}
				}
			}
			if qid != "" && strings.Contains(log, qid+": from=<>,") &&
				strings.Contains(log, qid+": to=<sender@example.jp>, relay=none") && strings.Contains(log, "dsn=2.0.0, status=sent") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the DSN %s did not pass the Internet-side Postfix (queue id %q):\n%s", dsnID, qid, w.internet.Log(20))
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("%s bounced (%s); DSN %s went out through the Internet-side Postfix", ev.ID, ev.Reply, dsnID)
	})

	t.Logf("mugai audit, last lines:\n%s", w.auditTail(6))
	t.Logf("LGWAN Postfix log, last lines:\n%s", w.lgwan.Log(4))
}

// byChain is the Received chain as "by" hosts, newest first.
func byChain(r reader) string {
	var hosts []string
	for _, f := range r.received {
		if i := strings.Index(f, " by "); i >= 0 {
			hosts = append(hosts, strings.Fields(f[i+4:])[0])
		}
	}
	return strings.Join(hosts, " ← ")
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func encodeJIS(s string) ([]byte, error) {
	return japanese.ISO2022JP.NewEncoder().Bytes([]byte(s))
}

func sjis(t *testing.T, s string) string {
	b, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
