package gateway

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestControlIdleConnections: idle connections on the control socket do
// not hold up an admin command: with three open and silent, a flush gets
// its answer at once. Over maxControlConns at once, a new connection is
// closed at once.
func TestControlIdleConnections(t *testing.T) {
	tg := startGateway(t, nil)
	ctl, err := ListenControl(tg.cfg.Spool)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	go tg.g.ServeControl(ctl)
	dial := func() net.Conn {
		c, err := net.Dial("unix", ctl.Path())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	for range 3 {
		dial()
	}
	time.Sleep(100 * time.Millisecond) // accepted, and silent
	start := time.Now()
	reply, err := AskGateway(tg.cfg.Spool, "flush")
	if err != nil || !strings.Contains(reply, "spool rescanned") {
		t.Fatalf("flush with idle connections open: %q %v", reply, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("flush took %v with idle connections open", d)
	}

	time.Sleep(100 * time.Millisecond) // the flush's connection is done with
	for range maxControlConns - 3 {
		dial()
	}
	time.Sleep(100 * time.Millisecond)
	over := dial()
	over.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := over.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("connection over the limit: read %v, want it closed (EOF)", err)
	}
}
