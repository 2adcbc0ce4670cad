package officepdf

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const installHint = "LibreOffice or bubblewrap not installed: run .ci/install-office-tools (make office requires them)"

// required: make office sets MUGAI_OFFICE=required, and a missing tool
// fails the test there instead of skipping it.
func required(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("MUGAI_OFFICE") == "required" {
		t.Fatalf("%s: %v (MUGAI_OFFICE=required)", installHint, err)
	}
	t.Skipf("%s: %v", installHint, err)
}

// newBox is a sandbox with the host's bwrap and prlimit, or skips.
func newBox(t *testing.T, l Limits) *sandbox {
	t.Helper()
	bw, err := exec.LookPath("bwrap")
	if err == nil {
		var pl string
		if pl, err = exec.LookPath("prlimit"); err == nil {
			return &sandbox{bwrap: bw, prlimit: pl, limits: l}
		}
	}
	required(t, err)
	return nil
}

func runIn(t *testing.T, b *sandbox, script string) (result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return b.run(ctx, nil, []string{"/bin/sh", "-c", script})
}

// TestSandboxNetwork: inside, the only interface is the sandbox's own
// loopback; a listener on the host's 127.0.0.1 is not reachable and
// receives nothing.
func TestSandboxNetwork(t *testing.T) {
	b := newBox(t, Limits{})
	ln := listen(t)
	res, err := runIn(t, b, `cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '`)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(res.stdout)); got != "lo" {
		t.Errorf("interfaces inside: %q; want only lo", got)
	}
	if _, err := exec.LookPath("bash"); err == nil {
		res, err = runIn(t, b, fmt.Sprintf(`bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d && echo connected' 2>&1; true`, ln.port))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(res.stdout), "connected") {
			t.Errorf("a connection to the host's 127.0.0.1:%d succeeded inside the sandbox", ln.port)
		}
	}
	ln.none(t)
}

// TestSandboxFilesystem: the root is read-only and shows /usr but not
// the host's home, spool or working directory; /tmp is private.
func TestSandboxFilesystem(t *testing.T) {
	b := newBox(t, Limits{})
	wd, _ := os.Getwd()
	marker := filepath.Join(os.TempDir(), fmt.Sprintf("officepdf-host-%d", rand.Int64()))
	if err := os.WriteFile(marker, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(marker)
	script := `for p in / /usr /usr/lib /etc /tmp; do if touch "$p/.w" 2>/dev/null; then echo "writable $p"; fi; done
for p in "$@"; do if [ -e "$p" ]; then echo "visible $p"; fi; done
[ -x /usr/bin/sh ] || echo "no /usr"`
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := b.run(ctx, nil, []string{"/bin/sh", "-c", script, "sh", wd, marker, "/root", "/home", "/var/spool", "/etc/passwd", "/etc/shadow"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(res.stdout)); got != "writable /tmp" {
		t.Errorf("inside the sandbox:\n%s\nwant only: writable /tmp", got)
	}
}

// TestSandboxIdentity: no capabilities inside, no user namespace can be
// made there; as root outside, the processes are nobody's (as the host
// sees them).
func TestSandboxIdentity(t *testing.T) {
	b := newBox(t, Limits{})
	res, err := runIn(t, b, `grep -E '^(CapEff|CapPrm|CapBnd):' /proc/self/status | tr -s '\t ' ' '
if unshare -U -n true 2>/dev/null; then echo "nested user namespace"; fi`)
	if err != nil {
		t.Fatal(err)
	}
	out := string(res.stdout)
	for _, c := range []string{"CapEff:", "CapPrm:", "CapBnd:"} {
		if !strings.Contains(out, c+" 0000000000000000") {
			t.Errorf("%s not empty:\n%s", c, out)
		}
	}
	if strings.Contains(out, "nested") {
		t.Error("a user namespace could be made inside the sandbox")
	}
	if os.Geteuid() != 0 {
		return
	}
	mark := fmt.Sprintf("2%d.%06d", rand.IntN(100), rand.IntN(1e6))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.run(ctx, nil, []string{"/bin/sh", "-c", "sleep " + mark})
	}()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, p := range procsWith(mark) {
			pid := strings.SplitN(p, ":", 2)[0]
			st, _ := os.ReadFile(filepath.Join("/proc", pid, "status"))
			for _, line := range strings.Split(string(st), "\n") {
				if strings.HasPrefix(line, "Uid:") {
					if f := strings.Fields(line); len(f) < 2 || f[1] != fmt.Sprint(nobody) {
						t.Errorf("process %s (%s) runs as %q on the host; want uid %d", pid, p, line, nobody)
					}
					return
				}
			}
		}
	}
	t.Fatal("the sandboxed process was not seen")
}

// TestSandboxLimits: the rlimits are in force inside and a larger file
// than FileSize cannot be written; stdout is cut at Output.
func TestSandboxLimits(t *testing.T) {
	b := newBox(t, Limits{Memory: 1 << 30, CPU: 7 * time.Second, FileSize: 1 << 20, Output: 1000})
	res, err := runIn(t, b, `grep -E '^Max (cpu time|file size|address space)' /proc/self/limits | tr -s ' ' >&2
head -c 2000000 /dev/zero > /tmp/big 2>/dev/null; wc -c < /tmp/big >&2; head -c 5000 /dev/zero`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Max cpu time 7 7 seconds", "Max file size 1048576 1048576 bytes", "Max address space 1073741824 1073741824 bytes", "\n1048576"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("limits inside:\n%s\nwant %q", res.stderr, want)
		}
	}
	if !res.overflow || len(res.stdout) != 1000 {
		t.Errorf("stdout: %d bytes, overflow %v; want 1000, true", len(res.stdout), res.overflow)
	}
}

// TestSandboxNothingLeft: processes started inside, in the background,
// in sessions of their own, are gone once run returns: after success and
// after the deadline killed the run.
func TestSandboxNothingLeft(t *testing.T) {
	b := newBox(t, Limits{})
	for _, tt := range []struct {
		name   string
		script string
		wait   time.Duration
	}{
		{"exits at once", `(setsid sleep %s &) ; (sleep %s &) ; echo started`, 20 * time.Second},
		{"killed by the deadline", `(setsid sleep %s &) ; sleep %s`, time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mark := fmt.Sprintf("3%d.%06d", rand.IntN(100), rand.IntN(1e6)) // a sleep time no other process has
			ctx, cancel := context.WithTimeout(context.Background(), tt.wait)
			defer cancel()
			start := time.Now()
			_, err := b.run(ctx, nil, []string{"/bin/sh", "-c", fmt.Sprintf(tt.script, mark, mark)})
			t.Logf("returned after %v: %v", time.Since(start).Round(time.Millisecond), err)
			if left := waitGone(mark, 2*time.Second); len(left) > 0 {
				t.Errorf("processes left behind: %v", left)
			}
		})
	}
}

// waitGone waits up to d for every process whose command line holds mark
// to be gone (the kernel tears a PID namespace down asynchronously after
// a kill), and returns those still there.
func waitGone(mark string, d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		left := procsWith(mark)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// procsWith lists the processes whose command line holds mark and that
// this test process started (ownerEnv in their environment): another
// package's tests converting at the same time are not ours. A process
// whose environment cannot be read counts.
func procsWith(mark string) []string {
	var left []string
	ents, _ := os.ReadDir("/proc")
	own := ownerEnv + "=" + ownerPID + "\x00"
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(b), mark) {
			continue
		}
		if env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ")); err == nil && !strings.Contains("\x00"+string(env), "\x00"+own) {
			continue
		}
		left = append(left, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
	}
	return left
}

// listener is a TCP listener on the host's 127.0.0.1 that counts
// connections: nothing from a sandboxed document may reach it.
type listener struct {
	port int
	hits chan string
}

func listen(t *testing.T) *listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	l := &listener{port: ln.Addr().(*net.TCPAddr).Port, hits: make(chan string, 100)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 200)
			c.SetReadDeadline(time.Now().Add(time.Second))
			n, _ := c.Read(buf)
			c.Write([]byte("HTTP/1.0 404 Not Found\r\n\r\n"))
			c.Close()
			l.hits <- lastLine(strings.SplitN(string(buf[:n]), "\r\n", 2)[0])
		}
	}()
	return l
}

// none fails t if any connection arrived.
func (l *listener) none(t *testing.T) {
	t.Helper()
	select {
	case h := <-l.hits:
		t.Errorf("the host's listener got a connection: %q", h)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestProcsWithOwnsOnly: the leftover check sees a process this test
// process started with its owner mark, and not one another gateway (or
// test binary) started.
func TestProcsWithOwnsOnly(t *testing.T) {
	mark := fmt.Sprintf("4%d.%06d", rand.IntN(100), rand.IntN(1e6))
	start := func(owner string) *exec.Cmd {
		c := exec.Command("sleep", mark)
		c.Env = []string{ownerEnv + "=" + owner}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
		return c
	}
	other := start("1")
	if left := procsWith(mark); len(left) != 0 {
		t.Errorf("another owner's process counted: %v", left)
	}
	ours := start(ownerPID)
	left := procsWith(mark)
	if len(left) != 1 || !strings.HasPrefix(left[0], strconv.Itoa(ours.Process.Pid)+":") {
		t.Errorf("procsWith = %v, want only our process %d (not %d)", left, ours.Process.Pid, other.Process.Pid)
	}
}
