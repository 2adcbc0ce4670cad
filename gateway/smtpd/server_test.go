package smtpd

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

const envelope = "EHLO c.test\r\nMAIL FROM:<a@example.jp>\r\nRCPT TO:<b@example.jp>\r\n"

// TestCommands: the state machine, the parser's refusals and the replies
// of each command, one pipelined write per case.
func TestCommands(t *testing.T) {
	_, _, addr := start(t, &Server{MaxMessageBytes: 1000, MaxRecipients: 2, SMTPUTF8: true})
	cases := []struct {
		name, script string
		want         []string
	}{
		{"sequence", "MAIL FROM:<a@example.jp>\r\nHELO c.test\r\nRCPT TO:<b@example.jp>\r\nDATA\r\nMAIL FROM:<a@example.jp>\r\n" +
			"DATA\r\nMAIL FROM:<a@example.jp>\r\nQUIT\r\n",
			[]string{"503 5.5.1", "250 mx.test Hello c.test", "503 5.5.1", "503 5.5.1", "250 2.0.0 Sender ok", "503 5.5.1 Need RCPT", "503 5.5.1 Nested", "221 2.0.0"}},
		{"simple commands", "NOOP\r\nnoop\r\nRSET\r\nVRFY postmaster\r\nHELP\r\nEXPN x\r\nAUTH PLAIN\r\nXYZZY\r\n\r\nHELO\r\nQUIT\r\n",
			[]string{"250 2.0.0", "250 2.0.0", "250 2.0.0", "252 2.5.0", "214 2.0.0", "502 5.5.1", "502 5.5.1", "500 5.5.2", "500 5.5.2", "501 5.5.2", "221 2.0.0"}},
		// A command must end in CRLF: a bare LF one is refused, not run.
		{"bare LF command", "EHLO c.test\nMAIL FROM:<a@example.jp>\nNOOP\r\nQUIT\r\n",
			[]string{"500 5.5.2 Command lines must end with CRLF", "500 5.5.2 Command lines must end with CRLF", "250 2.0.0", "221 2.0.0"}},
		{"CR or NUL inside", "NOOP\rX\r\nNO\x00OP\r\nQUIT\r\n", []string{"500 5.5.2", "500 5.5.2", "221"}},
		{"mail params", "EHLO c.test\r\nMAIL FROM:<> SIZE=999 BODY=8BITMIME SMTPUTF8\r\nRSET\r\nMAIL FROM:<a@example.jp> SIZE=1001\r\nMAIL FROM:<a@example.jp> SIZE=99999999999999999999\r\n" +
			"MAIL FROM:<a@example.jp> BODY=BINARYMIME\r\nMAIL FROM:<a@example.jp> RET=HDRS\r\nMAIL FROM:<a@example.jp> SIZE=x\r\n" +
			"MAIL FROM:a@example.jp\r\nMAIL TO:<a@example.jp>\r\nMAIL FROM:<a@example.jp>X\r\nMAIL FROM: <a@example.jp> body=7bit\r\nQUIT\r\n",
			[]string{"250 ", "250 2.0.0", "250 2.0.0", "552 5.3.4", "552 5.3.4", "555 5.5.4", "555 5.5.4", "555 5.5.4", "501 5.5.2", "501 5.5.2", "501 5.5.2", "250 2.0.0", "221"}},
		{"rcpt", "EHLO c.test\r\nMAIL FROM:<a@example.jp>\r\nRCPT TO:<b@example.jp> NOTIFY=NEVER\r\nRCPT TO:<>\r\nRCPT TO:b@example.jp\r\n" +
			"RCPT TO:<@relay.test:b@example.jp>\r\nRCPT TO:<\"q>q\"@example.jp>\r\nRCPT TO:<c@example.jp>\r\nQUIT\r\n",
			[]string{"250 ", "250 2.0.0", "555 5.5.4", "501 5.5.2", "501 5.5.2", "250 2.0.0 Recipient ok", "250 2.0.0 Recipient ok", "452 4.5.3 Too many recipients", "221"}},
		{"data args", envelope + "DATA x\r\nBDAT\r\nBDAT 1 MORE\r\nQUIT\r\n", []string{"250 ", "250", "250", "501 5.5.4", "501 5.5.4", "501 5.5.4", "221"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantReplies(t, dialogue(t, addr, tc.script), tc.want...)
		})
	}
}

// TestEHLO: what is advertised, STARTTLS only when configured, SMTPUTF8
// only when the server takes it (its MAIL parameter refused otherwise); a
// name longer than a domain may be is refused.
func TestEHLO(t *testing.T) {
	srvTLS, _ := testTLS(t)
	for _, on := range []bool{false, true} {
		srv := &Server{MaxMessageBytes: 5000, MaxRecipients: 7, SMTPUTF8: on}
		if on {
			srv.TLSConfig = srvTLS
		}
		_, _, addr := start(t, srv)
		replies := dialogue(t, addr, "EHLO c.test\r\nMAIL FROM:<a@example.jp> SMTPUTF8\r\nEHLO "+strings.Repeat("a", 256)+"\r\nQUIT\r\n")
		got := strings.Join(replies, "\n")
		for _, want := range []string{"250-mx.test Hello c.test", "PIPELINING", "8BITMIME", "CHUNKING", "ENHANCEDSTATUSCODES", "SIZE 5000", "LIMITS RCPTMAX=7",
			"501 5.5.2 Domain name too long"} {
			if !strings.Contains(got, want) {
				t.Errorf("no %q in:\n%s", want, got)
			}
		}
		if strings.Contains(got, "STARTTLS") != on || strings.Contains(got, "SMTPUTF8\n") != on || strings.Contains(got, "AUTH") {
			t.Errorf("TLS and SMTPUTF8 %v:\n%s", on, got)
		}
		if mail := strings.Contains(got, "250 2.0.0 Sender ok"); mail != on || !on && !strings.Contains(got, "555 5.5.4") {
			t.Errorf("MAIL with SMTPUTF8, the extension on: %v:\n%s", on, got)
		}
	}
}

// TestPathsReachSession: what the session is handed for each path form.
func TestPathsReachSession(t *testing.T) {
	_, rec, addr := start(t, &Server{})
	dialogue(t, addr, "EHLO c.test\r\nMAIL FROM:<>\r\nRCPT TO:<@a.test,@b.test:x@example.jp>\r\nRCPT TO:<\"q>q\"@example.jp>\r\nQUIT\r\n")
	if len(rec.mails) != 1 || rec.mails[0] != "" {
		t.Errorf("senders %q", rec.mails)
	}
	if len(rec.rcpts) != 2 || rec.rcpts[0] != "x@example.jp" || rec.rcpts[1] != `"q>q"@example.jp` {
		t.Errorf("recipients %q", rec.rcpts)
	}
}

// TestLineTooLong: one 500 5.5.2 per command line too long, nothing of it
// run, and the session goes on; in DATA one reply for the message and the
// next transaction works.
func TestLineTooLong(t *testing.T) {
	_, rec, addr := start(t, &Server{MaxLineLength: 1000})
	long := strings.Repeat("a", 1200)
	wantReplies(t, dialogue(t, addr, "NOOP "+long+"\r\nMAIL FROM:<a@b.test> "+strings.Repeat("b", 70000)+"\r\nNOOP "+strings.Repeat("c", 1000-7)+"\r\nQUIT\r\n"),
		"500 5.5.2 Line too long", "500 5.5.2 Line too long", "250 2.0.0", "221")
	wantReplies(t, dialogue(t, addr, envelope+"DATA\r\nx\r\n"+long+"\r\ny\r\n.\r\n"+"MAIL FROM:<a@example.jp>\r\nRCPT TO:<b@example.jp>\r\nDATA\r\nok\r\n.\r\nQUIT\r\n"),
		"250 ", "250", "250", "354", "500 5.5.2 Line too long", "250", "250", "354", "250 2.0.0 Ok: queued", "221")
	if m := rec.messages(); len(m) != 1 || m[0] != "ok\r\n" {
		t.Errorf("messages %q", m)
	}
}

// TestCommandsBeforeMail: counted on parsed command lines: a line too
// long counts, data lines and BDAT chunks do not (counting ends at the
// first MAIL taken), a refused MAIL counts, an accepted STARTTLS does not.
func TestCommandsBeforeMail(t *testing.T) {
	const limit = 3
	_, _, addr := start(t, &Server{MaxCommandsBeforeMail: limit, MaxLineLength: 100})
	tooMany := "421 4.7.0 mx.test Too many commands before MAIL"
	looksLikeCommands := strings.Repeat("NOOP\r\nMAIL FROM:<a@b>\r\nRSET\r\n", 10)
	cases := []struct {
		name, script string
		cut          int // replies before the 421; -1: never cut
	}{
		{"noops", strings.Repeat("NOOP\r\n", 10), limit},
		{"line too long", strings.Repeat("NOOP "+strings.Repeat("x", 200)+"\r\n", 5), limit},
		{"mail refused", strings.Repeat("MAIL FROM:<a@b.test>\r\n", 10), limit + 1}, // before EHLO
		{"bare LF lines", strings.Repeat("NOOP\n", 10), limit},
		{"bare LF MAIL lines", strings.Repeat("MAIL FROM:<a@b.test>\n", 10), limit},
		{"bare LF STARTTLS lines", strings.Repeat("STARTTLS\n", 10), limit},
		{"mail taken", "EHLO c.test\r\nMAIL FROM:<a@b.test>\r\n" + strings.Repeat("NOOP\r\n", 10) + "QUIT\r\n", -1},
		{"data lines", "EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<b@example.jp>\r\nDATA\r\n" + looksLikeCommands + ".\r\nQUIT\r\n", -1},
		{"bdat chunk", "EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<b@example.jp>\r\nBDAT " + itoa(len(looksLikeCommands)) + " LAST\r\n" + looksLikeCommands + "QUIT\r\n", -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := finals(dialogue(t, addr, tc.script))
			all := strings.Join(got, "\n")
			if tc.cut < 0 {
				if strings.Contains(all, "421") || !strings.HasPrefix(got[len(got)-1], "221") {
					t.Fatalf("cut off:\n%s", all)
				}
				return
			}
			if len(got) != tc.cut+1 || !strings.HasPrefix(got[tc.cut], tooMany) {
				t.Errorf("want %d replies then %q:\n%s", tc.cut, tooMany, all)
			}
		})
	}
}

// TestShutdown: a session waiting for its next command gets 421 4.3.2 at
// once and is closed; a session inside DATA is not cut: its message ends
// normally (250), then it gets 421 4.3.2 when it would wait for the next
// command; Shutdown returns when both have ended, and Serve with
// ErrServerClosed.
func TestShutdown(t *testing.T) {
	srv := &Server{Hostname: "mx.test", Backend: &recorder{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	dial := func(script string) (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		c.Write([]byte(script))
		for want := strings.Count(script, "\r\n") + 1; want > 0; { // the greeting and a reply per line
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if len(l) > 3 && l[3] == ' ' {
				want--
			}
		}
		return c, r
	}
	_, idle := dial("EHLO idle.test\r\n")
	busy, inData := dial("EHLO busy.test\r\nMAIL FROM:<a@example.jp>\r\nRCPT TO:<b@example.jp>\r\nDATA\r\n")
	busy.Write([]byte("Subject: half\r\n\r\nhalf a messa"))
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	if rest := readAll(idle); len(rest) != 1 || !strings.HasPrefix(rest[0], "421 4.3.2 mx.test ") {
		t.Errorf("the idle session after Shutdown: %q", rest)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) while a message was in DATA", err)
	case <-time.After(200 * time.Millisecond):
	}
	busy.Write([]byte("ge\r\n.\r\n"))
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if rest := readAll(inData); len(rest) != 2 || !strings.HasPrefix(rest[0], "250 2.0.0") || !strings.HasPrefix(rest[1], "421 4.3.2 mx.test ") {
		t.Errorf("the session in DATA after Shutdown: %q", rest)
	}
	if err := <-done; err != ErrServerClosed {
		t.Errorf("Serve returned %v", err)
	}
}

// TestTimeout: a client that says nothing for ReadTimeout gets 421.
func TestTimeout(t *testing.T) {
	_, _, addr := start(t, &Server{ReadTimeout: 200 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	lines := readAll(c)
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "421 4.4.2") {
		t.Errorf("%q", lines)
	}
}

// TestStalledAfterBareLF: a client that ended its data with "\n.\n" and
// waits gets its 550 after drainIdle, and the connection closes: nothing
// it sends later is read as a command.
func TestStalledAfterBareLF(t *testing.T) {
	_, rec, addr := start(t, &Server{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte(envelope + "DATA\r\nx\n.\n"))
	begin := time.Now()
	r := bufio.NewReader(c)
	var last string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			break
		}
		last = l
		if strings.HasPrefix(l, "550 ") {
			c.Write([]byte("MAIL FROM:<late@example.jp>\r\n"))
		}
	}
	if d := time.Since(begin); !strings.HasPrefix(last, "550 5.6.0") || d < drainIdle || d > drainIdle+3*time.Second {
		t.Errorf("last reply %q after %v", last, d)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.mails) != 1 || len(rec.msgs) != 0 {
		t.Errorf("senders %q, messages %q", rec.mails, rec.msgs)
	}
}

// TestShutdownDuringData: the message being received is answered; the
// next MAIL gets 421 4.3.2.
func TestShutdownDuringData(t *testing.T) {
	inData, release := make(chan struct{}), make(chan struct{})
	rec := &recorder{}
	rec.data = func(r io.Reader) error {
		close(inData)
		<-release
		_, err := io.Copy(io.Discard, r)
		return err
	}
	srv := &Server{Hostname: "mx.test", Backend: rec}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte(envelope + "DATA\r\nx\r\n.\r\n"))
	<-inData
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	c.Write([]byte("MAIL FROM:<a@example.jp>\r\n"))
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantReplies(t, readAll(c), "250 ", "250", "250", "354", "250 2.0.0 Ok", "421 4.3.2 mx.test")
}

// TestSession421Closes: a 421 from the session closes the connection:
// nothing after it is run.
func TestSession421Closes(t *testing.T) {
	rec := &recorder{mail: func(string, MailParams) error {
		return &Reply{Code: 421, Enhanced: [3]int{4, 3, 2}, Text: "going away"}
	}}
	_, _, addr := start(t, &Server{Backend: rec})
	wantReplies(t, dialogue(t, addr, "EHLO c.test\r\nMAIL FROM:<a@example.jp>\r\nNOOP\r\n"), "250 ", "421 4.3.2 going away")
}

// TestTimeoutInData: a client that stops in the middle of its data gets
// 421 4.4.2 after ReadTimeout, and nothing reaches the session as a message.
func TestTimeoutInData(t *testing.T) {
	_, rec, addr := start(t, &Server{ReadTimeout: 200 * time.Millisecond})
	lines := dialogue(t, addr, envelope+"DATA\r\nhalf a message\r\n")
	wantReplies(t, lines, "250 ", "250", "250", "354", "421 4.4.2 mx.test Timeout")
	if m := rec.messages(); len(m) != 0 {
		t.Errorf("messages %q", m)
	}
}

// TestShutdownTwice: a second Shutdown (a test's cleanup after the test's
// own, a signal during a shutdown) only waits: it does not close the
// listeners again and returns nil.
func TestShutdownTwice(t *testing.T) {
	srv := &Server{Hostname: "mx.test", Backend: &recorder{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		srv.mu.Lock()
		serving := len(srv.listeners) == 1
		srv.mu.Unlock()
		if serving {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Serve did not register its listener")
		}
	}
	for i := range 2 {
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown %d: %v", i+1, err)
		}
	}
	if err := <-done; err != ErrServerClosed {
		t.Errorf("Serve returned %v", err)
	}
}
