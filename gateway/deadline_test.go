package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	dto "github.com/prometheus/client_model/go"

	"mugai/gateway/safeio"
	"mugai/sanitize/format"
)

// pngPolicy disarms PNG attachments (with the test's sanitizer) and
// textifies the body: what the rebuild of these tests runs through.
const pngPolicy = `name: png-test
rules:
  - id: body-text
    clause: "2(13)"
    match: {role: body}
    action: textify
    reason: {ja: 本文, en: body}
  - id: png-disarm
    clause: "2(13)"
    match: {role: attachment, type: image/png}
    action: disarm
    reason: {ja: 画像, en: image}
`

// pngConfig is the test config with pngPolicy in force.
func pngConfig(t *testing.T, mutate func(*Config)) Config {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(pngPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	return testConfig(t, func(c *Config) {
		c.Policy = p
		if mutate != nil {
			mutate(c)
		}
	})
}

// pngMessage is a text body with one small PNG attached as name.
func pngMessage(t *testing.T, name string) string {
	t.Helper()
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return "Subject: picture\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee the picture\r\n" +
		"--B\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=" + name + "\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString(img.Bytes()) + "\r\n--B--\r\n"
}

// stuckSanitizer is a rebuild that never ends by itself: it blocks until
// its context ends, as a sanitizer lost in a hostile file would (minus
// the CPU). started receives one value per run.
type stuckSanitizer struct{ started chan struct{} }

func (s *stuckSanitizer) Name() string { return "stuck" }
func (s *stuckSanitizer) Sanitize(ctx context.Context, _ format.Part, _ io.Reader, _ io.Writer) (format.Verdict, error) {
	s.started <- struct{}{}
	<-ctx.Done()
	return format.Verdict{}, ctx.Err()
}

// inflatingSanitizer writes a rebuilt file of size[filename] bytes: an
// expansion the message's budget must carry.
type inflatingSanitizer struct{ size map[string]int }

func (s *inflatingSanitizer) Name() string { return "inflating" }
func (s *inflatingSanitizer) Sanitize(_ context.Context, p format.Part, _ io.Reader, out io.Writer) (format.Verdict, error) {
	_, err := out.Write(bytes.Repeat([]byte{'x'}, s.size[p.Filename]))
	return format.Verdict{Type: "application/octet-stream", Filename: p.Filename + ".bin", Notes: []format.Note{{JA: "すべて", EN: "everything"}}}, err
}

func registry(s format.Sanitizer) *format.Registry {
	reg := &format.Registry{}
	reg.Register("disarm", s, "image/png")
	return reg
}

// replyID is the gateway id a 4xx reply names: "... (id X)".
func replyID(t *testing.T, err error) string {
	t.Helper()
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		t.Fatalf("not an SMTP error: %v", err)
	}
	_, id, ok := strings.Cut(se.Message, "(id ")
	if !ok {
		t.Fatalf("reply %q names no id", se.Message)
	}
	return strings.TrimSuffix(id, ")")
}

// assertNothingKept: no file of the message (any file, when id is "") in
// the originals store or the spool but the empty ones the pools create
// ahead, no audit record saying it was received, queued or delivered, and
// no rebuild memory left reserved.
func assertNothingKept(t *testing.T, tg *testGateway, id string) {
	t.Helper()
	for _, dir := range []string{tg.cfg.Originals, tg.cfg.Spool} {
		filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			if fi, ierr := e.Info(); ierr == nil && fi.Size() == 0 && safeio.IsTemp(e.Name()) {
				return nil // created ahead by a pool, never written
			}
			if strings.Contains(e.Name(), id) {
				t.Errorf("%s kept: %s", id, p)
			}
			return nil
		})
	}
	if n := countQueued(t, tg); n != 0 {
		t.Errorf("%d queued records in the audit log", n)
	}
	for _, name := range eventNames(auditEvents(t, tg.cfg.Audit, id)) {
		if name == "received" || name == "decision" || name == "queued" || name == "delivered" {
			t.Errorf("audit has a %s record for %s", name, id)
		}
	}
	if used := tg.g.memory.inUse(); used != 0 {
		t.Errorf("%d bytes of rebuild memory still reserved", used)
	}
}

func abandoned(tg *testGateway, cause string) float64 {
	var m dto.Metric
	if err := tg.g.metrics.abandoned.WithLabelValues(cause).Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// TestRebuildDeadline: a rebuild that outlasts limits.rebuild_timeout is
// answered 451 4.3.0 and nothing of it is kept; the next message is
// accepted as usual.
func TestRebuildDeadline(t *testing.T) {
	stuck := &stuckSanitizer{started: make(chan struct{}, 10)}
	cfg := pngConfig(t, func(c *Config) { c.Limits.RebuildTimeout = Duration(300 * time.Millisecond) })
	tg := startGatewaySanitizers(t, cfg, registry(stuck))

	_, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, pngMessage(t, "x.png"))
	wantSMTPErr(t, err, 451, smtp.EnhancedCode{4, 3, 0})
	if !strings.Contains(err.Error(), "took too long") {
		t.Errorf("reply %q does not say the sanitizing took too long", err)
	}
	id := replyID(t, err)
	assertNothingKept(t, tg, id)
	if got := abandoned(tg, causeDeadline); got != 1 {
		t.Errorf("deadline counter %v, want 1", got)
	}
	if len(stuck.started) != 1 {
		t.Errorf("the sanitizer ran %d times, want 1", len(stuck.started))
	}
	// Deadlines end the message, not the gateway.
	if _, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: next\r\n\r\nplain text\r\n"); err != nil {
		t.Fatalf("next message: %v", err)
	}
}

// TestClientGoneDuringRebuild: a client that closes its connection while
// its message is rebuilt (it gave up waiting and will retry) has nothing
// kept, long before the deadline: its retry is not a second copy.
func TestClientGoneDuringRebuild(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the socket state is read on Linux only; elsewhere the deadline bounds the wait")
	}
	stuck := &stuckSanitizer{started: make(chan struct{}, 10)}
	cfg := pngConfig(t, func(c *Config) { c.Limits.RebuildTimeout = Duration(5 * time.Minute) })
	tg := startGatewaySanitizers(t, cfg, registry(stuck))

	c, err := net.Dial("tcp", tg.addr)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	expect := func(cmd, code string) {
		t.Helper()
		if cmd != "" {
			fmt.Fprintf(c, "%s\r\n", cmd)
		}
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("after %q: %v", cmd, err)
			}
			if !strings.HasPrefix(line, code) {
				t.Fatalf("after %q: %q, want %s", cmd, line, code)
			}
			if line[3] == ' ' {
				return
			}
		}
	}
	expect("", "220")
	expect("EHLO client.test", "250")
	expect("MAIL FROM:<a@example.jp>", "250")
	expect("RCPT TO:<b@city.example.lg.jp>", "250")
	expect("DATA", "354")
	fmt.Fprintf(c, "%s.\r\n", pngMessage(t, "x.png"))
	select {
	case <-stuck.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the rebuild did not start")
	}
	c.Close() // the client gives up

	waitFor(t, "the gateway to notice the client left", func() bool { return abandoned(tg, causeClientGone) == 1 })
	assertNothingKept(t, tg, "") // the id was never told; nothing of any message
	if got := abandoned(tg, causeDeadline); got != 0 {
		t.Errorf("deadline counter %v, want 0", got)
	}
}

// TestMessageExpansion: limits.message_expansion bounds what one message
// expands into; a part past it is removed and the message accepted. Its
// expansion is reserved from limits.rebuild_memory, even when it is more
// than the whole budget (the message then runs alone), and given back.
func TestMessageExpansion(t *testing.T) {
	inflating := &inflatingSanitizer{size: map[string]int{"small.png": 256 << 10, "big.png": 2 << 20}}
	tests := []struct {
		name      string
		expansion int64
		file      string
		action    string // of the PNG part, in the originals index
	}{
		// within the message's budget: disarmed and attached
		{"small", 1 << 20, "small.png", "disarm"},
		// past it: removed, the rest of the message goes on
		{"over budget", 1 << 20, "big.png", "strip"},
		// within a larger budget, beyond the whole rebuild memory: runs alone
		{"over rebuild memory", 4 << 20, "big.png", "disarm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := pngConfig(t, func(c *Config) {
				c.Limits.MessageExpansion = Size(tc.expansion)
				c.Limits.RebuildMemory = 1 << 20
			})
			tg := startGatewaySanitizers(t, cfg, registry(inflating))
			reply, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, pngMessage(t, tc.file))
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			_, id, _ := strings.Cut(reply, "queued as ")
			m, _, err := tg.g.originals.Get(id)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range m.Parts {
				if p.Filename != tc.file {
					continue
				}
				found = true
				if p.Action != tc.action {
					t.Errorf("part %s: action %s (%s: %s), want %s", p.Path, p.Action, p.Reason, p.Detail, tc.action)
				}
				if tc.action == "strip" && p.Reason == "disarmed" {
					t.Errorf("part %s stripped with reason %s", p.Path, p.Reason)
				}
			}
			if !found {
				t.Errorf("no part %s in the index: %+v", tc.file, m.Parts)
			}
			if used := tg.g.memory.inUse(); used != 0 {
				t.Errorf("%d bytes of rebuild memory still reserved", used)
			}
		})
	}
}

// TestClientClosed: the socket state tells a client that left from one
// that waits, under TLS and our connection wrapper too, without reading.
func TestClientClosed(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the socket state is read on Linux only")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	wrapped := tls.Server(&limitConn{Conn: server}, &tls.Config{})
	if tcpConn(wrapped) != server {
		t.Fatal("tcpConn does not find the TCP connection under TLS and limitConn")
	}
	fmt.Fprintf(client, "QUIT\r\n") // pipelined bytes waiting are no sign of leaving
	time.Sleep(20 * time.Millisecond)
	if clientGone(wrapped) {
		t.Fatal("a connected client counts as gone")
	}
	client.Close()
	waitFor(t, "the closed client to be seen", func() bool { return clientGone(wrapped) })
}
