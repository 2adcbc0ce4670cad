//go:build interop || perf

package interop

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var mugaiBin = flag.String("mugai", "", "the mugai binary to run (default: built from ./cmd/mugai into the test's directory)")

// workDir is a temp directory the postfix user can traverse (Postfix's
// queue lives below it), removed at the end unless the test failed.
func workDir(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kept %s for inspection", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return dir
}

// mugaiProc is a mugai serve child process.
type mugaiProc struct {
	addr, audit string
	cmd         *exec.Cmd
}

// startMugai runs mugai serve on 127.0.0.1:port with its state under
// dir/mugai and the given configuration (the deliver section and any
// other top-level keys), and accept (more lines of the accept section,
// indented); it is stopped with SIGTERM at cleanup.
func startMugai(t *testing.T, dir string, port int, extra string, accept ...string) *mugaiProc {
	t.Helper()
	bin := *mugaiBin
	if bin == "" {
		bin = filepath.Join(dir, "mugai-bin")
		if _, err := os.Stat(bin); err != nil {
			out, err := exec.Command("go", "build", "-o", bin, "mugai/cmd/mugai").CombinedOutput()
			if err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
		}
	}
	md, err := os.MkdirTemp(dir, "mugai-")
	if err != nil {
		t.Fatal(err)
	}
	m := &mugaiProc{addr: "127.0.0.1:" + strconv.Itoa(port), audit: filepath.Join(md, "audit.jsonl")}
	cfg := fmt.Sprintf(`listen: %q
hostname: mugai.test
accept:
  networks: ["127.0.0.1/32"]
  domains: ["city.example"]
%sspool: %q
originals: %q
audit: %q
cache: %q
portal:
  listen: ""
`, m.addr, strings.Join(accept, ""), filepath.Join(md, "spool"), filepath.Join(md, "originals"), m.audit, filepath.Join(md, "cache")) + extra
	cfgFile := filepath.Join(md, "mugai.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(md, "mugai.log"))
	if err != nil {
		t.Fatal(err)
	}
	m.cmd = exec.Command(bin, "serve", "-config", cfgFile)
	m.cmd.Stdout, m.cmd.Stderr = logf, logf
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = m.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- m.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("mugai exited: %v", err)
			}
		case <-time.After(20 * time.Second):
			_ = m.cmd.Process.Kill()
			t.Errorf("mugai did not stop within 20 s of SIGTERM")
		}
		logf.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", m.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return m
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("mugai not listening on %s: %v\n%s", m.addr, err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func (m *mugaiProc) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
