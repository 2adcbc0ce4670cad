package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

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
	// The portal is off unless a test turns it on (on 127.0.0.1:0).
	cfg.Portal.Listen = ""
	cfg.Portal.SecretFile = filepath.Join(dir, "portal.key")
	cfg.Portal.State = filepath.Join(dir, "portal")
	cfg.Portal.Users = filepath.Join(dir, "approvers.htpasswd")
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
	return exchange(t, conn, script)
}

// exchange writes script to c in one write and returns every reply line
// until the server closes.
func exchange(t *testing.T, c net.Conn, script string) []string {
	t.Helper()
	if _, err := c.Write([]byte(script)); err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(c)
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
