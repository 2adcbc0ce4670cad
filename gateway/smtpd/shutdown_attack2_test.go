package smtpd

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// readReplies reads from r until n final reply lines (a space after the
// code) have come, and returns them.
func readReplies(t *testing.T, r *bufio.Reader, n int) []string {
	t.Helper()
	var got []string
	for n > 0 {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		if len(l) > 3 && l[3] == ' ' {
			got = append(got, strings.TrimRight(l, "\r\n"))
			n--
		}
	}
	return got
}

// TestShutdownBetweenBDATChunksAttack2: a session between two chunks of
// one BDAT transfer is inside a message, not waiting for a command:
// Shutdown must not cut it (the chunkReader reads the next BDAT itself);
// the transfer completes and is acknowledged, then 421 4.3.2.
func TestShutdownBetweenBDATChunksAttack2(t *testing.T) {
	srv := &Server{Hostname: "mx.test", ReadTimeout: 5 * time.Second}
	_, rec, addr := start(t, srv)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	io.WriteString(c, envelope+"BDAT 6\r\nhello ")
	readReplies(t, r, 5) // greeting, EHLO, MAIL, RCPT, the chunk's 250
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) with a BDAT transfer in progress", err)
	default:
	}
	io.WriteString(c, "BDAT 7 LAST\r\nworld\r\n")
	got := readAll(r)
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "250 2.0.0 Ok: queued") || !strings.HasPrefix(got[1], "421 4.3.2") {
		t.Errorf("after the last chunk: %q", got)
	}
	if m := rec.messages(); len(m) != 1 || m[0] != "hello world\r\n" {
		t.Errorf("messages %q", m)
	}
}

// TestShutdownWakesInsideTLSAttack2: a session waiting for a command
// inside TLS (its connection swapped for a *tls.Conn) is woken too, at
// once, with 421 4.3.2 sent inside TLS.
func TestShutdownWakesInsideTLSAttack2(t *testing.T) {
	srvTLS, cliTLS := testTLS(t)
	srv := &Server{Hostname: "mx.test", Backend: &recorder{}, TLSConfig: srvTLS, ReadTimeout: time.Minute}
	_, _, addr := start(t, srv)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	io.WriteString(c, "EHLO c.test\r\nSTARTTLS\r\n")
	readReplies(t, r, 3)
	tc := tls.Client(c, cliTLS)
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	tr := bufio.NewReader(tc)
	io.WriteString(tc, "EHLO c.test\r\n")
	readReplies(t, tr, 1)
	begin := time.Now()
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	rest := readAll(tr)
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if len(rest) != 1 || !strings.HasPrefix(rest[0], "421 4.3.2") || time.Since(begin) > 2*time.Second {
		t.Errorf("idle TLS session after Shutdown: %q after %v", rest, time.Since(begin))
	}
}
