package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mugai/gateway/safeio"
	"mugai/gateway/smtpd"
	"mugai/policy/audit"
	"mugai/sanitize"
	"mugai/sanitize/format"
)

// logBuf keeps the gateway's log for a test to read, and passes it to
// t.Log.
type logBuf struct {
	t  testing.TB
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b.Write(p)
	l.mu.Unlock()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// lines returns the log lines that contain every one of want.
func (l *logBuf) lines(want ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
next:
	for _, line := range strings.Split(l.b.String(), "\n") {
		for _, w := range want {
			if !strings.Contains(line, w) {
				continue next
			}
		}
		out = append(out, line)
	}
	return out
}

// startLogged is startGatewaySanitizers with the log kept.
func startLogged(t *testing.T, cfg Config, reg ...*format.Registry) (*testGateway, *logBuf) {
	t.Helper()
	lb := &logBuf{t: t}
	var r *format.Registry
	if len(reg) > 0 {
		r = reg[0]
	}
	g, err := New(cfg, slog.New(slog.NewTextHandler(lb, nil)), r)
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
	return tg, lb
}

func getHealth(t *testing.T, tg *testGateway) (int, health, string) {
	t.Helper()
	code, body := httpGet(t, "http://"+tg.g.MetricsAddr()+"/healthz")
	var h health
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("/healthz answered %d %q: %v", code, body, err)
	}
	return code, h, body
}

// TestLocalFailureSaysWhy is the case: the originals directory
// replaced by a plain file. The client gets 451 4.3.0 as before; the log
// has the cause with the path at error level with the id, the audit log a
// tempfail record of class originals, the metric counts it, and /healthz
// answers 503 naming the originals check and why.
func TestLocalFailureSaysWhy(t *testing.T) {
	cfg := testConfig(t, func(c *Config) { c.Metrics = "127.0.0.1:0" })
	tg, lb := startLogged(t, cfg)
	if err := os.RemoveAll(cfg.Originals); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.Originals, []byte("not a directory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, plainMessage)
	wantSMTPErr(t, err, 451, smtp.EnhancedCode{4, 3, 0})
	id := idInReply(t, err.Error())

	logged := lb.lines("level=ERROR", "msg_id="+id, "class=originals", cfg.Originals, "not a directory")
	if len(logged) != 1 {
		t.Errorf("want one error line with the id, the class and the cause naming %s; log:\n%s", cfg.Originals, lb.b.String())
	}
	recs := auditEvents(t, cfg.Audit, id)
	if len(recs) != 1 || recs[0]["event"] != "tempfail" || recs[0]["class"] != "originals" ||
		recs[0]["from"] != "a@example.jp" || !strings.HasPrefix(fmt.Sprint(recs[0]["reply"]), "451 4.3.0 ") {
		t.Errorf("audit records of %s: %v", id, recs)
	}
	code, h, body := getHealth(t, tg)
	if code != 503 || h.OK || len(h.Failed) != 1 || h.Failed[0] != "originals" ||
		!strings.Contains(h.Originals, cfg.Originals) || !strings.Contains(h.Originals, "not a directory") ||
		h.Spool != "ok" || h.Audit != "ok" || h.Space != "ok" || h.NextHop != "ok" || h.Policy != "ok" {
		t.Errorf("/healthz with the originals directory a file: %d %s", code, body)
	}
	_, m := httpGet(t, "http://"+tg.g.MetricsAddr()+"/metrics")
	if !strings.Contains(m, `mugai_tempfail_total{class="originals"} 1`) || !strings.Contains(m, `mugai_tempfail_total{class="spool"} 0`) {
		t.Errorf("/metrics tempfail series:\n%s", grepLines(m, "mugai_tempfail_total"))
	}
}

// TestDeadlineAudited: a rebuild stopped by limits.rebuild_timeout is a
// tempfail of class deadline, logged at error level with the id.
func TestDeadlineAudited(t *testing.T) {
	stuck := &stuckSanitizer{started: make(chan struct{}, 10)}
	tg, lb := startLogged(t, pngConfig(t, func(c *Config) { c.Limits.RebuildTimeout = Duration(300 * time.Millisecond) }), registry(stuck))
	_, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, pngMessage(t, "x.png"))
	wantSMTPErr(t, err, 451, smtp.EnhancedCode{4, 3, 0})
	id := replyID(t, err)
	recs := auditEvents(t, tg.cfg.Audit, id)
	if len(recs) != 1 || recs[0]["event"] != "tempfail" || recs[0]["class"] != "deadline" {
		t.Errorf("audit records of %s: %v", id, recs)
	}
	if len(lb.lines("level=ERROR", "temporary failure", "msg_id="+id, "class=deadline")) != 1 {
		t.Errorf("no error line with the id and class deadline:\n%s", lb.b.String())
	}
}

// TestBackpressureAudited: a MAIL refused for lack of space is a
// tempfail of class space (with the sender), logged with the numbers,
// and /healthz names the space check.
func TestBackpressureAudited(t *testing.T) {
	cfg := testConfig(t, func(c *Config) { c.Metrics = "127.0.0.1:0"; c.Backpressure.MinFreeBytes = 1 << 30 })
	lb := &logBuf{t: t}
	g, err := New(cfg, slog.New(slog.NewTextHandler(lb, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	g.FreeSpace = func(string) (uint64, error) { return 4096, nil }
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(l)
	tg := &testGateway{g: g, addr: l.Addr().String(), cfg: cfg}
	t.Cleanup(func() { tg.stop(t) })

	_, err = send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, plainMessage)
	wantSMTPErr(t, err, 452, smtp.EnhancedCode{4, 3, 1})
	recs := auditEvents(t, cfg.Audit, "")
	var tf []map[string]any
	for _, r := range recs {
		if r["event"] == "tempfail" {
			tf = append(tf, r)
		}
	}
	if len(tf) != 1 || tf[0]["class"] != "space" || tf[0]["from"] != "a@example.jp" || tf[0]["id"] == "" {
		t.Fatalf("tempfail records: %v", tf)
	}
	if len(lb.lines("level=ERROR", "msg_id="+tf[0]["id"].(string), "class=space", "4096 bytes free", "backpressure.min_free_bytes")) != 1 {
		t.Errorf("no error line with the id and the numbers:\n%s", lb.b.String())
	}
	code, h, body := getHealth(t, tg)
	if code != 503 || len(h.Failed) != 1 || h.Failed[0] != "space" || !strings.Contains(h.Space, "4096 bytes free") {
		t.Errorf("/healthz below the backpressure floor: %d %s", code, body)
	}
}

// TestFailClass: the class of a local failure, from what the error wraps.
func TestFailClass(t *testing.T) {
	g := &Gateway{cfg: Config{Spool: "/srv/mugai/spool", Originals: "/srv/mugai/originals", Audit: "/srv/mugai/audit.jsonl"}}
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	onPath := func(op, path string, err error) error { return &fs.PathError{Op: op, Path: path, Err: err} }
	tests := []struct {
		name string
		err  error
		want string
	}{
		// the stores, by the path the error names
		{"originals", fmt.Errorf("originals: %w", onPath("mkdir", "/srv/mugai/originals/2026-12-01", syscall.ENOTDIR)), audit.ClassOriginals},
		{"spool", onPath("open", "/srv/mugai/spool/.x.tmp", syscall.EACCES), audit.ClassSpool},
		{"spool rename", &os.LinkError{Op: "rename", Old: "/srv/mugai/spool/.x.tmp", New: "/srv/mugai/spool/x.msg", Err: syscall.EIO}, audit.ClassSpool},
		{"audit file", fmt.Errorf("audit: write: %w", onPath("write", "/srv/mugai/audit.jsonl", syscall.EIO)), audit.ClassAudit},
		{"audit broken", fmt.Errorf("%w: %w", audit.ErrBroken, errors.New("EIO")), audit.ClassAudit},
		{"not the audit file", onPath("open", "/srv/mugai/other", syscall.EIO), audit.ClassInternal},
		{"sibling of a store", onPath("open", "/srv/mugai/spool2/x", syscall.EIO), audit.ClassInternal},
		// full file systems, wherever
		{"full originals", onPath("write", "/srv/mugai/originals/d/x", syscall.ENOSPC), audit.ClassSpace},
		{"quota", onPath("write", "/srv/mugai/spool/x", syscall.EDQUOT), audit.ClassSpace},
		// classes known where the error is made
		{"deadline", fmt.Errorf("%w: %w", sanitize.ErrDeadline, errors.New("pdf")), audit.ClassDeadline},
		{"memory", errBusy, audit.ClassMemory},
		{"queue", &localError{audit.ClassQueue, errors.New("full")}, audit.ClassQueue},
		{"file of a commit round", &safeio.FileError{File: f, Err: syscall.EIO}, audit.ClassInternal},
		{"unknown", errors.New("boom"), audit.ClassInternal},
		// not local failures
		{"client gone", errClientGone, ""},
		{"client data", fmt.Errorf("%w: %w", errClientData, smtpd.ErrBareLF), ""},
		{"nil", nil, ""},
	}
	for _, tc := range tests {
		if got := g.failClass(tc.err); got != tc.want {
			t.Errorf("%s: failClass(%v) = %q, want %q", tc.name, tc.err, got, tc.want)
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestReloadBadPolicyOnDisk: a refused reload keeps the policy in force,
// and the log line, /healthz and mugai_policy_on_disk_ok say that a
// restart would fail, until a reload succeeds.
func TestReloadBadPolicyOnDisk(t *testing.T) {
	dir := t.TempDir()
	polPath := filepath.Join(dir, "policy.yaml")
	strict, err := os.ReadFile("../policy/examples/strict.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(polPath, strict, 0o644)
	tg, lb := startLogged(t, testConfig(t, func(c *Config) { c.Policy, c.Metrics = polPath, "127.0.0.1:0" }))
	metric := func() string {
		_, m := httpGet(t, "http://"+tg.g.MetricsAddr()+"/metrics")
		return grepLines(m, "mugai_policy_")
	}
	if m := metric(); !strings.Contains(m, "mugai_policy_on_disk_ok 1") || !strings.Contains(m, "mugai_policy_reload_failures_total 0") {
		t.Errorf("at start:\n%s", m)
	}
	os.WriteFile(polPath, []byte("rules: [oops\n"), 0o644)
	if err := tg.g.Reload(); err == nil {
		t.Fatal("a broken policy was accepted")
	}
	if len(lb.lines("level=ERROR", "a restart would fail")) != 1 {
		t.Errorf("the refusal does not say a restart would fail:\n%s", lb.b.String())
	}
	code, h, body := getHealth(t, tg)
	if code != 503 || len(h.Failed) != 1 || h.Failed[0] != "policy" ||
		!strings.Contains(h.Policy, "policy file on disk does not load; a restart would fail") || !strings.Contains(h.Policy, polPath) {
		t.Errorf("/healthz after a refused reload: %d %s", code, body)
	}
	if m := metric(); !strings.Contains(m, "mugai_policy_on_disk_ok 0") || !strings.Contains(m, "mugai_policy_reload_failures_total 1") {
		t.Errorf("after a refused reload:\n%s", m)
	}
	os.WriteFile(polPath, strict, 0o644)
	if err := tg.g.Reload(); err != nil {
		t.Fatal(err)
	}
	if tg.g.PolicyFileError() != nil {
		t.Errorf("after a good reload: %v", tg.g.PolicyFileError())
	}
	if m := metric(); !strings.Contains(m, "mugai_policy_on_disk_ok 1") || !strings.Contains(m, "mugai_policy_reload_failures_total 1") {
		t.Errorf("after a good reload:\n%s", m)
	}
}

// TestFailedStartAuditsNothing: a start that fails on a configuration
// mistake (a port in use, a missing certificate) writes no audit record;
// a start that succeeds writes its policy record last.
func TestFailedStartAuditsNothing(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for name, mutate := range map[string]func(*Config){
		"metrics port in use": func(c *Config) { c.Metrics = taken.Addr().String() },
		"portal port in use":  func(c *Config) { c.Portal.Listen = taken.Addr().String() },
		"missing certificate": func(c *Config) {
			c.Accept.TLSCert, c.Accept.TLSKey = filepath.Join(t.TempDir(), "none.crt"), filepath.Join(t.TempDir(), "none.key")
		},
	} {
		cfg := testConfig(t, mutate)
		if _, err := New(cfg, slog.New(slog.NewTextHandler(&logBuf{t: t}, nil)), nil); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
		if b, _ := os.ReadFile(cfg.Audit); len(b) != 0 {
			t.Errorf("%s: a failed start wrote to the audit log:\n%s", name, b)
		}
	}
	tg := startGateway(t, nil)
	recs := auditEvents(t, tg.cfg.Audit, "")
	if len(recs) != 1 || recs[0]["event"] != "policy" {
		t.Errorf("after a start: %v", recs)
	}
}

// TestHealthAuditBroken: after a failed sync of the audit log (mail is
// refused until a restart) /healthz fails its audit check and says so.
func TestHealthAuditBroken(t *testing.T) {
	tg := startGateway(t, func(c *Config) { c.Metrics = "127.0.0.1:0" })
	tg.g.audit.Fail(errors.New("fdatasync: input/output error"))
	code, h, body := getHealth(t, tg)
	if code != 503 || len(h.Failed) != 1 || h.Failed[0] != "audit" ||
		!strings.Contains(h.Audit, "input/output error") || !strings.Contains(h.Audit, "restart") {
		t.Errorf("/healthz with a broken audit log: %d %s", code, body)
	}
}
