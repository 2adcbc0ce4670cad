//go:build perf

package interop

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mugai/gateway/load"
)

var (
	perfRuns    = flag.Int("perf.runs", 3, "runs of each measurement (the median is reported)")
	perfN1      = flag.Int("perf.n1", 1000, "messages per run with 1 session")
	perfN20     = flag.Int("perf.n20", 1000, "messages per run with 20 sessions")
	perfDefault = flag.Int("perf.default", 100, "messages per run through the default policy (PDF flattened)")
	perfOnly    = flag.String("perf.only", "", "measure only the targets whose name contains this")
)

// sink is smtp-sink on a 127.0.0.1 port, its message counter read from
// its -c output.
type sink struct {
	port  int
	count atomic.Int64
}

var mesgCount = regexp.MustCompile(`mesg=(\d+)`)

func startSink(t *testing.T) *sink {
	t.Helper()
	ports, err := FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	port := ports[0]
	s := &sink{port: port}
	cmd := exec.Command("smtp-sink", "-u", "nobody", "-c", "127.0.0.1:"+strconv.Itoa(port), "1024")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	go func() {
		r := bufio.NewReader(out)
		for {
			chunk, err := r.ReadString('\r')
			if m := mesgCount.FindStringSubmatch(chunk); m != nil {
				n, _ := strconv.ParseInt(m[1], 10, 64)
				s.count.Store(n)
			}
			if err != nil {
				return
			}
		}
	}()
	p := &Postfix{Port: port}
	if err := p.waitListening(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	return s
}

// machineCPU is the CPU time the whole machine has spent (user, nice,
// system, irq, softirq), from /proc/stat.
func machineCPU() time.Duration {
	b, _ := os.ReadFile("/proc/stat")
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} {
		if i < len(f) {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			ticks += v
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

type runResult struct {
	accept, e2e float64       // messages per second: until smtp-source ends; until the sink has them all
	cpu         time.Duration // machine CPU per message
	own         time.Duration // the mugai process's CPU per message; 0: not mugai
}

// run sends n copies of the message with smtp-source over the given
// sessions, one message per session, and waits for the sink to count them.
func run(t *testing.T, target string, s *sink, msgFile string, sessions, n int) runResult {
	t.Helper()
	before := s.count.Load()
	cpu0 := machineCPU()
	start := time.Now()
	cmd := exec.Command("smtp-source", "-s", strconv.Itoa(sessions), "-m", strconv.Itoa(n), "-F", msgFile,
		"-f", "sender@example.jp", "-t", "staff@city.example", "-M", "source.test", target)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("smtp-source to %s: %v\n%s", target, err, stderr.String())
	}
	accepted := time.Since(start)
	deadline := time.Now().Add(10*time.Minute + time.Duration(n)*time.Second)
	for s.count.Load() < before+int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("the sink has %d of %d messages", s.count.Load()-before, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
	e2e := time.Since(start)
	return runResult{
		accept: float64(n) / accepted.Seconds(),
		e2e:    float64(n) / e2e.Seconds(),
		cpu:    (machineCPU() - cpu0) / time.Duration(n),
	}
}

// freePort is a port for a service about to listen. Each is asked for
// once the service before it listens, so the kernel cannot hand out one
// of theirs again.
func freePort(t *testing.T) int {
	t.Helper()
	p, err := FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	return p[0]
}

// startRig starts what make perf measures against: smtp-sink, and a plain
// private Postfix relay (state under dir) relaying to it; deliver is the
// deliver section that makes a mugai relay to the sink.
func startRig(t *testing.T, dir string) (sk *sink, relay *Postfix, deliver string) {
	t.Helper()
	sk = startSink(t)
	relay = &Postfix{Dir: filepath.Join(dir, "postfix"), Hostname: "relay.test", Port: freePort(t), Main: map[string]string{
		"relay_domains": "city.example",
		"relayhost":     "[127.0.0.1]:" + strconv.Itoa(sk.port),
	}}
	if err := relay.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = relay.Stop() })
	return sk, relay, fmt.Sprintf("deliver:\n  relay: \"127.0.0.1:%d\"\n  tls: none\n", sk.port)
}

// strictPolicy is the configuration line that selects
// policy/examples/strict.yaml.
func strictPolicy(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../../policy/examples/strict.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("policy: %q\n", p)
}

func median(rs []runResult) runResult {
	pick := func(f func(runResult) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return runResult{
		own:    time.Duration(pick(func(r runResult) float64 { return float64(r.own) })),
		accept: pick(func(r runResult) float64 { return r.accept }),
		e2e:    pick(func(r runResult) float64 { return r.e2e }),
		cpu:    time.Duration(pick(func(r runResult) float64 { return float64(r.cpu) })),
	}
}

// TestPerf is make perf: the reference message through smtp-source →
// X → smtp-sink, where X is nothing (the loopback ceiling), a plain Postfix
// relay, and mugai with the strict and the default policy. Same message,
// same run, medians of -perf.runs runs.
func TestPerf(t *testing.T) {
	if err := Require("smtp-source", "smtp-sink"); err != nil {
		t.Fatal(err)
	}
	dir := workDir(t, "mugai-perf-")
	// smtp-source appends CRLF to each line of the file.
	msg := bytes.ReplaceAll(load.Realistic(), []byte("\r\n"), []byte("\n"))
	msgFile := filepath.Join(dir, "reference.eml")
	if err := os.WriteFile(msgFile, msg, 0o644); err != nil {
		t.Fatal(err)
	}
	sk, pf, deliver := startRig(t, dir)
	strict := startMugai(t, dir, freePort(t), deliver+strictPolicy(t))
	def := startMugai(t, dir, freePort(t), deliver)

	type target struct {
		name, addr string
		n1, n20    int
		mugai      *mugaiProc // nil: not mugai
	}
	targets := []target{
		{"loopback (source → sink)", "127.0.0.1:" + strconv.Itoa(sk.port), *perfN1, *perfN20, nil},
		{"Postfix relay", pf.Addr(), *perfN1, *perfN20, nil},
		{"mugai, strict policy", strict.addr, *perfN1, *perfN20, strict},
		{"mugai, default policy", def.addr, *perfDefault / 5, *perfDefault, def},
	}
	startPeak := map[*mugaiProc]int64{} // VmHWM from start to the 20-session runs
	peak20 := map[*mugaiProc]int64{}    // VmHWM over the 20-session runs (after their warm-up)
	fmt.Printf("reference message %d bytes; %d runs each, medians; CPU is the whole machine's per message (source and sink included), own is mugai's alone\n\n", len(msg), *perfRuns)
	fmt.Printf("%-26s %8s %6s %12s %12s %10s %10s  %s\n", "target", "sessions", "msgs", "accept msg/s", "e2e msg/s", "CPU ms/msg", "own ms/msg", "e2e range")
	results := map[string]runResult{}
	for _, sessions := range []int{1, 20} {
		var active []target
		for _, tg := range targets {
			if strings.Contains(tg.name, *perfOnly) {
				active = append(active, tg)
			}
		}
		// A warm-up of each: connections, caches, the WebAssembly compile.
		for _, tg := range active {
			run(t, tg.addr, sk, msgFile, sessions, max(sessions, 5))
		}
		for _, tg := range active {
			if tg.mugai != nil && sessions == 20 {
				startPeak[tg.mugai] = tg.mugai.peakRSS()
				if err := tg.mugai.resetPeakRSS(); err != nil {
					t.Logf("%s: %v (its peak at 20 sessions includes the start)", tg.name, err)
				}
			}
		}
		// The runs take turns (Postfix, mugai, Postfix, mugai...): the
		// shared machine's load drifts within minutes, and should weigh
		// on every target alike.
		msgs := func(tg target) int {
			if sessions == 20 {
				return tg.n20
			}
			return tg.n1
		}
		rss := make([][]runResult, len(active))
		for range *perfRuns {
			for i, tg := range active {
				n := msgs(tg)
				var own0 time.Duration
				if tg.mugai != nil {
					own0 = tg.mugai.cpu()
				}
				r := run(t, tg.addr, sk, msgFile, sessions, n)
				if tg.mugai != nil {
					r.own = (tg.mugai.cpu() - own0) / time.Duration(n)
				}
				rss[i] = append(rss[i], r)
			}
		}
		for i, tg := range active {
			if tg.mugai != nil && sessions == 20 {
				peak20[tg.mugai] = tg.mugai.peakRSS()
			}
			rs, n := rss[i], msgs(tg)
			m := median(rs)
			results[fmt.Sprint(tg.name, sessions)] = m
			lo, hi := rs[0].e2e, rs[0].e2e
			for _, r := range rs {
				lo, hi = min(lo, r.e2e), max(hi, r.e2e)
			}
			fmt.Printf("%-26s %8d %6d %12.1f %12.1f %10.2f %10.2f  %.0f–%.0f\n", tg.name, sessions, n, m.accept, m.e2e, float64(m.cpu)/float64(time.Millisecond), float64(m.own)/float64(time.Millisecond), lo, hi)
		}
	}
	fmt.Println()
	for _, sessions := range []int{1, 20} {
		pfr, st, df := results[fmt.Sprint("Postfix relay", sessions)], results[fmt.Sprint("mugai, strict policy", sessions)], results[fmt.Sprint("mugai, default policy", sessions)]
		fmt.Printf("%2d sessions: mugai strict / Postfix = %.2f accepted, %.2f end to end; mugai default / Postfix = %.2f end to end\n",
			sessions, st.accept/pfr.accept, st.e2e/pfr.e2e, df.e2e/pfr.e2e)
	}
	for _, sessions := range []int{1, 20} {
		st, df := results[fmt.Sprint("mugai, strict policy", sessions)], results[fmt.Sprint("mugai, default policy", sessions)]
		if st.cpu > 0 && df.cpu > 0 {
			fmt.Printf("%2d sessions: flattening costs %.1f ms of machine CPU per page (default minus strict; the message's PDF has one page)\n",
				sessions, float64(df.cpu-st.cpu)/float64(time.Millisecond))
		}
	}
	// The start includes one-time costs: with the default policy, compiling
	// pdfium's WebAssembly (each run here starts with an empty cache; a
	// gateway keeps its compilation in its cache directory across restarts).
	mb := func(b int64) float64 { return float64(b) / (1 << 20) }
	for _, tg := range targets {
		if p, ok := peak20[tg.mugai]; ok {
			fmt.Printf("peak RSS (VmHWM) of %s: %.0f MB at 20 sessions (after their warm-up); %.0f MB from its start until then (1 session, warm-ups, first compile)\n",
				tg.name, mb(p), mb(startPeak[tg.mugai]))
		}
	}
}

// cpu is the CPU time the process has spent (user and system), from
// /proc/PID/stat; 0 when it cannot be read.
func (m *mugaiProc) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", m.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command name (which may hold spaces):
	// utime and stime are the 14th and 15th of the line.
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// resetPeakRSS starts the process's VmHWM again from its current resident
// set (Linux 4.0 and later; the process must be ours).
func (m *mugaiProc) resetPeakRSS() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", m.cmd.Process.Pid), []byte("5"), 0)
}
