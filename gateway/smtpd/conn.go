package smtpd

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var (
	errLineTooLong  = errors.New("smtpd: command line too long")
	errClose        = errors.New("smtpd: closing the connection")
	errChunkTooBig  = errors.New("smtpd: BDAT chunk larger than a message may be")
	errShuttingDown = errors.New("smtpd: shutting down")
)

// Conn is one client connection.
type Conn struct {
	srv  *Server
	raw  net.Conn // the accepted connection, under TLS too: Shutdown wakes a read through it
	nc   net.Conn // the connection in use (a *tls.Conn after STARTTLS)
	br   *bufio.Reader
	bw   *bufio.Writer
	sess Session
	helo string
	tls  bool

	// the transaction
	inMail   bool
	rcpts    int
	bdat     *chunkReader // a BDAT transfer in progress
	bdatFail *Reply       // a failed BDAT transfer: its next chunks are discarded until LAST

	cmds     int           // command lines counted before MAIL
	errs     int           // error replies given (MaxErrors)
	counting bool          // MaxCommandsBeforeMail applies
	pending  []byte        // a command line read by a BDAT reader, to run next
	readWait time.Duration // when set, the read timeout instead of ReadTimeout
	deadline bool          // readWait set a read deadline
	closing  bool          // a 421 was given: close after it
	idle     atomic.Bool   // waiting for the next command, outside any message
	wakeMu   sync.Mutex    // orders Shutdown's wake with the end of the wait (busy)
	woken    bool          // under wakeMu: the wake put the read deadline in the past
}

func newConn(s *Server, nc net.Conn) *Conn {
	c := &Conn{srv: s, raw: nc, nc: nc, counting: s.MaxCommandsBeforeMail > 0}
	c.setIO()
	return c
}

// setIO puts a fresh reader and writer on c.nc.
func (c *Conn) setIO() {
	c.br = bufio.NewReaderSize(netReader{c}, max(c.srv.maxLine(), minBuffer))
	c.bw = bufio.NewWriterSize(netWriter{c}, 4096)
}

// RemoteAddr is the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// TLS returns the TLS state, ok when STARTTLS is in force.
func (c *Conn) TLS() (tls.ConnectionState, bool) {
	if tc, ok := c.nc.(*tls.Conn); ok {
		return tc.ConnectionState(), true
	}
	return tls.ConnectionState{}, false
}

// Hostname is the name the client gave in HELO/EHLO ("" before).
func (c *Conn) Hostname() string { return c.helo }

// NetConn is the connection underneath (a *tls.Conn inside STARTTLS):
// the session may look whether its client is still there.
func (c *Conn) NetConn() net.Conn { return c.nc }

// netReader is what the bufio.Reader reads from: before it blocks on the
// client, the replies buffered so far are sent (PIPELINING: one write for
// a group of replies), and the read timeout is set.
type netReader struct{ c *Conn }

func (r netReader) Read(p []byte) (int, error) {
	c := r.c
	if c.bw.Buffered() > 0 {
		if err := c.bw.Flush(); err != nil {
			return 0, err
		}
	}
	switch d := c.srv.ReadTimeout; {
	case c.readWait > 0:
		c.nc.SetReadDeadline(time.Now().Add(c.readWait))
		c.deadline = true
	case d > 0:
		c.nc.SetReadDeadline(time.Now().Add(d))
	case c.deadline: // a drain's wait is over: no timeout again
		c.nc.SetReadDeadline(time.Time{})
		c.deadline = false
	}
	// After the deadline is set, so that Shutdown's wake (closing set,
	// then the deadline put in the past) is never overwritten unseen.
	if c.idle.Load() && c.srv.closing.Load() {
		return 0, errShuttingDown
	}
	return c.nc.Read(p)
}

// wakeIfIdle ends the wait of a session waiting for its next command
// (Shutdown): its read fails at once, and serve gives 421 4.3.2.
func (c *Conn) wakeIfIdle() {
	c.wakeMu.Lock()
	defer c.wakeMu.Unlock()
	if c.idle.Load() {
		c.raw.SetReadDeadline(time.Unix(1, 0))
		c.woken = true
	}
}

// busy ends the wait for a command. A wake that came after the command
// line was read (its deadline set while the session still looked idle)
// is undone: the command runs, and a DATA or BDAT it begins is not cut
// by a deadline meant for a session that was waiting.
func (c *Conn) busy() {
	c.wakeMu.Lock()
	defer c.wakeMu.Unlock()
	c.idle.Store(false)
	if c.woken {
		c.woken = false
		c.raw.SetReadDeadline(time.Time{}) // netReader sets the read timeout again
	}
}

type netWriter struct{ c *Conn }

func (w netWriter) Write(p []byte) (int, error) {
	if d := w.c.srv.WriteTimeout; d > 0 {
		w.c.nc.SetWriteDeadline(time.Now().Add(d))
	}
	return w.c.nc.Write(p)
}

// reply buffers r; it is sent before the next blocking read or flush.
// A 421 (the session's too) closes the connection after it.
func (c *Conn) reply(r *Reply) {
	c.bw.WriteString(r.String())
	c.bw.WriteString("\r\n")
	c.closing = c.closing || r.Code == 421
	if r.Code >= 400 && r.Code != 421 && r != c.bdatFail && r != replyTooManyRcpts {
		c.errs++
	}
}

// tooManyErrors reports whether the session has had MaxErrors error
// replies; then the client has been told 421 and the connection is to
// close.
func (c *Conn) tooManyErrors() bool {
	if c.srv.MaxErrors <= 0 || c.errs < c.srv.MaxErrors {
		return false
	}
	c.replyHost(replyTooManyErrors)
	return true
}

// replyHost is r with the server's name before the text, as RFC 5321 3.8
// has it for a 421, sent at once.
func (c *Conn) replyHost(r *Reply) {
	c.reply(&Reply{Code: r.Code, Enhanced: r.Enhanced, Text: c.srv.Hostname + " " + r.Text})
	c.bw.Flush()
}

func (c *Conn) serve() {
	defer c.nc.Close()
	defer func() {
		if v := recover(); v != nil {
			c.srv.log().Error("panic in SMTP connection", "client", c.nc.RemoteAddr().String(),
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			c.replyHost(replyInternal)
		}
	}()
	sess, err := c.srv.Backend.NewSession(c)
	if err != nil {
		c.replyHost(asReply(err, replyInternal))
		return
	}
	c.sess = sess
	defer sess.Logout()
	c.reply(&Reply{Code: 220, Text: c.srv.Hostname + " ESMTP Service Ready"})
	for {
		c.idle.Store(true)
		line, err := c.readCommand()
		c.busy()
		switch {
		case errors.Is(err, errLineTooLong):
			if c.count("") {
				return
			}
			c.reply(replyLineTooLong)
			if c.tooManyErrors() {
				return
			}
			continue
		case err != nil && c.srv.closing.Load():
			c.replyHost(replyShutdown) // woken by Shutdown (or gone meanwhile: the reply is lost)
			return
		case err != nil:
			c.readFailed(err)
			return
		}
		if c.run(line) != nil || c.closing || c.tooManyErrors() {
			c.bw.Flush()
			return
		}
	}
}

// readFailed answers what can still be answered when reading a command
// failed.
func (c *Conn) readFailed(err error) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.replyHost(replyTimeout)
	}
}

// readCommand returns the next command line, CRLF included (valid until
// the next read). A line longer than the limit is discarded through its
// LF and reported as errLineTooLong.
func (c *Conn) readCommand() ([]byte, error) {
	if c.pending != nil {
		line := c.pending
		c.pending = nil
		return line, nil
	}
	line, err := c.br.ReadSlice('\n')
	if err == nil && len(line) <= c.srv.maxLine() {
		return line, nil
	}
	if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	for errors.Is(err, bufio.ErrBufferFull) {
		_, err = c.br.ReadSlice('\n')
	}
	if err != nil {
		return nil, err
	}
	return nil, errLineTooLong
}

// count counts a command line before MAIL (verb "" for one that is too
// long or not parsed); it returns true when the session is over the
// limit: the client got 421 and the connection is to close.
func (c *Conn) count(verb string) bool {
	if !c.counting || verb == "MAIL" || verb == "STARTTLS" {
		return false // these two count only when refused (refusedCount)
	}
	c.cmds++
	return c.overLimit()
}

func (c *Conn) overLimit() bool {
	if c.cmds <= c.srv.MaxCommandsBeforeMail {
		return false
	}
	c.replyHost(replyTooMany)
	return true
}

// run parses and runs one command line; a non-nil error ends the
// connection.
func (c *Conn) run(line []byte) error {
	verb, arg, bad := parseCommand(line)
	if bad != nil {
		if c.count("") { // not run: a command like any other, whatever its verb
			return errClose
		}
		c.reply(bad)
		return nil
	}
	if c.count(verb) {
		return errClose
	}
	if (verb == "MAIL" || verb == "STARTTLS") && c.counting && c.overLimit() {
		return errClose
	}
	if verb != "BDAT" {
		c.bdatFail = nil
	}
	switch verb {
	case "EHLO", "HELO":
		c.hello(verb, arg)
	case "MAIL":
		c.mail(arg)
	case "RCPT":
		c.rcpt(arg)
	case "DATA":
		return c.data(arg)
	case "BDAT":
		return c.bdatCommand(arg)
	case "RSET":
		c.reset()
		c.reply(replyOK)
	case "NOOP":
		c.reply(replyOK)
	case "VRFY":
		c.reply(replyVrfy)
	case "HELP":
		c.reply(replyHelp)
	case "QUIT":
		c.reply(replyBye)
		return errClose
	case "STARTTLS":
		return c.startTLS(arg)
	case "AUTH", "EXPN", "TURN", "ETRN", "SEND", "SOML", "SAML":
		c.reply(replyNotImpl)
	default:
		c.reply(replyUnknown)
	}
	return nil
}

// refused counts a MAIL or STARTTLS the server refused, as a command.
func (c *Conn) refused() {
	if c.counting {
		c.cmds++
	}
}

// reset ends the transaction (the session too).
func (c *Conn) reset() {
	c.inMail, c.rcpts, c.bdat = false, 0, nil
	c.sess.Reset()
}

func (c *Conn) hello(verb string, arg []byte) {
	domain, _, _ := bytes.Cut(arg, []byte(" "))
	if len(domain) == 0 {
		c.reply(replyHeloArg)
		return
	}
	if len(domain) > maxDomain {
		c.reply(replyHeloLong) // it would go into our Received line
		return
	}
	c.reset()
	c.helo = string(domain)
	greet := c.srv.Hostname + " Hello " + c.helo
	if verb == "HELO" {
		c.reply(&Reply{Code: 250, Text: greet})
		return
	}
	caps := []string{greet, "PIPELINING", "8BITMIME", "CHUNKING", "ENHANCEDSTATUSCODES"}
	if c.srv.SMTPUTF8 {
		caps = append(caps, "SMTPUTF8")
	}
	if c.srv.TLSConfig != nil && !c.tls {
		caps = append(caps, "STARTTLS")
	}
	if c.srv.MaxMessageBytes > 0 {
		caps = append(caps, "SIZE "+strconv.FormatInt(c.srv.MaxMessageBytes, 10))
	} else {
		caps = append(caps, "SIZE")
	}
	if c.srv.MaxRecipients > 0 {
		caps = append(caps, "LIMITS RCPTMAX="+strconv.Itoa(c.srv.MaxRecipients))
	}
	for i, s := range caps {
		sep := "-"
		if i == len(caps)-1 {
			sep = " "
		}
		c.bw.WriteString("250" + sep + s + "\r\n")
	}
}
