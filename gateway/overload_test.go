package gateway

import (
	"bufio"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// banner connects and returns the first reply line.
func banner(t *testing.T, addr string) (net.Conn, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return c, line
}

func TestConnectionCaps(t *testing.T) {
	tg := startGateway(t, func(c *Config) { c.Accept.MaxConnsPerIP = 2 })
	c1, l1 := banner(t, tg.addr)
	c2, l2 := banner(t, tg.addr)
	c3, l3 := banner(t, tg.addr)
	defer c2.Close()
	defer c3.Close()
	if !strings.HasPrefix(l1, "220") || !strings.HasPrefix(l2, "220") || !strings.HasPrefix(l3, "421 4.7.0") {
		t.Fatalf("banners %q %q %q", l1, l2, l3)
	}
	c1.Close()
	time.Sleep(100 * time.Millisecond) // the server notices the close
	c4, l4 := banner(t, tg.addr)
	defer c4.Close()
	if !strings.HasPrefix(l4, "220") {
		t.Errorf("after a close: %q", l4)
	}
}

// TestSessionDeadline: a client that keeps a session open by trickling
// commands is cut off at the session deadline.
func TestSessionDeadline(t *testing.T) {
	tg := startGateway(t, func(c *Config) { c.Accept.SessionTimeout = Duration(400 * time.Millisecond) })
	c, _ := banner(t, tg.addr)
	defer c.Close()
	start := time.Now()
	r := bufio.NewReader(c)
	for time.Since(start) < 3*time.Second {
		if _, err := c.Write([]byte("NOOP\r\n")); err != nil {
			break
		}
		c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := r.ReadString('\n'); err != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("session lasted %v, deadline 400ms", d)
	}
}

func TestBackpressure(t *testing.T) {
	t.Run("disk almost full", func(t *testing.T) {
		var free atomic.Uint64
		free.Store(100 << 20)
		cfg := testConfig(t, func(c *Config) { c.Backpressure.MinFreeBytes = 512 << 20 })
		tg := startGatewayWith(t, cfg, func(g *Gateway) {
			g.FreeSpace = func(string) (uint64, error) { return free.Load(), nil }
		})
		_, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: x\r\n\r\nx\r\n")
		wantSMTPErr(t, err, 452, smtp.EnhancedCode{4, 3, 1})
		if n := countQueued(t, tg); n != 0 {
			t.Errorf("%d queued while refusing", n)
		}
		free.Store(2 << 30) // space returns: it recovers by itself
		if _, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: x\r\n\r\nx\r\n"); err != nil {
			t.Errorf("after space returned: %v", err)
		}
	})
	t.Run("queue full", func(t *testing.T) {
		down, _ := net.Listen("tcp", "127.0.0.1:0")
		downAddr := down.Addr().String()
		down.Close()
		tg := startGateway(t, func(c *Config) {
			c.Deliver.Relay = downAddr
			c.Backpressure.MaxQueued = 1
			c.Deliver.RetryMin, c.Deliver.RetryMax = Duration(time.Hour), Duration(time.Hour)
		})
		if _, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: 1\r\n\r\nx\r\n"); err != nil {
			t.Fatal(err)
		}
		_, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: 2\r\n\r\nx\r\n")
		wantSMTPErr(t, err, 452, smtp.EnhancedCode{4, 3, 1})
	})
}

// TestCommandsBeforeMail: a client that only probes is cut off; one that
// gets to MAIL is not counted further.
func TestCommandsBeforeMail(t *testing.T) {
	tg := startGateway(t, func(c *Config) { c.Accept.MaxCmdsBeforeMail = 5 })
	probe := rawDialogue(t, tg.addr, "EHLO a\r\n"+strings.Repeat("NOOP\r\n", 10))
	if all := strings.Join(probe, "\n"); !strings.Contains(all, "421 4.7.0") {
		t.Errorf("no 421 after 11 commands:\n%s", all)
	}
	ok := rawDialogue(t, tg.addr, "EHLO a\r\nNOOP\r\nMAIL FROM:<a@example.jp>\r\n"+strings.Repeat("RCPT TO:<b@city.example.lg.jp>\r\n", 8)+"QUIT\r\n")
	if all := strings.Join(ok, "\n"); strings.Contains(all, "421") || !strings.Contains(all, "221") {
		t.Errorf("a normal session was cut:\n%s", all)
	}
}
