package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"mugai/gateway/courier"
	"mugai/gateway/queue"
	"mugai/gateway/safeio"
	"mugai/policy/audit"
)

// testRunner is a Runner over a spool and an audit log in a temp dir,
// started, and stopped when the test ends.
type testRunner struct {
	*Runner
	spool *queue.Spool
	audit *audit.Log
	dir   string
}

// testConfig is fast retries and a long lifetime.
func testConfig() Config {
	return Config{Hostname: "mugai.test", Workers: 4, Lifetime: time.Hour,
		RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond, ReleaseSender: "postmaster@mugai.test"}
}

// newTestRunner builds a runner (not started) for c and bounce (nil: no
// bounce route) on the spool and audit log in dir (a new temp dir when
// ""), with what the spool held resumed; its log goes to the test log
// from logLevel up.
func newTestRunner(t testing.TB, dir string, cfg Config, c, bounce courier.Courier, logLevel slog.Level) *testRunner {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	spool, entries, problems, err := queue.Open(filepath.Join(dir, "spool"))
	if err != nil || len(problems) > 0 {
		t.Fatalf("spool: %v %v", err, problems)
	}
	al, err := audit.Open(filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	log := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: logLevel}))
	r := New(cfg, Deps{Spool: spool, Courier: c, Bounce: bounce, Journal: al, Committer: safeio.NewCommitter(true),
		Log: log, Now: time.Now, NewID: testID, PolicySHA: func() string { return "policy-sha" }})
	r.Resume(entries)
	return &testRunner{Runner: r, spool: spool, audit: al, dir: dir}
}

// start runs tr until the test ends.
func (tr *testRunner) start(t testing.TB) {
	ctx, cancel := context.WithCancel(context.Background())
	tr.Start(ctx)
	t.Cleanup(func() { cancel(); tr.Stop() })
}

var idSeq struct {
	sync.Mutex
	n int
}

// testID is a gateway-like id, unique in the test binary.
func testID(now time.Time) string {
	idSeq.Lock()
	defer idSeq.Unlock()
	idSeq.n++
	return fmt.Sprintf("%s-%012d", now.UTC().Format("20060102T150405"), idSeq.n)
}

// spoolMessage commits a message from from to rcpts into tr's spool and
// schedules it, as a session does; it returns its id. The message carries
// its id in X-Mugai-Id, as rebuilt ones do.
func (tr *testRunner) spoolMessage(t testing.TB, from string, rcpts ...string) string {
	t.Helper()
	now := time.Now()
	id := testID(now)
	e := &queue.Entry{ID: id, From: from, Created: now, NextAttempt: now}
	for _, r := range rcpts {
		e.Rcpts = append(e.Rcpts, &queue.Recipient{Addr: r, Status: queue.StatusPending})
	}
	msg := fmt.Sprintf("X-Mugai-Id: %s\r\nFrom: %s\r\nSubject: =?UTF-8?B?6KaL56mN?=\r\n\r\nSECRET-BODY-TEXT\r\n", id, from)
	if err := tr.spool.Add(e, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if !tr.Add(e) {
		t.Fatalf("%s not scheduled", id)
	}
	return id
}

// sent is one message a fakeCourier was given.
type sent struct {
	from  string
	rcpts []string
	data  []byte
}

// fakeCourier answers each recipient with reply(rcpt, attempt) (nil:
// delivered) and records what it delivered to anyone.
type fakeCourier struct {
	name  string
	reply func(rcpt string, attempt int) error

	mu       sync.Mutex
	attempts map[string]int
	got      []sent
}

func (f *fakeCourier) Name() string { return f.name }

func (f *fakeCourier) Deliver(_ context.Context, from string, rcpts []string, msg []byte) []courier.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.attempts == nil {
		f.attempts = map[string]int{}
	}
	res := make([]courier.Result, len(rcpts))
	var took []string
	for i, r := range rcpts {
		f.attempts[r]++
		res[i] = courier.Result{Rcpt: r, Reply: "250 2.0.0 Ok"}
		if f.reply != nil {
			if err := f.reply(r, f.attempts[r]); err != nil {
				res[i].Err, res[i].Reply = err, err.Error()
				continue
			}
		}
		took = append(took, r)
	}
	if len(took) > 0 {
		f.got = append(f.got, sent{from: from, rcpts: took, data: bytes.Clone(msg)})
	}
	return res
}

func (f *fakeCourier) messages() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.got...)
}

// refuse is a next hop's permanent refusal as the SMTP courier reports it.
func refuse(code int, enhanced, text string) error {
	return &courier.Error{Permanent: code >= 500, Code: code, Enhanced: enhanced, Msg: text}
}

// tWriter sends logs to t.Log.
type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// auditEvents reads the audit log: records in order, for one id ("" = all).
func auditEvents(t testing.TB, path, id string) []map[string]any {
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

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitUntil(t, what, 10*time.Second, 10*time.Millisecond, cond)
}

// waitLong is waitFor for work measured in thousands of messages: its
// deadline only turns a hang into a failure, and is far beyond what a
// slow machine takes.
func waitLong(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitUntil(t, what, 5*time.Minute, 50*time.Millisecond, cond)
}

func waitUntil(t testing.TB, what string, limit, every time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(every)
	}
}

// mugaiID finds the gateway id a message carries.
var mugaiID = regexp.MustCompile(`(?m)^X-Mugai-Id: *(\S+)\r?$`)
