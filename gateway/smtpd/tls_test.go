package smtpd

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// tlsDialogue says EHLO and STARTTLS in plaintext, then writes script
// inside TLS in one write and returns the reply lines inside TLS.
func tlsDialogue(t *testing.T, addr string, cfg *tls.Config, script string) []string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "EHLO c.test\r\n")
	r := bufio.NewReader(c)
	sent := false
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("before TLS: %v", err)
		}
		if strings.HasPrefix(l, "250 ") && !sent {
			io.WriteString(c, "STARTTLS\r\n")
			sent = true
		}
		if strings.HasPrefix(l, "220 2.0.0") {
			break
		}
	}
	tc := tls.Client(c, cfg)
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(tc, script)
	return readAll(tc)
}

// TestSTARTTLS: a fresh session inside TLS (no EHLO carried over, no
// STARTTLS offered again), the strict DATA reader inside it, the ".\r"
// case included.
func TestSTARTTLS(t *testing.T) {
	srvTLS, cliTLS := testTLS(t)
	_, rec, addr := start(t, &Server{TLSConfig: srvTLS})
	lines := tlsDialogue(t, addr, cliTLS, "MAIL FROM:<a@example.jp>\r\nEHLO c.test\r\nSTARTTLS\r\nMAIL FROM:<a@example.jp>\r\nRCPT TO:<b@example.jp>\r\n"+
		"DATA\r\nx\r\n.\rX\r\n.\r\nMAIL FROM:<a@example.jp>\r\nRCPT TO:<b@example.jp>\r\nDATA\r\nok\r\n.\r\nQUIT\r\n")
	wantReplies(t, append([]string{"220 x"}, lines...), "503 5.5.1", "250 ", "502 5.5.1", "250", "250", "354", "550 5.6.0", "250", "250", "354", "250 2.0.0 Ok: queued", "221")
	if all := strings.Join(lines, "\n"); strings.Contains(all, "250-STARTTLS") || strings.Contains(all, "250 STARTTLS") {
		t.Errorf("STARTTLS offered inside TLS:\n%s", all)
	}
	if m := rec.messages(); len(m) != 1 || m[0] != "ok\r\n" {
		t.Errorf("messages %q", m)
	}
}

// TestSTARTTLSInjection: commands pipelined after STARTTLS, in the same
// write, are never run (RFC 3207 4.2, CVE-2011-0411): 421, and closed.
func TestSTARTTLSInjection(t *testing.T) {
	srvTLS, _ := testTLS(t)
	_, rec, addr := start(t, &Server{TLSConfig: srvTLS})
	lines := dialogue(t, addr, "EHLO c.test\r\nSTARTTLS\r\nMAIL FROM:<evil@example.jp>\r\n")
	wantReplies(t, lines, "250 ", "421 4.7.0 mx.test Commands pipelined after STARTTLS")
	if len(rec.mails) != 0 {
		t.Errorf("injected MAIL ran: %q", rec.mails)
	}
}
