// Package load is the sizing tool behind mugai load: it sends messages
// over concurrent SMTP sessions (one message per session, like Postfix's
// smtp-source) and measures what an admin needs to size a deployment:
// messages per second, the latency from DATA to the final reply, errors
// by reply code, and, with a sink, the time until the last message came
// out the other side.
package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// Options say what to send where.
type Options struct {
	Addr     string // host:port of the gateway (or any MTA)
	Messages int    // how many
	Sessions int    // concurrent SMTP sessions
	Message  []byte // the message, CRLF line endings
	From     string
	To       string
	Timeout  time.Duration // per session
	Sink     string        // host:port to run a recording sink on; "" for none
	SinkWait time.Duration // how long to wait for the last message at the sink
}

// Result is what was measured.
type Result struct {
	Sent     int            // answered 250
	Errors   map[string]int // by reply code ("451") or "network"
	Elapsed  time.Duration  // first dial to last reply
	Latency  []time.Duration
	Sunk     int           // messages the sink received
	EndToEnd time.Duration // first dial to the last message at the sink (0 without a sink)
}

// Rate is messages answered 250 per second.
func (r Result) Rate() float64 { return float64(r.Sent) / r.Elapsed.Seconds() }

// Percentile returns the p-th percentile (0–100) of the latencies.
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latency) == 0 {
		return 0
	}
	l := slices.Clone(r.Latency)
	slices.Sort(l)
	i := int(float64(len(l)-1) * p / 100)
	return l[i]
}

// Run sends o.Messages messages over o.Sessions sessions.
func Run(ctx context.Context, o Options) (Result, error) {
	res := Result{Errors: map[string]int{}}
	if o.Messages < 1 || o.Sessions < 1 {
		return res, errors.New("load: messages and sessions must be at least 1")
	}
	var sink *sink
	if o.Sink != "" {
		var err error
		if sink, err = startSink(o.Sink); err != nil {
			return res, err
		}
		defer sink.close()
	}
	var (
		mu   sync.Mutex
		next atomic.Int64
		wg   sync.WaitGroup
	)
	start := time.Now()
	for range o.Sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(o.Messages) && ctx.Err() == nil {
				lat, err := sendOne(ctx, o)
				mu.Lock()
				if err != nil {
					res.Errors[errorKey(err)]++
				} else {
					res.Sent++
					res.Latency = append(res.Latency, lat)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	if sink != nil {
		res.Sunk, res.EndToEnd = sink.wait(ctx, res.Sent, o.SinkWait, start)
	}
	return res, ctx.Err()
}

// sendOne is one session: connect, EHLO, MAIL, RCPT, DATA, QUIT. The
// latency is from the DATA command to the reply after the final dot.
func sendOne(ctx context.Context, o Options) (time.Duration, error) {
	d := net.Dialer{Timeout: o.Timeout}
	conn, err := d.DialContext(ctx, "tcp", o.Addr)
	if err != nil {
		return 0, err
	}
	conn.(*net.TCPConn).SetNoDelay(true)
	if o.Timeout > 0 {
		conn.SetDeadline(time.Now().Add(o.Timeout))
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	if err := c.Hello("mugai-load.localhost"); err != nil {
		return 0, err
	}
	if err := c.Mail(o.From, nil); err != nil {
		return 0, err
	}
	if err := c.Rcpt(o.To, nil); err != nil {
		return 0, err
	}
	t0 := time.Now()
	w, err := c.Data()
	if err != nil {
		return 0, err
	}
	if _, err := w.Write(o.Message); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	lat := time.Since(t0)
	c.Quit()
	return lat, nil
}

func errorKey(err error) string {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return fmt.Sprint(se.Code)
	}
	return "network"
}

// sink is a recording SMTP server: it counts messages and notes when the
// last one arrived.
type sink struct {
	srv   *smtp.Server
	mu    sync.Mutex
	count int
	last  time.Time
	got   chan struct{}
}

func startSink(addr string) (*sink, error) {
	s := &sink{got: make(chan struct{}, 1)}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }))
	s.srv.Domain = "mugai-load-sink.localhost"
	s.srv.MaxMessageBytes = 64 << 20
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("load: sink: %w", err)
	}
	go s.srv.Serve(l)
	return s, nil
}

func (s *sink) close() { s.srv.Close() }

// wait returns how many messages arrived and when the want-th did,
// counted from start; it gives up after timeout.
func (s *sink) wait(ctx context.Context, want int, timeout time.Duration, start time.Time) (int, time.Duration) {
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		n, last := s.count, s.last
		s.mu.Unlock()
		if n >= want {
			return n, last.Sub(start)
		}
		select {
		case <-s.got:
		case <-deadline:
			return n, 0
		case <-ctx.Done():
			return n, 0
		}
	}
}

type sinkSession struct{ s *sink }

func (ss *sinkSession) Reset()                               {}
func (ss *sinkSession) Logout() error                        { return nil }
func (ss *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (ss *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (ss *sinkSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.count++
	ss.s.last = time.Now()
	ss.s.mu.Unlock()
	select {
	case ss.s.got <- struct{}{}:
	default:
	}
	return nil
}

// Realistic is the reference message of the benchmarks (about 150 KB):
// multipart/alternative text and HTML with an ISO-2022-JP subject, and a
// 100 KB PDF attachment.
func Realistic() []byte {
	var b bytes.Buffer
	b.WriteString("From: sender@example.jp\r\nTo: staff@city.example.lg.jp\r\n")
	b.WriteString("Subject: =?ISO-2022-JP?B?GyRCOCtAUT1xJHIkKkF3JGokNyReJDkbKEI=?=\r\n")
	b.WriteString("Date: Thu, 26 Nov 2026 09:00:00 +0900\r\nMessage-ID: <load@example.jp>\r\nMIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\n")
	b.WriteString("Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	for range 40 {
		b.WriteString("いつもお世話になっております。見積書を添付いたしますのでご確認ください。\r\n")
	}
	b.WriteString("--alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<html><body>")
	for range 40 {
		b.WriteString("<p>いつもお世話になっております。<a href=\"https://example.jp/quote\">見積書</a>を添付いたします。</p>\r\n")
	}
	b.WriteString("</body></html>\r\n--alt--\r\n--outer\r\n")
	b.WriteString("Content-Type: application/pdf; name=\"quote.pdf\"\r\nContent-Disposition: attachment; filename=\"quote.pdf\"\r\n")
	b.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
	pdf := minimalPDF(100 << 10)
	enc := make([]byte, 0, len(pdf)*4/3+4)
	enc = base64Append(enc, pdf)
	for len(enc) > 76 {
		b.Write(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	b.Write(enc)
	b.WriteString("\r\n--outer--\r\n")
	return b.Bytes()
}
