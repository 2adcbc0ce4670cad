package gateway

import (
	"bytes"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mugai/gateway/originals"
	"mugai/gateway/queue"
)

// lockedBuf is a log the test reads while the gateway writes it.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startGatewayLogged is startGatewayWith with its log kept for the test.
func startGatewayLogged(t *testing.T, cfg Config) (*testGateway, *lockedBuf) {
	t.Helper()
	buf := &lockedBuf{}
	g, err := New(cfg, slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(l)
	tg := &testGateway{g: g, addr: l.Addr().String(), cfg: cfg}
	t.Cleanup(func() { tg.stop(t) })
	return tg, buf
}

// spoolDeferred accepts one message with the next hop down, waits for its
// deferral and stops the gateway: the message waits in the spool, with a
// meta.
func spoolDeferred(t *testing.T) (Config, string) {
	t.Helper()
	down, _ := net.Listen("tcp", "127.0.0.1:0")
	downAddr := down.Addr().String()
	down.Close()
	tg := startGateway(t, func(c *Config) { c.Deliver.Relay = downAddr })
	reply, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"},
		"Subject: crash test\r\n\r\nstart of the message\r\n"+strings.Repeat("filler ", 40)+"\r\nend of the message\r\n")
	if err != nil {
		t.Fatal(err)
	}
	_, id, _ := strings.Cut(reply, "queued as ")
	waitFor(t, "a deferral", func() bool {
		return strings.Contains(strings.Join(eventNames(auditEvents(t, tg.cfg.Audit, id)), ","), "deferred")
	})
	tg.stop(t)
	return tg.cfg, id
}

// damageAndMove damages the spooled message id and moves it into bad/
// the way the gateway does, then stops: a crash after the move, before
// the log line, the audit record and the rebuild.
func damageAndMove(t *testing.T, cfg Config, id string) *queue.Spool {
	t.Helper()
	p := filepath.Join(cfg.Spool, id+".msg")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-40] ^= 0x01
	if err := os.WriteFile(p, b, 0o640); err != nil {
		t.Fatal(err)
	}
	s, _, _, err := queue.Open(cfg.Spool)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.MoveToBad(id); err != nil {
		t.Fatal(err)
	}
	return s
}

func damagedRecords(t *testing.T, cfg Config, id string) []string {
	t.Helper()
	var out []string
	for _, r := range auditEvents(t, cfg.Audit, id) {
		if r["event"] == "damaged" {
			out = append(out, r["detail"].(string))
		}
	}
	return out
}

// TestCrashAfterMoveToBad: a crash after a damaged entry went to bad/ and
// before it was reported and rebuilt leaves it there; the next start
// reports it (error log line, damaged record), rebuilds it from its
// original and delivers it once; the start after that does nothing more.
func TestCrashAfterMoveToBad(t *testing.T) {
	cfg, id := spoolDeferred(t)
	damageAndMove(t, cfg, id)

	hop := startNextHop(t)
	cfg.Deliver.Relay = hop.addr
	tg, logs := startGatewayLogged(t, cfg)
	waitFor(t, "the rebuilt message at the next hop", func() bool { return len(hop.messages()) >= 1 })
	waitFor(t, "an empty queue", func() bool { return tg.g.delivery.Queued() == 0 })
	tg.stop(t)
	if n := hopCounts(t, hop)[id]; n != 1 {
		t.Errorf("delivered %d times, want once", n)
	}
	if recs := damagedRecords(t, cfg, id); len(recs) != 1 || !strings.Contains(recs[0], "rebuilt from the original") {
		t.Errorf("damaged records %q", recs)
	}
	if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "damaged spool entry") {
		t.Errorf("no error log line:\n%s", l)
	}
	if body := bodyText(t, hop.messages()[0].data); !strings.Contains(body, "end of the message") {
		t.Errorf("delivered body is not the whole message:\n%s", body)
	}

	tg2, _ := startGatewayLogged(t, cfg)
	time.Sleep(300 * time.Millisecond)
	tg2.stop(t)
	if n := hopCounts(t, hop)[id]; n != 1 {
		t.Errorf("after another start: delivered %d times, want once", n)
	}
	if recs := damagedRecords(t, cfg, id); len(recs) != 1 {
		t.Errorf("after another start: damaged records %q", recs)
	}
}

// TestCrashAfterRebuild: a crash after the rebuilt entry was spooled and
// before the entry in bad/ was marked handled: the next start delivers
// the rebuilt entry once and does not rebuild it again.
func TestCrashAfterRebuild(t *testing.T) {
	cfg, id := spoolDeferred(t)
	s := damageAndMove(t, cfg, id)
	e := &queue.Entry{ID: id, From: "a@example.jp", Created: time.Now(),
		Rcpts: []*queue.Recipient{{Addr: "b@city.example.lg.jp", Status: queue.StatusPending}}}
	if err := s.Add(e, []byte("X-Mugai-Id: "+id+"\r\nSubject: rebuilt\r\n\r\nthe rebuilt message\r\n")); err != nil {
		t.Fatal(err)
	}

	hop := startNextHop(t)
	cfg.Deliver.Relay = hop.addr
	tg, _ := startGatewayLogged(t, cfg)
	waitFor(t, "the message at the next hop", func() bool { return len(hop.messages()) >= 1 })
	waitFor(t, "an empty queue", func() bool { return tg.g.delivery.Queued() == 0 })
	time.Sleep(200 * time.Millisecond)
	tg.stop(t)
	if n := hopCounts(t, hop)[id]; n != 1 {
		t.Errorf("delivered %d times, want once", n)
	}
	if body := bodyText(t, hop.messages()[0].data); !strings.Contains(body, "the rebuilt message") {
		t.Errorf("not the entry rebuilt before the crash:\n%s", body)
	}
	if recs := damagedRecords(t, cfg, id); len(recs) != 1 || !strings.Contains(recs[0], "rebuilt from the original") {
		t.Errorf("damaged records %q", recs)
	}
}

// TestCrashOriginalDamaged: the entry in bad/ whose original is damaged
// too is reported once (error log line, damaged record), stays in bad/,
// and is not tried again at the next start.
func TestCrashOriginalDamaged(t *testing.T) {
	cfg, id := spoolDeferred(t)
	damageAndMove(t, cfg, id)
	st, err := originals.Open(cfg.Originals)
	if err != nil {
		t.Fatal(err)
	}
	_, orig, err := st.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(orig)
	b[len(b)/2] ^= 0x01
	os.WriteFile(orig, b, 0o640)
	hop := startNextHop(t)
	cfg.Deliver.Relay = hop.addr
	for i := range 2 {
		tg, logs := startGatewayLogged(t, cfg)
		time.Sleep(300 * time.Millisecond)
		tg.stop(t)
		l := logs.String()
		if i == 0 && (!strings.Contains(l, "level=ERROR") || !strings.Contains(l, "left in bad/")) {
			t.Errorf("first start: no error log line:\n%s", l)
		}
		if i == 1 && strings.Contains(l, "damaged spool entry") {
			t.Errorf("second start reported it again:\n%s", l)
		}
	}
	if n := hopCounts(t, hop)[id]; n != 0 {
		t.Errorf("delivered %d times", n)
	}
	if _, err := os.Stat(filepath.Join(cfg.Spool, "bad", id+".msg")); err != nil {
		t.Errorf("not in bad/: %v", err)
	}
	if recs := damagedRecords(t, cfg, id); len(recs) != 1 || !strings.Contains(recs[0], "left in bad/") || !strings.Contains(recs[0], "original does not match") {
		t.Errorf("damaged records %q", recs)
	}
}
