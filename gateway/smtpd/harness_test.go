package smtpd

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a Backend whose sessions record what reaches them.
type recorder struct {
	mu    sync.Mutex
	mails []string // MAIL senders, in order
	rcpts []string
	msgs  []string // messages read to their end
	errs  []error  // what Data's reads failed with
	// hooks, when set
	mail func(from string, p MailParams) error
	data func(r io.Reader) error
}

type recSession struct{ r *recorder }

func (r *recorder) NewSession(*Conn) (Session, error) { return recSession{r}, nil }

func (s recSession) Mail(from string, p MailParams) error {
	s.r.mu.Lock()
	s.r.mails = append(s.r.mails, from)
	s.r.mu.Unlock()
	if s.r.mail != nil {
		return s.r.mail(from, p)
	}
	return nil
}

func (s recSession) Rcpt(to string) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.rcpts = append(s.r.rcpts, to)
	return nil
}

func (s recSession) Data(r io.Reader) error {
	if s.r.data != nil {
		return s.r.data(r)
	}
	b, err := io.ReadAll(r)
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if err != nil {
		s.r.errs = append(s.r.errs, err)
		return err
	}
	s.r.msgs = append(s.r.msgs, string(b))
	return &Reply{Code: 250, Enhanced: [3]int{2, 0, 0}, Text: "Ok: queued as X"}
}

func (recSession) Reset()  {}
func (recSession) Logout() {}

func (r *recorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// start serves srv (Backend: a new recorder unless set) on 127.0.0.1:0.
func start(t *testing.T, srv *Server) (*Server, *recorder, string) {
	t.Helper()
	rec := &recorder{}
	if srv.Backend == nil {
		srv.Backend = rec
	}
	if srv.Hostname == "" {
		srv.Hostname = "mx.test"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != ErrServerClosed {
			t.Errorf("Serve returned %v", err)
		}
	})
	return srv, rec, l.Addr().String()
}

// dialogue writes script in one write and returns every reply line up
// to the server's close.
func dialogue(t *testing.T, addr, script string) []string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, script); err != nil {
		t.Fatal(err)
	}
	return readAll(c)
}

func readAll(r io.Reader) []string {
	var lines []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// finals keeps the last line of each reply, the greeting left out.
func finals(lines []string) []string {
	var out []string
	for i, l := range lines {
		if i == 0 && strings.HasPrefix(l, "220 ") || len(l) < 4 || l[3] != ' ' {
			continue
		}
		out = append(out, l)
	}
	return out
}

// wantReplies checks the final reply lines against prefixes, in order.
func wantReplies(t *testing.T, lines []string, want ...string) {
	t.Helper()
	got := finals(lines)
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		t.Errorf("replies:\n%s\nwant prefixes:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// testTLS is a server configuration with a fresh self-signed certificate
// and a client configuration that trusts anything.
func testTLS(t *testing.T) (*tls.Config, *tls.Config) {
	t.Helper()
	cert, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}, &tls.Config{InsecureSkipVerify: true}
}
