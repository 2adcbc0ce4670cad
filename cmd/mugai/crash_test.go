package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// recorder is the next hop of the crash test: it counts deliveries per
// message token and keeps the gateway ids it received.
type recorder struct {
	mu   sync.Mutex
	seen map[string]int
	ids  map[string]bool
}

var (
	tokenRe = regexp.MustCompile(`crash-token-\d+`)
	idRe    = regexp.MustCompile(`(?m)^X-Mugai-Id: (\S+)\r?$`)
)

func (r *recorder) NewSession(*smtp.Conn) (smtp.Session, error) { return &recSession{r: r}, nil }

type recSession struct{ r *recorder }

func (s *recSession) Reset()                               {}
func (s *recSession) Logout() error                        { return nil }
func (s *recSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *recSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *recSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if tok := tokenRe.Find(b); tok != nil {
		s.r.seen[string(tok)]++
	}
	if m := idRe.FindSubmatch(b); m != nil && s.r.ids != nil {
		s.r.ids[string(m[1])] = true
	}
	return nil
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestCrash is the durability proof: a real mugai process is killed with
// SIGKILL at random moments while clients send, and restarted; every
// message that got a 250 must reach the next hop (loss 0), and every
// message the next hop received has its received and decision records
// in the audit log (written with its commit, or rewritten by the next
// start's recovery). Duplicates are allowed by SMTP's at-least-once
// contract and reported.
func TestCrash(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "mugai")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	rec := &recorder{seen: map[string]int{}, ids: map[string]bool{}}
	hop := smtp.NewServer(rec)
	hop.Domain = "next-hop.test"
	hl, _ := net.Listen("tcp", "127.0.0.1:0")
	go hop.Serve(hl)
	defer hop.Close()

	listen := freePort(t)
	cfg := filepath.Join(dir, "mugai.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`listen: %q
hostname: `+crashHost+`
deliver:
  relay: %q
  retry_min: 100ms
  retry_max: 300ms
  workers: 4
spool: %q
originals: %q
audit: %q
cache: %q
backpressure:
  min_free_bytes: 0
portal:
  listen: ""
`, listen, hl.Addr().String(), filepath.Join(dir, "spool"), filepath.Join(dir, "originals"),
		filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "cache"))), 0o644)

	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "-config", cfg)
		logf, _ := os.OpenFile(filepath.Join(dir, "serve.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		cmd.Stderr = logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 100; i++ { // wait until it listens
			if c, err := net.Dial("tcp", listen); err == nil {
				c.Close()
				return cmd
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatal("mugai did not start")
		return nil
	}

	var mu sync.Mutex
	accepted := map[string]bool{}
	sendErrs := map[string]int{} // refused or cut off by the kill: allowed, reported
	next := 0
	rng := rand.New(rand.NewPCG(42, 1))
	const cycles = 10
	for cycle := 0; cycle < cycles; cycle++ {
		cmd := start()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					next++
					tok := fmt.Sprintf("crash-token-%d", next)
					mu.Unlock()
					msg := "From: a@example.jp\r\nTo: b@city.example.lg.jp\r\nSubject: " + tok + "\r\n\r\nbody of " + tok + "\r\n"
					err := sendCrash(listen, msg)
					mu.Lock()
					if err == nil {
						accepted[tok] = true
					} else {
						sendErrs[errorClass(err)]++
					}
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(200+rng.IntN(600)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL) // no shutdown, no flush: a power cut
		cmd.Wait()
		close(stop)
		wg.Wait()
	}
	// A last run delivers whatever the spool still holds.
	cmd := start()
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		rec.mu.Lock()
		missing := 0
		for tok := range accepted {
			if rec.seen[tok] == 0 {
				missing++
			}
		}
		dups := 0
		for _, n := range rec.seen {
			if n > 1 {
				dups += n - 1
			}
		}
		rec.mu.Unlock()
		if missing == 0 {
			t.Logf("%d messages acknowledged across %d SIGKILLs, all delivered; %d duplicate deliveries; not acknowledged: %v", len(accepted), cycles, dups, sendErrs)
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "serve.log"))
			t.Fatalf("%d of %d acknowledged messages were lost\n%s", missing, len(accepted), tail(string(log), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(accepted) < 20 {
		t.Errorf("only %d messages were acknowledged: the test did not exercise much", len(accepted))
	}
	checkAudited(t, filepath.Join(dir, "audit.jsonl"), rec)
}

// checkAudited: every message the next hop received has its received and
// decision records in the audit log.
func checkAudited(t *testing.T, path string, rec *recorder) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type record struct {
		Event     string `json:"event"`
		ID        string `json:"id"`
		Recovered bool   `json:"recovered"`
	}
	has := map[string]map[string]bool{}
	recovered, torn := 0, 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			torn++ // a line a kill cut short
			continue
		}
		if has[r.ID] == nil {
			has[r.ID] = map[string]bool{}
		}
		has[r.ID][r.Event] = true
		if r.Recovered && r.Event == "received" {
			recovered++
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var unaudited []string
	for id := range rec.ids {
		if !has[id]["received"] || !has[id]["decision"] {
			unaudited = append(unaudited, id)
		}
	}
	t.Logf("audit: %d messages received by the next hop checked, %d of them with recovered records; %d torn lines", len(rec.ids), recovered, torn)
	if len(unaudited) > 0 {
		t.Errorf("%d of %d messages reached the next hop without received and decision records: %v", len(unaudited), len(rec.ids), unaudited)
	}
	if len(rec.ids) == 0 {
		t.Error("the next hop received no gateway id: the check checked nothing")
	}
}

// crashHost names the crash test's gateway in its greeting. While the
// gateway is down between a kill and its restart, its port is free, and a
// test of another package running at the same time can be given it for
// a listener of its own: send talks only to a server that greets with
// this name, so the clients never deliver into another test's gateway.
const crashHost = "crash-test.mugai.test"

// replayConn gives the SMTP client the greeting send has already read.
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c replayConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// errNotOurs is a server on the crash test's port that is not its gateway.
var errNotOurs = errors.New("not the crash test's gateway")

// send delivers one message without TLS (go-smtp's SendMail insists on
// STARTTLS).
func send(addr, msg string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	return deliver(c, msg)
}

// deliver sends msg on c and closes it.
func deliver(c *smtp.Client, msg string) error {
	defer c.Close()
	if err := c.SendMail("a@example.jp", []string{"b@city.example.lg.jp"}, strings.NewReader(msg)); err != nil {
		return err
	}
	c.Quit()
	return nil
}

// sendCrash is send to the crash test's gateway only.
func sendCrash(addr, msg string) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	br := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	greeting, err := br.ReadString('\n')
	conn.SetReadDeadline(time.Time{})
	if err != nil {
		conn.Close()
		return err
	}
	if !strings.HasPrefix(greeting, "220 "+crashHost+" ") {
		conn.Close()
		return errNotOurs
	}
	return deliver(smtp.NewClient(replayConn{Conn: conn, r: io.MultiReader(strings.NewReader(greeting), br)}), msg)
}

// errorClass groups the client errors a kill causes.
func errorClass(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "connection refused"):
		return "server down"
	case strings.Contains(s, "EOF"), strings.Contains(s, "reset"), strings.Contains(s, "broken pipe"), strings.Contains(s, "read tcp"):
		return "cut off by the kill"
	}
	return s
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
