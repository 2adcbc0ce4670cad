// Package smtpd is the server side of SMTP that mugai owns: the listener
// loop, the command parser and state machine, and the DATA and BDAT
// readers with strict line endings (RFC 5321 2.3.8: a bare CR, bare LF or
// NUL fails the message) and dot-unstuffing, all on whole lines read from
// one bufio.Reader per connection.
//
// A Server hands each connection's transactions to a Session that its
// Backend makes. The Session decides on envelopes and messages; the
// server owns the protocol: syntax, sequence, limits (line length,
// commands before MAIL, recipients, message size, timeouts), PIPELINING,
// CHUNKING and STARTTLS.
package smtpd

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Backend makes a Session for each connection, before the greeting.
// An error refuses the connection: a *Reply is sent (else 421 4.3.0)
// and the connection closes.
type Backend interface {
	NewSession(c *Conn) (Session, error)
}

// Session is one connection's view of its transactions. The server calls
// its methods from the connection's goroutine, one at a time, in SMTP
// order: Mail, then Rcpt (one or more), then Data; Reset between
// transactions (RSET, HELO/EHLO, STARTTLS, after Data, after a transfer
// the client aborted); Logout once when the connection ends.
//
// Mail, Rcpt and Data return nil for the server's own 250, a *Reply for a
// reply of their own (a 250 with its text too), or another error, which
// becomes 451 4.3.0 (a data fault returned by r gets its named reply).
type Session interface {
	Mail(from string, p MailParams) error
	Rcpt(to string) error
	// Data reads the message from r: the bytes as sent, CRLF kept,
	// dot-unstuffed, the end-of-data line not included. r fails with
	// ErrBareCR, ErrBareLF, ErrNUL, ErrTooBig or ErrLineTooLong at the
	// first fault, and with ErrAborted when a BDAT transfer is abandoned.
	// Whatever Data leaves unread is drained by the server before it
	// replies. A fault always refuses the message, whatever Data returns.
	Data(r io.Reader) error
	Reset()
	Logout()
}

// MailParams are the MAIL FROM parameters (RFC 1870, 6152, 6531, 3030).
type MailParams struct {
	Size     int64  // SIZE=, 0 when not given
	Body     string // "7BIT", "8BITMIME" or "" when not given
	SMTPUTF8 bool
}

// Server serves SMTP. Set its fields before Serve; they are not changed
// after.
type Server struct {
	Hostname  string      // in the greeting, EHLO and 421 replies
	Backend   Backend     //
	TLSConfig *tls.Config // STARTTLS is offered when set
	// MaxMessageBytes bounds a message (SIZE, DATA, BDAT); 0: no limit.
	MaxMessageBytes int64
	// MaxLineLength bounds a command or data line, CRLF included
	// (default 1000, RFC 5321 4.5.3.1.6). BDAT chunks have no lines.
	MaxLineLength int
	MaxRecipients int // per transaction; 0: no limit
	// SMTPUTF8 advertises the extension (RFC 6531) and takes MAIL's
	// SMTPUTF8 parameter; off, the parameter is refused (555). Set it only
	// when the sessions take UTF-8 mailboxes: a client that sees it does
	// not downgrade.
	SMTPUTF8 bool
	// MaxCommandsBeforeMail closes a session (421 4.7.0) that sends more
	// command lines than this before a MAIL is accepted; 0: off. Every
	// command line counts (an empty, unknown or too long one too), except
	// MAIL and STARTTLS, which count only when refused.
	MaxCommandsBeforeMail int
	// MaxErrors closes a session (421 4.7.0) once it has been given this
	// many error replies since it last had a message accepted (4xx and
	// 5xx to its commands and messages; the repeated reply to the
	// discarded chunks of a failed BDAT transfer counts once; 452 4.5.3 to
	// recipients past MaxRecipients does not count: the client sends them
	// again in another transaction, RFC 5321 4.5.3.1.10, and counted they
	// would cut its batch before DATA at every retry), as Postfix's
	// smtpd_hard_error_limit: a dictionary attack of refused recipients
	// ends there; 0: off.
	MaxErrors    int
	ReadTimeout  time.Duration // per read from the client; 0: none
	WriteTimeout time.Duration // per write to the client; 0: none
	Log          *slog.Logger  // nil: discarded

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*Conn]struct{} // the sessions running, for Shutdown to wake the idle ones
	wg        sync.WaitGroup
	closing   atomic.Bool
}

const (
	defaultMaxLine = 1000
	minBuffer      = 32 << 10 // the bufio.Reader of a connection
	tlsTimeout     = 30 * time.Second
)

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Server) maxLine() int {
	if s.MaxLineLength <= 0 {
		return defaultMaxLine
	}
	return s.MaxLineLength
}

// maxChunk is the largest BDAT chunk the server reads or skips: what a
// whole message may be (MaxMessageBytes, or 64 MiB without a limit).
func (s *Server) maxChunk() int64 {
	if s.MaxMessageBytes <= 0 {
		return 64 << 20
	}
	return s.MaxMessageBytes
}

// Serve accepts connections on l until Shutdown (then ErrServerClosed)
// or an accept error that is not temporary.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTemporary) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := newConn(s, nc)
		s.mu.Lock()
		if s.closing.Load() {
			s.mu.Unlock()
			nc.Close()
			return ErrServerClosed
		}
		s.wg.Add(1)
		if s.conns == nil {
			s.conns = map[*Conn]struct{}{}
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
			c.serve()
		}()
	}
}

var errTemporary = errors.New("smtpd: temporary accept error")

// Shutdown stops accepting, lets each session finish the command and the
// transaction it is in, answers a MAIL that would begin a new one with
// 421 4.3.2 (and closes), then waits for the sessions to end or ctx to be
// done. A session waiting for its next command (idle, as an MTA's cached
// connection is) gets 421 4.3.2 at once and is closed: nothing of a
// message is lost, and a restart does not wait for clients that say
// nothing. A session inside a message (DATA, or between BDAT chunks) is
// not interrupted: the caller cuts what is left when its grace period is
// over (mugai serve's shutdown_grace), or the session's timeouts do. (The
// session may refuse a message during shutdown itself, as the gateway
// does with 421 4.3.2.)
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing.Store(true)
	var err error
	for l := range s.listeners {
		if e := l.Close(); e != nil && err == nil {
			err = e
		}
		delete(s.listeners, l) // closed once: a second Shutdown only waits
	}
	for c := range s.conns {
		c.wakeIfIdle()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
