package smtpd

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// slowWakeConn delays a read deadline set in the past (Shutdown's wake)
// by delay: it stands for the Shutdown goroutine being descheduled
// between wakeIfIdle's look at idle and its SetReadDeadline.
type slowWakeConn struct {
	net.Conn
	delay time.Duration
	woke  atomic.Bool
}

func (c *slowWakeConn) SetReadDeadline(t time.Time) error {
	if !t.IsZero() && t.Before(time.Now()) {
		time.Sleep(c.delay)
		c.woke.Store(true)
	}
	return c.Conn.SetReadDeadline(t)
}

type slowWakeListener struct {
	net.Listener
	conns chan *slowWakeConn
}

func (l slowWakeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	sc := &slowWakeConn{Conn: c, delay: 300 * time.Millisecond}
	l.conns <- sc
	return sc, nil
}

// TestShutdownWakeRaceCutsDataAttack2: Shutdown looks at a session that
// is idle (it has had MAIL and RCPT and waits for the next command) and
// puts its read deadline in the past — but between the look and the
// deadline the session reads "DATA" and begins the message. The stale
// wake must not cut the message: a session inside DATA finishes it.
func TestShutdownWakeRaceCutsDataAttack2(t *testing.T) {
	srv := &Server{Hostname: "mx.test", ReadTimeout: 30 * time.Second}
	_, rec, _ := start(t, srv)
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := slowWakeListener{inner, make(chan *slowWakeConn, 1)}
	go srv.Serve(l)
	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc := <-l.conns
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	io.WriteString(c, envelope)
	readReplies(t, r, 4)
	time.Sleep(50 * time.Millisecond) // the session is idle in its read
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	time.Sleep(50 * time.Millisecond) // Shutdown has seen it idle and is in the (slow) wake
	io.WriteString(c, "DATA\r\n")
	got := readReplies(t, r, 1)
	if !strings.HasPrefix(got[0], "354") {
		// The wake won: the session was still idle, a fair 421.
		t.Skipf("the session was woken before DATA: %q", got)
	}
	io.WriteString(c, "Subject: x\r\n\r\nfirst line\r\n")
	for !sc.woke.Load() {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	io.WriteString(c, "last line\r\n.\r\n")
	rest := readAll(r)
	<-shut
	if len(rest) == 0 || !strings.HasPrefix(rest[0], "250 2.0.0") {
		t.Errorf("a message inside DATA was cut by a stale shutdown wake: %q (messages %q)", rest, rec.messages())
	}
}
