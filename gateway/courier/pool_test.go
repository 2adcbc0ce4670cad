package courier

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// deliverOne sends message n to one recipient and fails the test unless
// want says how it should end: "" delivered, else a substring of the error.
func deliverOne(t *testing.T, c *SMTP, n int, want string) {
	t.Helper()
	msg := fmt.Sprintf("Subject: m%d\r\n\r\nbody %d\r\n", n, n)
	res := c.Deliver(context.Background(), "a@example.jp", []string{"b@city.example.lg.jp"}, []byte(msg))
	switch err := res[0].Err; {
	case want == "" && err != nil:
		t.Fatalf("message %d: %v", n, err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Fatalf("message %d: err = %v, want %q", n, err, want)
	}
}

// waitHop polls cond on the hop's counters for up to 10 s.
func waitHop(t *testing.T, h *hop, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		ok := false
		h.get(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// check fails the test unless the hop saw conns connections, took msgs
// messages, and the courier counted opened and reused.
func check(t *testing.T, h *hop, c *SMTP, conns, msgs int, opened, reused uint64) {
	t.Helper()
	h.get(func() {
		if h.conns != conns || len(h.msgs) != msgs {
			t.Errorf("next hop: %d connections, %d messages; want %d, %d", h.conns, len(h.msgs), conns, msgs)
		}
	})
	if st := c.Stats(); st != (Stats{Opened: opened, Reused: reused}) {
		t.Errorf("stats %+v, want opened %d reused %d", st, opened, reused)
	}
}

func newCourier(h *hop) *SMTP {
	return &SMTP{Addr: h.addr, Hostname: "mugai.test", Timeout: 10 * time.Second}
}

// TestReuseOneConnection: N messages one after the other go over one
// connection, with an RSET before each transaction after the first; each
// message arrives once, in order. CloseIdle says QUIT.
func TestReuseOneConnection(t *testing.T) {
	h := startHop(t, nil)
	c := newCourier(h)
	const n = 10
	for i := range n {
		deliverOne(t, c, i, "")
	}
	check(t, h, c, 1, n, 1, n-1)
	h.get(func() {
		for i, m := range h.msgs {
			if !strings.Contains(m, fmt.Sprintf("body %d\r\n", i)) {
				t.Errorf("message %d at the next hop is %q", i, m)
			}
		}
		if h.cmds["RSET"] != n-1 || h.cmds["QUIT"] != 0 {
			t.Errorf("RSET %d QUIT %d, want %d and 0", h.cmds["RSET"], h.cmds["QUIT"], n-1)
		}
	})
	c.CloseIdle()
	waitHop(t, h, "QUIT and close", func() bool { return h.cmds["QUIT"] == 1 && len(h.live) == 0 })
}

// TestReuseIdleTimeout: an idle connection is closed (QUIT) after the idle
// timeout; the next message opens a new one.
func TestReuseIdleTimeout(t *testing.T) {
	h := startHop(t, nil)
	c := newCourier(h)
	c.Reuse.IdleTimeout = 50 * time.Millisecond
	deliverOne(t, c, 0, "")
	waitHop(t, h, "the idle connection closed", func() bool { return h.cmds["QUIT"] == 1 && len(h.live) == 0 })
	deliverOne(t, c, 1, "")
	check(t, h, c, 2, 2, 2, 0)
}

// TestReuseNextHopClosedIdle: the next hop closed the idle connection; the
// next delivery still succeeds, on one new connection, once.
func TestReuseNextHopClosedIdle(t *testing.T) {
	h := startHop(t, nil)
	c := newCourier(h)
	deliverOne(t, c, 0, "")
	h.dropAll()
	waitHop(t, h, "the drop", func() bool { return len(h.live) == 0 })
	deliverOne(t, c, 1, "")
	check(t, h, c, 2, 2, 2, 0)
}

// TestReuseMailRefusedOnKept: a kept connection whose MAIL is refused
// (421: the next hop's per-connection limit) is given up for one new
// connection within the same attempt; the message arrives once.
func TestReuseMailRefusedOnKept(t *testing.T) {
	h := startHop(t, nil)
	h.mailOnReuse = "421 4.7.0 too many messages on this connection"
	c := newCourier(h)
	deliverOne(t, c, 0, "")
	deliverOne(t, c, 1, "")
	check(t, h, c, 2, 2, 2, 1)
	waitHop(t, h, "the refused connection closed", func() bool { return len(h.live) == 1 })
}

// TestReuseRSETFails: a connection whose RSET is refused is closed, never
// used, and the message goes over a new connection.
func TestReuseRSETFails(t *testing.T) {
	h := startHop(t, nil)
	h.rset = "500 5.5.1 no"
	c := newCourier(h)
	deliverOne(t, c, 0, "")
	deliverOne(t, c, 1, "")
	check(t, h, c, 2, 2, 2, 0)
	h.get(func() {
		if h.cmds["MAIL"] != 2 {
			t.Errorf("MAIL %d times, want 2: a transaction was tried after the failed RSET", h.cmds["MAIL"])
		}
	})
	waitHop(t, h, "the first connection closed", func() bool { return len(h.live) == 1 })
}

// TestNotReusedAfterRefusal: a 4xx or 5xx reply anywhere in a transaction
// (a recipient, the end of DATA) closes the connection: the next message
// opens a new one.
func TestNotReusedAfterRefusal(t *testing.T) {
	for _, tc := range []struct {
		name       string
		set        func(h *hop)
		want       string
		delivered0 int
	}{
		{"451 at end of DATA", func(h *hop) { h.data = "451 4.3.0 try later" }, "451", 0},
		{"554 at end of DATA", func(h *hop) { h.data = "554 5.6.0 no" }, "554", 0},
		{"550 to one recipient", func(h *hop) { h.rcpt = "550 5.1.1 unknown" }, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startHop(t, nil)
			c := newCourier(h)
			c.Reuse.IdleTimeout = time.Hour // only the refusal may close it
			h.get(func() { tc.set(h) })
			if tc.delivered0 == 0 {
				deliverOne(t, c, 0, tc.want)
			} else {
				res := c.Deliver(context.Background(), "a@example.jp", []string{"refuse@city.example.lg.jp", "b@city.example.lg.jp"}, []byte("Subject: x\r\n\r\nx\r\n"))
				if res[0].Err == nil || res[1].Err != nil {
					t.Fatalf("results %+v, want the first refused, the second delivered", res)
				}
			}
			waitHop(t, h, "the refused connection closed", func() bool { return len(h.live) == 0 })
			h.get(func() { h.data, h.rcpt = "", "" })
			deliverOne(t, c, 1, "")
			check(t, h, c, 2, tc.delivered0+1, 2, 0)
		})
	}
}

// TestNoSilentRetryAfterDATA: a kept connection lost after the message
// was sent (no reply to the end of DATA) is a temporary failure of the
// attempt, never a second copy on a new connection.
func TestNoSilentRetryAfterDATA(t *testing.T) {
	h := startHop(t, nil)
	c := newCourier(h)
	deliverOne(t, c, 0, "")
	h.get(func() { h.dropData = true })
	res := c.Deliver(context.Background(), "a@example.jp", []string{"b@city.example.lg.jp"}, []byte("Subject: x\r\n\r\nx\r\n"))
	if res[0].Err == nil || IsPermanent(res[0].Err) {
		t.Fatalf("err = %v, want a temporary failure", res[0].Err)
	}
	h.get(func() {
		if h.datas != 2 || h.conns != 1 {
			t.Errorf("%d messages sent over %d connections, want 2 over 1", h.datas, h.conns)
		}
	})
}

// TestReuseLimits: a connection serves at most MaxUses transactions, and
// none once older than MaxAge.
func TestReuseLimits(t *testing.T) {
	t.Run("uses", func(t *testing.T) {
		h := startHop(t, nil)
		c := newCourier(h)
		c.Reuse.MaxUses = 3
		for i := range 7 {
			deliverOne(t, c, i, "")
		}
		check(t, h, c, 3, 7, 3, 4)
		h.get(func() {
			if h.cmds["QUIT"] != 2 {
				t.Errorf("QUIT %d times, want 2 (each used-up connection)", h.cmds["QUIT"])
			}
		})
	})
	t.Run("age", func(t *testing.T) {
		h := startHop(t, nil)
		c := newCourier(h)
		c.Reuse.MaxAge = 30 * time.Millisecond
		deliverOne(t, c, 0, "")
		time.Sleep(50 * time.Millisecond)
		deliverOne(t, c, 1, "")
		check(t, h, c, 2, 2, 2, 0)
	})
	t.Run("off", func(t *testing.T) {
		h := startHop(t, nil)
		c := newCourier(h)
		c.Reuse.MaxIdle = -1
		for i := range 3 {
			deliverOne(t, c, i, "")
		}
		check(t, h, c, 3, 3, 3, 0)
	})
}

// TestReuseRequiredTLS: with deliver.tls required, every transaction runs
// inside verified TLS, over one connection; a connection kept from before
// (opportunistic, not verified) is never used for it.
func TestReuseRequiredTLS(t *testing.T) {
	cert, roots := testCert(t)
	h := startHop(t, &tls.Config{Certificates: []tls.Certificate{cert}})
	c := newCourier(h)
	c.TLS = &tls.Config{InsecureSkipVerify: true} // opportunistic
	deliverOne(t, c, 0, "")
	c.TLS, c.RequireTLS = &tls.Config{RootCAs: roots, ServerName: "hop.test"}, true
	for i := 1; i < 4; i++ {
		deliverOne(t, c, i, "")
	}
	check(t, h, c, 2, 4, 2, 2)
	h.get(func() {
		if h.cmds["STARTTLS"] != 2 {
			t.Errorf("STARTTLS %d times, want 2", h.cmds["STARTTLS"])
		}
	})
}

// TestReuseConcurrent: many deliveries at once share the kept connections
// safely (run with -race); every message arrives once.
func TestReuseConcurrent(t *testing.T) {
	h := startHop(t, nil)
	c := newCourier(h)
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				deliverOne(t, c, w*each+i, "")
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	h.get(func() {
		for _, m := range h.msgs {
			seen[m]++
		}
	})
	if len(seen) != workers*each {
		t.Errorf("%d distinct messages arrived, want %d", len(seen), workers*each)
	}
	for m, k := range seen {
		if k != 1 {
			t.Errorf("%q arrived %d times", m, k)
		}
	}
	st := c.Stats()
	if st.Opened+st.Reused != workers*each || st.Reused < workers*each/2 {
		t.Errorf("stats %+v: want opened+reused = %d, most reused", st, workers*each)
	}
	c.CloseIdle()
	waitHop(t, h, "every connection closed", func() bool { return len(h.live) == 0 })
}
