package delivery

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// recorder is a go-smtp next hop (on a given address, or 127.0.0.1:0)
// that records every message it takes and counts them by the X-Mugai-Id
// they carry. Its knob may refuse recipients.
type recorder struct {
	addr string
	// rcptReply, when set, may refuse single recipients (set before use).
	rcptReply func(rcpt string) error

	mu    sync.Mutex
	got   []sent
	ids   map[string]int
	conns int // sessions opened
	ended int // sessions ended (QUIT or the connection closed)
}

// startRecorder starts a recorder on addr ("" for a free port) until the
// test ends.
func startRecorder(t *testing.T, addr string) *recorder { return startRecorderOn(t, addr) }

// startRecorderTB is startRecorder on a free port, for benchmarks too.
func startRecorderTB(t testing.TB) *recorder { return startRecorderOn(t, "") }

func startRecorderOn(t testing.TB, addr string) *recorder {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	h := &recorder{ids: map[string]int{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		h.mu.Lock()
		h.conns++
		h.mu.Unlock()
		return &recorderSession{h: h}, nil
	}))
	srv.Domain = "lgwan-mta.test"
	srv.ErrorLog = testLogger{t}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	h.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return h
}

// count is how many messages the recorder received.
func (h *recorder) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.got)
}

// sessions is how many connections the recorder accepted, and how many
// of them ended.
func (h *recorder) sessions() (opened, ended int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conns, h.ended
}

// counts is how many times each id arrived.
func (h *recorder) counts() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int, len(h.ids))
	for id, k := range h.ids {
		out[id] = k
	}
	return out
}

type recorderSession struct {
	h     *recorder
	from  string
	rcpts []string
}

func (s *recorderSession) Reset() { s.from, s.rcpts = "", nil }
func (s *recorderSession) Logout() error {
	s.h.mu.Lock()
	s.h.ended++
	s.h.mu.Unlock()
	return nil
}
func (s *recorderSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *recorderSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.h.rcptReply != nil {
		if err := s.h.rcptReply(to); err != nil {
			return err
		}
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *recorderSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	s.h.got = append(s.h.got, sent{from: s.from, rcpts: s.rcpts, data: bytes.Clone(b)})
	if sm := mugaiID.FindSubmatch(b); sm != nil {
		s.h.ids[string(sm[1])]++
	}
	return nil
}

// testLogger sends go-smtp's log to t.Log.
type testLogger struct{ t testing.TB }

func (l testLogger) Printf(format string, v ...any) { l.t.Logf(format, v...) }
func (l testLogger) Println(v ...any)               { l.t.Log(v...) }
