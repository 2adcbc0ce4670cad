//go:build perf

package interop

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"mugai/gateway/load"
)

var (
	phasesRounds = flag.Int("phases.rounds", 10, "rounds of the phase probe; each sends phases.n messages to each target in turn (the first round is a warm-up)")
	phasesN      = flag.Int("phases.n", 50, "messages per target per round of the phase probe")
	phasesAlt    = flag.String("phases.alt", "", "a second mugai binary, measured beside the first (same policy): an A/B of two builds")
	phasesAltCfg = flag.String("phases.altconfig", "", "more top-level configuration lines for the second mugai (an A/B of two settings)")
	phasesAltEnv = flag.String("phases.altenv", "", "environment for the second mugai, NAME=value[,NAME=value] (an A/B of runtime settings such as GOGC)")
)

// phaseNames are the steps of one SMTP session as a single sender sees
// them; "body→250" runs from the first byte of the message to the reply
// to its final dot.
var phaseNames = []string{"connect+banner", "EHLO", "MAIL", "RCPT", "DATA", "body→250", "QUIT", "total"}

// oneSession sends msg (dot-stuffed, ending in CRLF.CRLF) in one session
// of its own, as smtp-source does, and returns how long each phase took.
func oneSession(t *testing.T, addr string, msg []byte) []time.Duration {
	t.Helper()
	start := time.Now()
	mark := start
	var d []time.Duration
	step := func() {
		now := time.Now()
		d = append(d, now.Sub(mark))
		mark = now
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	reply := func(after string) {
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("%s, after %s: %v", addr, after, err)
			}
			if l[0] >= '4' {
				t.Fatalf("%s, after %s: %s", addr, after, l)
			}
			if len(l) < 4 || l[3] != '-' {
				return
			}
		}
	}
	send := func(b []byte, what string) {
		if _, err := c.Write(b); err != nil {
			t.Fatalf("%s, %s: %v", addr, what, err)
		}
		reply(what)
		step()
	}
	reply("connect")
	step()
	for _, cmd := range []string{"EHLO source.test", "MAIL FROM:<sender@example.jp>", "RCPT TO:<staff@city.example>", "DATA"} {
		send([]byte(cmd+"\r\n"), cmd)
	}
	send(msg, "the message")
	send([]byte("QUIT\r\n"), "QUIT")
	return append(d, time.Since(start))
}

// TestPhases is the second half of make perf: where a single sender's
// time goes, Postfix against mugai (strict policy), phase by phase,
// medians over the rounds. The targets take turns, phases.n sessions
// each, so the machine's drift weighs on both alike. With -phases.alt
// a second mugai build is measured beside the first.
func TestPhases(t *testing.T) {
	dir := workDir(t, "mugai-phases-")
	msg := append(bytes.ReplaceAll(load.Realistic(), []byte("\r\n."), []byte("\r\n..")), ".\r\n"...)
	_, pf, deliver := startRig(t, dir)
	cfg := deliver + strictPolicy(t)
	type target struct{ name, addr string }
	targets := []target{{"Postfix relay", pf.Addr()}, {"mugai, strict", startMugai(t, dir, freePort(t), cfg).addr}}
	if *phasesAlt != "" || *phasesAltCfg != "" || *phasesAltEnv != "" {
		keep := *mugaiBin
		if *phasesAlt != "" {
			*mugaiBin = *phasesAlt
		}
		if *phasesAltEnv != "" {
			for _, kv := range strings.Split(*phasesAltEnv, ",") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Fatalf("-phases.altenv: %q is not NAME=value", kv)
				}
				t.Setenv(k, v) // the child inherits it; the first mugai has started already
			}
		}
		alt := startMugai(t, dir, freePort(t), cfg+*phasesAltCfg+"\n")
		*mugaiBin = keep
		targets = append(targets, target{"mugai, strict (alt)", alt.addr})
	}
	res := make([][][]time.Duration, len(targets))
	for round := range *phasesRounds {
		for i, tg := range targets {
			for range *phasesN {
				d := oneSession(t, tg.addr, msg)
				if round > 0 {
					res[i] = append(res[i], d)
				}
			}
		}
	}
	fmt.Printf("\none sender, one message per session: median µs per phase over %d sessions each\n", len(res[0]))
	fmt.Printf("%-22s", "target")
	for _, p := range phaseNames {
		fmt.Printf(" %10s", p)
	}
	fmt.Println()
	for i, tg := range targets {
		var b strings.Builder
		fmt.Fprintf(&b, "%-22s", tg.name)
		for p := range phaseNames {
			v := make([]time.Duration, 0, len(res[i]))
			for _, d := range res[i] {
				v = append(v, d[p])
			}
			slices.Sort(v)
			fmt.Fprintf(&b, " %10d", v[len(v)/2].Microseconds())
		}
		fmt.Println(b.String())
	}
	// A sender's throughput follows the mean, which the slow tail moves
	// while the medians above do not.
	fmt.Printf("\n%-22s %10s %10s %10s %10s\n", "total per session", "mean", "p90", "p99", "max")
	for i, tg := range targets {
		v := make([]time.Duration, 0, len(res[i]))
		var sum time.Duration
		for _, d := range res[i] {
			v = append(v, d[len(d)-1])
			sum += d[len(d)-1]
		}
		slices.Sort(v)
		fmt.Printf("%-22s %10d %10d %10d %10d\n", tg.name, (sum / time.Duration(len(v))).Microseconds(),
			v[len(v)*9/10].Microseconds(), v[len(v)*99/100].Microseconds(), v[len(v)-1].Microseconds())
	}
}
