package gateway

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// nextHop is a recording go-smtp server on 127.0.0.1:0 standing in for the
// LGWAN-side MTA. Its fault knob decides the reply to each DATA.
type nextHop struct {
	addr string

	mu       sync.Mutex
	received []relayed
	attempts int
	// dataReply, when set, is called with the 1-based DATA attempt number;
	// a non-nil error is the reply instead of 250.
	dataReply func(attempt int) error
	// rcptReply, when set, may refuse single recipients.
	rcptReply func(rcpt string) error
	// dataDelay, when set, holds the DATA reply of the given attempt for
	// that long (outside the lock, so other sessions go on).
	dataDelay func(attempt int) time.Duration
	// dropAfterData closes the connection right after answering 250 to
	// DATA, before QUIT can be answered.
	dropAfterData bool
}

type relayed struct {
	from    string
	rcpts   []string
	data    []byte
	overTLS bool
}

func startNextHop(t testing.TB) *nextHop {
	t.Helper()
	return startNextHopTLS(t, nil)
}

// startNextHopTLS starts a next hop that offers STARTTLS with cfg (none
// when nil).
func startNextHopTLS(t testing.TB, cfg *tls.Config) *nextHop {
	t.Helper()
	h := &nextHop{}
	// Whatever a test does, what reached the next hop must be CRLF only:
	// checked after the server is closed (cleanups run last-in first-out).
	t.Cleanup(func() {
		for _, m := range h.messages() {
			if i := bareLineEnd(m.data); i >= 0 {
				t.Errorf("the next hop received a bare CR or LF at byte %d: %q", i, m.data[max(0, i-20):min(len(m.data), i+20)])
			}
		}
	})
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &hopSession{h: h, conn: c}, nil
	}))
	srv.TLSConfig = cfg
	srv.Domain = "lgwan-mta.test"
	srv.ErrorLog = testLogger{t}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return h
}

func (h *nextHop) messages() []relayed {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]relayed(nil), h.received...)
}

type hopSession struct {
	h     *nextHop
	conn  *smtp.Conn
	from  string
	rcpts []string
}

func (s *hopSession) Reset()        { s.from, s.rcpts = "", nil }
func (s *hopSession) Logout() error { return nil }
func (s *hopSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *hopSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.h.rcptReply != nil {
		if err := s.h.rcptReply(to); err != nil {
			return err
		}
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}
func (s *hopSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.h.mu.Lock()
	s.h.attempts++
	n, delay := s.h.attempts, s.h.dataDelay
	s.h.mu.Unlock()
	if delay != nil {
		time.Sleep(delay(n))
	}
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	if s.h.dataReply != nil {
		if err := s.h.dataReply(n); err != nil {
			return err
		}
	}
	_, overTLS := s.conn.TLSConnectionState()
	s.h.received = append(s.h.received, relayed{from: s.from, rcpts: s.rcpts, data: bytes.Clone(b), overTLS: overTLS})
	if s.h.dropAfterData {
		// The 250 goes out when Data returns; the connection dies before
		// QUIT can be answered.
		go func() { time.Sleep(20 * time.Millisecond); s.conn.Close() }()
	}
	return nil
}

// bareLineEnd returns the index of the first CR or LF that is not part
// of a CRLF pair, or -1.
func bareLineEnd(b []byte) int {
	for i, c := range b {
		switch {
		case c == '\r' && (i+1 >= len(b) || b[i+1] != '\n'):
			return i
		case c == '\n' && (i == 0 || b[i-1] != '\r'):
			return i
		}
	}
	return -1
}

// testLogger sends go-smtp's log to t.Log.
type testLogger struct{ t testing.TB }

func (l testLogger) Printf(format string, v ...any) { l.t.Logf(format, v...) }
func (l testLogger) Println(v ...any)               { l.t.Log(v...) }
