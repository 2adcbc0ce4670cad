package courier

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

func TestCheckAddress(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		sender bool
		ok     bool
	}{
		{"user@city.example.lg.jp", false, true},
		{"first.last+tag@example.jp", false, true},
		{"山田@例え.jp", false, true}, // SMTPUTF8: non-ASCII bytes are not syntax
		{"", true, true},
		{"", false, false},
		{`"a> ORCPT=rfc822;x"@example.jp`, false, false},
		{"a@example.jp> NOTIFY=NEVER", false, false},
		{"a@example.jp\r\nRCPT TO:<b@evil.example>", false, false},
		{"a@b@c", false, false},
		{"@a:b@c", false, false},
		{"nobody", false, false},
		{"a\\@b@c", false, false},
	} {
		err := checkAddress(tc.addr, tc.sender)
		if (err == nil) != tc.ok {
			t.Errorf("checkAddress(%q, %v) = %v, want ok=%v", tc.addr, tc.sender, err, tc.ok)
		}
	}
}

// recorder is a next hop that keeps every RCPT it is given.
type recorder struct {
	mu    sync.Mutex
	rcpts []string
	opts  []*smtp.RcptOptions
	data  int
}

type recSession struct{ r *recorder }

func (s recSession) Reset()                               {}
func (s recSession) Logout() error                        { return nil }
func (s recSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s recSession) Rcpt(to string, o *smtp.RcptOptions) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.rcpts = append(s.r.rcpts, to)
	s.r.opts = append(s.r.opts, o)
	return nil
}
func (s recSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	s.r.mu.Lock()
	s.r.data++
	s.r.mu.Unlock()
	return err
}

// TestSMTPRefusesUnsafeAddress: a recipient that would add parameters at
// the next hop is failed permanently and never sent; the others go through.
func TestSMTPRefusesUnsafeAddress(t *testing.T) {
	rec := &recorder{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return recSession{rec}, nil }))
	srv.Domain = "hop.test"
	srv.EnableDSN = true // so an injected ORCPT would be parsed and visible
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	c := &SMTP{Addr: l.Addr().String(), Hostname: "mugai.test", Timeout: 10 * time.Second}
	bad := `"a> ORCPT=rfc822;evil@example.jp"@city.example.lg.jp`
	res := c.Deliver(context.Background(), "a@example.jp", []string{bad, "b@city.example.lg.jp"}, []byte("Subject: x\r\n\r\nx\r\n"))
	if res[0].Err == nil || !IsPermanent(res[0].Err) {
		t.Errorf("unsafe recipient: err = %v, want a permanent error", res[0].Err)
	}
	if res[1].Err != nil {
		t.Errorf("safe recipient: %v", res[1].Err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.rcpts) != 1 || rec.rcpts[0] != "b@city.example.lg.jp" {
		t.Errorf("next hop saw RCPT %q, want only b@city.example.lg.jp", rec.rcpts)
	}
	for _, o := range rec.opts {
		if o != nil && o.OriginalRecipient != "" {
			t.Errorf("an ORCPT reached the next hop: %q", o.OriginalRecipient)
		}
	}
	if rec.data != 1 {
		t.Errorf("next hop got %d messages, want 1", rec.data)
	}
}

func TestMaildirRefusesUnsafeAddress(t *testing.T) {
	root := t.TempDir()
	m := &Maildir{Root: root}
	res := m.Deliver(context.Background(), "a@example.jp", []string{"b@x\r\nX-Injected: 1", "c@city.example.lg.jp"}, []byte("Subject: x\r\n\r\nx\r\n"))
	if res[0].Err == nil || !IsPermanent(res[0].Err) {
		t.Errorf("unsafe recipient: err = %v, want a permanent error", res[0].Err)
	}
	if res[1].Err != nil {
		t.Fatalf("safe recipient: %v", res[1].Err)
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "c@") {
		t.Errorf("maildir holds %v, want only the safe recipient's box", entries)
	}
	news, _ := filepath.Glob(filepath.Join(root, "*", "new", "*"))
	if len(news) != 1 {
		t.Errorf("%d messages stored, want 1", len(news))
	}
}

// TestHelloNameBeforeSTARTTLS: the EHLO said before STARTTLS carries our
// hostname too, not go-smtp's "localhost".
func TestHelloNameBeforeSTARTTLS(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	hellos := make(chan string, 4)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				io.WriteString(conn, "220 hop.test ESMTP\r\n")
				line, _ := r.ReadString('\n')
				hellos <- line
				io.WriteString(conn, "250 hop.test\r\n") // no STARTTLS offered
				r.ReadString('\n')
				io.WriteString(conn, "421 4.3.2 closing\r\n")
			}()
		}
	}()
	c := &SMTP{Addr: l.Addr().String(), Hostname: "mugai.test", Timeout: 10 * time.Second, TLS: &tls.Config{InsecureSkipVerify: true}}
	c.Deliver(context.Background(), "a@example.jp", []string{"b@city.example.lg.jp"}, []byte("Subject: x\r\n\r\nx\r\n"))
	for i := 0; i < 2; i++ { // the STARTTLS try, then the plain-text retry
		select {
		case h := <-hellos:
			if h != "EHLO mugai.test\r\n" {
				t.Errorf("connection %d greeted with %q, want EHLO mugai.test", i+1, h)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("connection %d: no greeting", i+1)
		}
	}
}
