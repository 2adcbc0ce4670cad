package main

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mugai/gateway"
	"mugai/gateway/originals"
	"mugai/gateway/queue"
)

// adminSetup writes a config for a gateway whose stores are in a short
// temp dir (Unix socket paths are limited to about 100 bytes) and returns
// it with the config file's path.
func adminSetup(t *testing.T) (gateway.Config, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "mugai")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg := gateway.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.Spool, cfg.Originals, cfg.Audit = filepath.Join(dir, "spool"), filepath.Join(dir, "originals"), filepath.Join(dir, "audit.jsonl")
	cfg.Cache, cfg.Deliver.Maildir = filepath.Join(dir, "cache"), filepath.Join(dir, "maildir")
	cfg.Backpressure.MinFreeBytes = 0
	cfg.Portal.Listen = ""
	file := filepath.Join(dir, "mugai.yaml")
	os.WriteFile(file, []byte(fmt.Sprintf("listen: %q\nspool: %q\noriginals: %q\naudit: %q\ncache: %q\ndeliver:\n  maildir: %q\nbackpressure:\n  min_free_bytes: 0\nportal:\n  listen: \"\"\n",
		cfg.Listen, cfg.Spool, cfg.Originals, cfg.Audit, cfg.Cache, cfg.Deliver.Maildir)), 0o644)
	return cfg, file
}

func spoolOne(t *testing.T, sp *queue.Spool, id string) {
	t.Helper()
	e := &queue.Entry{ID: id, From: "a@example.jp", Created: time.Now(), NextAttempt: time.Now().Add(time.Hour),
		Rcpts: []*queue.Recipient{{Addr: "b@city.example.lg.jp", Status: queue.StatusPending}}}
	if err := sp.Add(e, []byte("Subject: x\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
}

// TestControlSocket: the admin commands reach the running gateway through
// the spool's control socket (no pid file, no signal); with only a dead
// gateway's socket file they say it is not running, at once; a second
// serve on the same spool refuses to start.
func TestControlSocket(t *testing.T) {
	cfg, file := adminSetup(t)
	sp, _, _, err := queue.Open(cfg.Spool)
	if err != nil {
		t.Fatal(err)
	}
	spoolOne(t, sp, "waiting-1")
	spoolOne(t, sp, "waiting-2")

	// A dead gateway's socket: the file is there, nothing listens.
	sock := gateway.ControlSocket(cfg.Spool)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	start := time.Now()
	if code, _, stderr := runCLI(t, "queue", "flush", "-config", file); code != 1 || !strings.Contains(stderr, "no running gateway") {
		t.Errorf("flush, stale socket: %d %s", code, stderr)
	}
	if code, out, stderr := runCLI(t, "queue", "delete", "-config", file, "-operator", "yamada", "-reason", "spam", "waiting-1"); code != 0 ||
		!strings.Contains(out, "deleted") || !strings.Contains(out, "no running gateway (nothing answers on its control socket): the change takes effect at its next start") {
		t.Errorf("delete, stale socket: %d %s %s", code, out, stderr)
	}
	if d := time.Since(start); d > 5*time.Second { // not a speed check: a hang would take the 10 s timeout
		t.Errorf("the commands waited %v for a dead gateway", d)
	}

	// A running gateway replaces the stale socket and answers.
	ctl, err := gateway.ListenControl(cfg.Spool)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode: %v %v", fi, err)
	}
	g, err := gateway.New(cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	go g.ServeControl(ctl)
	if code, out, stderr := runCLI(t, "queue", "flush", "-config", file); code != 0 || !strings.Contains(out, "the running gateway: spool rescanned") {
		t.Errorf("flush: %d %s %s", code, out, stderr)
	}
	if code, out, stderr := runCLI(t, "queue", "delete", "-config", file, "-operator", "yamada", "-reason", "spam", "waiting-2"); code != 0 || !strings.Contains(out, "waiting-2 dropped from the schedule") {
		t.Errorf("delete: %d %s %s", code, out, stderr)
	}
	if _, err := os.Stat(filepath.Join(cfg.Spool, "mugai.pid")); err == nil {
		t.Error("a pid file was written")
	}
	// The same spool cannot have two gateways: refused before recovery.
	code, _, stderr := runCLI(t, "serve", "-config", file)
	if code != 2 || !strings.Contains(stderr, "another gateway is running") {
		t.Errorf("second serve: %d %s", code, stderr)
	}
	if reply, err := gateway.AskGateway(cfg.Spool, "ping"); err != nil || !strings.Contains(reply, fmt.Sprint(os.Getpid())) {
		t.Errorf("the first gateway after the refused second: %q %v", reply, err)
	}
	for _, bad := range []string{"add ../x", "drop /etc/passwd", "reboot", "flush now"} {
		if _, err := gateway.AskGateway(cfg.Spool, bad); err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestQueueIDsAreNotPaths: the queue and originals commands refuse ids
// that are paths, NUL, empty or too long (exit 2) and touch nothing.
func TestQueueIDsAreNotPaths(t *testing.T) {
	cfg, file := adminSetup(t)
	if _, _, _, err := queue.Open(cfg.Spool); err != nil {
		t.Fatal(err)
	}
	if _, err := originals.Open(cfg.Originals); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(filepath.Dir(cfg.Spool), "victimdir")
	os.Mkdir(victim, 0o750)
	os.WriteFile(filepath.Join(victim, "ledger.msg"), []byte("precious"), 0o640)
	os.WriteFile(filepath.Join(victim, "ledger.json"), []byte("precious"), 0o640)
	for _, id := range []string{"../victimdir/ledger", "../../" + filepath.Base(filepath.Dir(cfg.Spool)) + "/victimdir/ledger", filepath.Join(victim, "ledger"), "a\x00b", "", strings.Repeat("1", 65)} {
		for _, args := range [][]string{
			{"queue", "delete", "-config", file, "-operator", "yamada", "-reason", "test", id},
			{"queue", "requeue", "-config", file, "-operator", "yamada", id},
			{"originals", "show", "-config", file, id},
			{"originals", "release", "-config", file, "-operator", "yamada", "-reason", "test", id},
		} {
			if code, _, stderr := runCLI(t, args...); code != 2 || !strings.Contains(stderr, "not a message id") {
				t.Errorf("%s %s %q: %d %s", args[0], args[1], id, code, stderr)
			}
		}
	}
	for _, f := range []string{"ledger.msg", "ledger.json"} {
		if _, err := os.Stat(filepath.Join(victim, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if b, _ := os.ReadFile(cfg.Audit); len(b) != 0 {
		t.Errorf("audited: %s", b)
	}
}

// TestQueuePurgeFailed: what failed/ kept longer than -older-than is
// deleted, each audited; the rest stays.
func TestQueuePurgeFailed(t *testing.T) {
	cfg, file := adminSetup(t)
	sp, _, _, err := queue.Open(cfg.Spool)
	if err != nil {
		t.Fatal(err)
	}
	for id, age := range map[string]time.Duration{"old-1": 40 * 24 * time.Hour, "new-1": time.Hour} {
		e := &queue.Entry{ID: id, From: "a@example.jp", Created: time.Now().Add(-age),
			Rcpts: []*queue.Recipient{{Addr: "b@city.example.lg.jp", Status: queue.StatusPending}}}
		if err := sp.Add(e, []byte("m")); err != nil {
			t.Fatal(err)
		}
		e.Rcpts[0].Status = queue.StatusFailed
		if err := sp.MoveToFailed(e); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, stderr := runCLI(t, "queue", "purge-failed", "-config", file); code != 2 || !strings.Contains(stderr, "-operator") {
		t.Errorf("without operator: %d %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "queue", "purge-failed", "-config", file, "-operator", "yamada", "-older-than", "soon"); code != 2 || !strings.Contains(stderr, "not a duration") {
		t.Errorf("bad -older-than: %d %s", code, stderr)
	}
	code, out, stderr := runCLI(t, "queue", "purge-failed", "-config", file, "-operator", "yamada", "-older-than", "30d")
	if code != 0 || !strings.Contains(out, "purged 1 of 2") {
		t.Fatalf("purge-failed: %d %s %s", code, out, stderr)
	}
	_, failed, _ := sp.List()
	if len(failed) != 1 || failed[0].ID != "new-1" {
		t.Errorf("failed/ after: %v", failed)
	}
	recs := auditRecords(cfg.Audit)
	if len(recs) != 1 || recs[0]["event"] != "deleted" || recs[0]["id"] != "old-1" || recs[0]["operator"] != "yamada" || !strings.Contains(recs[0]["detail"].(string), "purge-failed") {
		t.Errorf("audit: %v", recs)
	}
}

// TestPrintableMasksFormatCharacters: bidi overrides and other format
// characters from a sender never reach the admin's terminal as they are.
func TestPrintableMasksFormatCharacters(t *testing.T) {
	for in, want := range map[string]string{
		"invoice\u202efdp.exe":   "invoice?fdp.exe",
		"a\u2066b\u2069c\u200fd": "a?b?c?d",
		"zero\u200bwidth\ufeff":  "zero?width?",
		"line\u2028para\u2029x":  "line?para?x",
		"bell\x07esc\x1b[31m":    "bell?esc?[31m",
		"bad \xff utf8":          "bad ? utf8",
		"日本語 and ascii (normal)": "日本語 and ascii (normal)",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
	// queue list prints a reply from the next hop through it.
	cfg, file := adminSetup(t)
	sp, _, _, err := queue.Open(cfg.Spool)
	if err != nil {
		t.Fatal(err)
	}
	e := &queue.Entry{ID: "f-1", From: "x\u202e@example.jp", Created: time.Now(),
		Rcpts: []*queue.Recipient{{Addr: "b@city.example.lg.jp", Status: queue.StatusPending}}}
	sp.Add(e, []byte("m"))
	e.Rcpts[0].Status, e.Rcpts[0].Last = queue.StatusFailed, &queue.Reply{Text: "550 no\u202eexe.pdf", Code: 550, Permanent: true}
	sp.MoveToFailed(e)
	code, out, _ := runCLI(t, "queue", "list", "-config", file)
	if code != 0 || strings.ContainsRune(out, '\u202e') || !strings.Contains(out, "550 no?exe.pdf") {
		t.Errorf("queue list: %d %q", code, out)
	}
}

// TestDrainCutsSlowSessions: at shutdown a session waiting for its next
// command gets 421 4.3.2 at once; a session still inside a message after
// shutdown_grace is cut, with a warning naming how many were cut, and the
// shutdown is a normal one (serve exits 0).
func TestDrainCutsSlowSessions(t *testing.T) {
	cfg, _ := adminSetup(t)
	var logBuf syncBuffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	g, err := gateway.New(cfg, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &sessionListener{Listener: tl, conns: map[net.Conn]bool{}}
	go g.Serve(l)
	dial := func(script string, replies int) (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", tl.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		fmt.Fprint(c, script)
		for replies > 0 {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("%q: %v", script, err)
			}
			if len(line) > 3 && line[3] == ' ' {
				replies--
			}
		}
		return c, r
	}
	_, idle := dial("EHLO idle.test\r\n", 2)
	slow, sr := dial("EHLO slow.test\r\nMAIL FROM:<a@example.jp>\r\nRCPT TO:<b@city.example.lg.jp>\r\nDATA\r\n", 5)
	fmt.Fprintf(slow, "Subject: slow\r\n\r\nand then nothing") // inside DATA, and then nothing
	if err := drain(log, g, l, 200*time.Millisecond, time.Second); err != nil {
		t.Errorf("drain: %v", err)
	}
	if line, _ := idle.ReadString('\n'); !strings.HasPrefix(line, "421 4.3.2") {
		t.Errorf("the idle session got %q, want 421 4.3.2", line)
	}
	for {
		if _, err := sr.ReadString('\n'); err != nil {
			break // cut
		}
	}
	if s := logBuf.String(); !strings.Contains(s, "sessions=1") || !strings.Contains(s, "were cut") || !strings.Contains(s, "msg=stopped") {
		t.Errorf("log:\n%s", s)
	}
}

type syncBuffer struct {
	mu chan struct{}
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.lock()
	defer s.unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.lock(); defer s.unlock(); return s.b.String() }
func (s *syncBuffer) lock() {
	if s.mu == nil {
		s.mu = make(chan struct{}, 1)
	}
	s.mu <- struct{}{}
}
func (s *syncBuffer) unlock() { <-s.mu }
