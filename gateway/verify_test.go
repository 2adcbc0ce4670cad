package gateway

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// counterValue reads one counter.
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

func rcptTestLog(t testing.TB) *slog.Logger { return slog.New(slog.NewTextHandler(tWriter{t}, nil)) }

// knownUsers makes the next hop refuse every recipient outside users with
// 550 5.1.1, counting the RCPTs it is asked (probes), and holding each
// answer for delay.
func knownUsers(h *nextHop, probes *atomic.Int64, delay time.Duration, users ...string) {
	h.rcptReply = func(rcpt string) error {
		probes.Add(1)
		time.Sleep(delay)
		for _, u := range users {
			if strings.EqualFold(rcpt, u) {
				return nil
			}
		}
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "User unknown in virtual mailbox table"}
	}
}

// testVerifier is a verifier of relay with the test clock *now.
func testVerifier(t *testing.T, relay string, now *time.Time, mutate func(*Accept)) *verifier {
	t.Helper()
	cfg := Defaults()
	cfg.Deliver.Relay, cfg.Deliver.TLS = relay, TLSNone
	cfg.Accept.VerifyRecipients = true
	cfg.Accept.VerifyTimeout = Duration(2 * time.Second)
	if mutate != nil {
		mutate(&cfg.Accept)
	}
	var mu sync.Mutex
	return newVerifier(cfg, nil, func() time.Time { mu.Lock(); defer mu.Unlock(); return *now })
}

func TestVerifyCaches(t *testing.T) {
	h := startNextHop(t)
	var probes atomic.Int64
	knownUsers(h, &probes, 0, "staff@city.example")
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	v := testVerifier(t, h.addr, &now, nil) // positive 7d, negative 3h
	ctx := context.Background()
	steps := []struct {
		what    string
		addr    string
		advance time.Duration
		want    verdict
		probes  int64 // total so far
	}{
		// first questions probe; the answers are cached, case-insensitively
		{"known", "staff@city.example", 0, verdictValid, 1},
		{"unknown", "nobody@city.example", 0, verdictUnknown, 2},
		{"known, cached", "STAFF@city.example", 0, verdictValid, 2},
		{"unknown, cached", "nobody@City.Example", 0, verdictUnknown, 2},
		// the negative answer expires after 3h, the positive one after 7d
		{"unknown after 3h", "nobody@city.example", 3 * time.Hour, verdictUnknown, 3},
		{"known after 3h, cached", "staff@city.example", 0, verdictValid, 3},
		{"known after 7d", "staff@city.example", 7 * 24 * time.Hour, verdictValid, 4},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		res := v.verify(ctx, s.addr)
		if res.verdict != s.want || probes.Load() != s.probes {
			t.Fatalf("%s: %v (%q) after %d probes, want %v after %d", s.what, res.verdict, res.reply, probes.Load(), s.want, s.probes)
		}
	}
	if got := counterValue(v.lookups.WithLabelValues("hit_valid")); got != 2 {
		t.Errorf("hit_valid = %v, want 2", got)
	}
	if got := counterValue(v.probes.WithLabelValues("unknown")); got != 2 {
		t.Errorf("unknown probes = %v, want 2", got)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.attempts != 0 {
		t.Errorf("a probe sent DATA %d times", h.attempts)
	}
}

func TestVerifyCacheBounded(t *testing.T) {
	c := newVerifyCache(2)
	now := time.Now()
	for _, k := range []string{"a", "b"} {
		c.put(k, verifyResult{verdict: verdictValid}, now.Add(time.Hour))
	}
	c.get("a", now) // a is now the most recently used
	c.put("c", verifyResult{verdict: verdictUnknown}, now.Add(time.Hour))
	if _, ok := c.get("b", now); ok || c.len() != 2 {
		t.Fatalf("b (least recently used) still held, or %d entries", c.len())
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.get(k, now); !ok {
			t.Errorf("%s dropped", k)
		}
	}
	if _, ok := c.get("a", now.Add(time.Hour)); ok || c.len() != 1 {
		t.Errorf("expired entry returned, or not removed (%d entries)", c.len())
	}
}

// TestVerifyCollapses: concurrent questions about one address share one
// probe.
func TestVerifyCollapses(t *testing.T) {
	h := startNextHop(t)
	var probes atomic.Int64
	knownUsers(h, &probes, 300*time.Millisecond, "staff@city.example")
	now := time.Now()
	v := testVerifier(t, h.addr, &now, nil)
	var wg sync.WaitGroup
	results := make([]verdict, 10)
	for i := range results {
		wg.Go(func() { results[i] = v.verify(context.Background(), "Staff@city.example").verdict })
	}
	wg.Wait()
	for i, r := range results {
		if r != verdictValid {
			t.Errorf("caller %d: %v", i, r)
		}
	}
	if n := probes.Load(); n != 1 {
		t.Errorf("%d probes for 10 concurrent questions, want 1", n)
	}
	if got := counterValue(v.lookups.WithLabelValues("joined")); got != 9 {
		t.Errorf("joined = %v, want 9", got)
	}
}

// countingConn counts itself open from dial to its first Close.
type countingConn struct {
	net.Conn
	once sync.Once
	open *atomic.Int64
}

func (c *countingConn) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}

// TestVerifyBoundedProbes: different addresses are probed at most
// deliver.workers at a time; one that cannot get a slot within the
// timeout is undecided.
//
// What is bounded is the connections the verifier holds open to the next
// hop, counted at its dialer. (The next hop's RCPT handlers are not the
// measure: a probe cut off at its timeout closes its connection and frees
// its slot while the next hop's handler may still sleep, unaware, and a
// slow machine then showed three handlers at once.)
func TestVerifyBoundedProbes(t *testing.T) {
	h := startNextHop(t)
	h.rcptReply = func(string) error {
		time.Sleep(150 * time.Millisecond)
		return nil
	}
	now := time.Now()
	cfg := Defaults()
	cfg.Deliver.Relay, cfg.Deliver.Workers = h.addr, 2
	cfg.Accept.VerifyTimeout = Duration(time.Second)
	cfg.Accept.VerifyRate = 100 // this test is about the slots, not the rate
	v := newVerifier(cfg, nil, func() time.Time { return now })
	var open, most atomic.Int64
	dial := v.dial
	v.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		n := open.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		return &countingConn{Conn: conn, open: &open}, nil
	}
	var wg sync.WaitGroup
	var valid, undecided atomic.Int64
	for i := range 20 {
		wg.Go(func() {
			switch v.verify(context.Background(), fmt.Sprintf("user%d@city.example", i)).verdict {
			case verdictValid:
				valid.Add(1)
			case verdictUndecided:
				undecided.Add(1)
			}
		})
	}
	wg.Wait()
	if most.Load() != 2 {
		t.Errorf("%d probe connections open at once, want deliver.workers = 2", most.Load())
	}
	// 2 slots × 1 s / 150 ms: at most 14 fit (fewer on a slow machine);
	// the rest must be undecided, never valid unasked.
	if valid.Load()+undecided.Load() != 20 || valid.Load() < 4 || undecided.Load() < 6 {
		t.Errorf("%d valid, %d undecided of 20", valid.Load(), undecided.Load())
	}
}

// TestVerifyUndecided: whatever keeps the next hop from deciding is
// undecided, and not cached.
func TestVerifyUndecided(t *testing.T) {
	// a next hop that answers 4xx to RCPT
	h := startNextHop(t)
	var probes atomic.Int64
	h.rcptReply = func(string) error {
		probes.Add(1)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	}
	// a next hop that refuses the null sender: says nothing of the recipient
	noNull := scriptedHop(t, func(cmd string) string {
		if strings.HasPrefix(cmd, "MAIL") {
			return "550 5.7.1 null sender refused"
		}
		return "250 ok"
	})
	// a next hop that greets and then never answers (a hung MTA)
	hung := scriptedHop(t, func(string) string { select {} })
	// a port nobody listens on
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := closed.Addr().String()
	closed.Close()

	now := time.Now()
	for _, c := range []struct {
		name, relay string
		want        string // in the reply
	}{
		{"4xx", h.addr, "451 4.3.0 try later"},
		{"MAIL 5xx", noNull, "MAIL: 550 5.7.1 null sender refused"},
		{"hung", hung, "connect:"},
		{"refused", refused, "connection refused"},
	} {
		v := testVerifier(t, c.relay, &now, func(a *Accept) { a.VerifyTimeout = Duration(300 * time.Millisecond) })
		started := time.Now()
		for range 2 {
			res := v.verify(context.Background(), "staff@city.example")
			if res.verdict != verdictUndecided || !strings.Contains(res.reply, c.want) {
				t.Errorf("%s: %v %q, want undecided with %q", c.name, res.verdict, res.reply, c.want)
			}
		}
		if took := time.Since(started); took > 3*time.Second {
			t.Errorf("%s: two probes took %v with a 300ms timeout", c.name, took)
		}
		if got := counterValue(v.probes.WithLabelValues("undecided")); got != 2 {
			t.Errorf("%s: %v undecided probes, want 2 (undecided is not cached)", c.name, got)
		}
	}
	if probes.Load() != 2 {
		t.Errorf("the 4xx next hop was asked %d times, want 2", probes.Load())
	}
}

// scriptedHop is a raw SMTP server on 127.0.0.1:0 that greets, then
// answers each command line with reply(line) (QUIT: 221 and close).
func scriptedHop(t *testing.T, reply func(cmd string) string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				fmt.Fprintf(c, "220 scripted.test ESMTP\r\n")
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					if strings.HasPrefix(strings.ToUpper(sc.Text()), "QUIT") {
						fmt.Fprintf(c, "221 bye\r\n")
						return
					}
					fmt.Fprintf(c, "%s\r\n", reply(strings.ToUpper(sc.Text())))
				}
			}()
		}
	}()
	return l.Addr().String()
}

// TestVerifyRateLimited: past accept.verify_rate (a burst of twice it)
// no probe is started: the answer is undecided (450, not cached) and
// the next hop sees no connection; time refills the bucket.
func TestVerifyRateLimited(t *testing.T) {
	h := startNextHop(t)
	var asked atomic.Int64
	h.rcptReply = func(string) error { asked.Add(1); return nil }
	now := time.Now()
	cfg := Defaults()
	cfg.Deliver.Relay = h.addr
	cfg.Accept.VerifyRate = 1
	v := newVerifier(cfg, nil, func() time.Time { return now })
	verdicts := map[verdict]int{}
	for i := range 5 {
		verdicts[v.verify(context.Background(), fmt.Sprintf("user%d@city.example", i)).verdict]++
	}
	if verdicts[verdictValid] != 2 || verdicts[verdictUndecided] != 3 || asked.Load() != 2 {
		t.Fatalf("verdicts %v, next hop asked %d times; want 2 valid (the burst), 3 undecided, 2 asked", verdicts, asked.Load())
	}
	if got := counterValue(v.probes.WithLabelValues("limited")); got != 3 {
		t.Errorf("limited probes %v, want 3", got)
	}
	if res := v.verify(context.Background(), "user4@city.example"); res.verdict != verdictUndecided || !strings.Contains(res.reply, "accept.verify_rate") {
		t.Errorf("a limited answer was cached or says nothing: %+v", res)
	}
	now = now.Add(time.Second)
	if res := v.verify(context.Background(), "user4@city.example"); res.verdict != verdictValid || asked.Load() != 3 {
		t.Errorf("after a second: %+v, asked %d", res, asked.Load())
	}
}
