package gateway

import (
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// limitListener caps connections in total and per client address, and
// gives every connection an absolute session deadline (slowloris: a client
// that sends one byte a minute cannot keep a session forever). Over a cap
// the client gets 421 and the connection is closed before go-smtp sees it.
type limitListener struct {
	net.Listener
	hostname  string
	maxTotal  int
	maxPerIP  int
	sessionTO time.Duration
	maxBefore int // commands before the first MAIL
	maxLine   int // accept.max_line_length, CRLF included; 0: go-smtp's own check only

	mu    sync.Mutex
	total int
	perIP map[netip.Addr]int
}

// listenerOption sets an optional limit of a limitListener.
type listenerOption func(*limitListener)

// withMaxLine makes the connection layer enforce accept.max_line_length
// (see lineGate): pass it with the same value as smtp.Server.MaxLineLength.
func withMaxLine(n int) listenerOption { return func(l *limitListener) { l.maxLine = n } }

func newLimitListener(l net.Listener, hostname string, maxTotal, maxPerIP int, session time.Duration, maxBeforeMail int, opts ...listenerOption) *limitListener {
	ll := &limitListener{Listener: l, hostname: hostname, maxTotal: maxTotal, maxPerIP: maxPerIP,
		sessionTO: session, maxBefore: maxBeforeMail, perIP: map[netip.Addr]int{}}
	for _, o := range opts {
		o(ll)
	}
	return ll
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		var ip netip.Addr
		if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			ip = ta.AddrPort().Addr().Unmap()
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetNoDelay(true)
			}
		}
		l.mu.Lock()
		over := l.total >= l.maxTotal || l.perIP[ip] >= l.maxPerIP
		if !over {
			l.total++
			l.perIP[ip]++
		}
		l.mu.Unlock()
		if over {
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			c.Write(wireLine(replyTooManyConns, l.hostname))
			c.Close()
			continue
		}
		end := time.Now().Add(l.sessionTO)
		lc := &limitConn{Conn: c, end: end, release: func() { l.release(ip) }}
		lc.gate.max, lc.gate.maxCmds, lc.gate.host = l.maxLine, l.maxBefore, l.hostname
		if lc.gate.max <= 0 && l.maxBefore > 0 {
			// Commands are counted on the gate's lines; without
			// withMaxLine it bounds lines as go-smtp does by default.
			lc.gate.max = goSMTPMaxLine
		}
		c.SetDeadline(end)
		return lc, nil
	}
}

func (l *limitListener) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.perIP[ip]--; l.perIP[ip] <= 0 {
		delete(l.perIP, ip)
	}
}

// limitConn keeps every deadline go-smtp sets within the session deadline.
type limitConn struct {
	net.Conn
	end     time.Time
	once    sync.Once
	release func()

	dotCR    dotCRScan
	poisoned bool

	// gate splits the client's stream into lines: it enforces
	// accept.max_line_length and counts the commands before MAIL.
	gate lineGate
}

// goSMTPMaxLine is go-smtp's default Server.MaxLineLength.
const goSMTPMaxLine = 2000

// Read hands go-smtp what the client sent, through the line gate when
// accept.max_line_length (withMaxLine) or accept.max_commands_before_mail
// is set.
func (c *limitConn) Read(p []byte) (int, error) {
	if c.gate.max <= 0 {
		return c.readRaw(p)
	}
	return c.gate.read(p, c.readRaw, c.Conn)
}

// Write watches go-smtp's replies for the line gate (354: data follows;
// 220 to STARTTLS: ciphertext follows).
func (c *limitConn) Write(p []byte) (int, error) {
	if c.gate.max > 0 {
		c.gate.reply(p)
	}
	return c.Conn.Write(p)
}

// readRaw reads from the client with the check that looks at raw bytes:
// a line-start ".\r".
func (c *limitConn) readRaw(p []byte) (int, error) {
	if c.poisoned {
		return 0, errDotBareCR
	}
	n, err := c.Conn.Read(p)
	if i := c.dotCR.scan(p[:n]); i >= 0 {
		// Hand over what precedes the bad byte; the next read fails,
		// inside the DATA that holds it (go-smtp is then waiting for
		// the byte after ".\r"), so that message is refused.
		c.poisoned = true
		if n = i; n == 0 {
			return 0, errDotBareCR
		}
		err = nil
	}
	return n, err
}

func (c *limitConn) clamp(t time.Time) time.Time {
	if t.IsZero() || t.After(c.end) {
		return c.end
	}
	return t
}

// NetConn returns the connection underneath, as tls.Conn does: a session
// asks it whether its client is still there.
func (c *limitConn) NetConn() net.Conn { return c.Conn }

func (c *limitConn) SetDeadline(t time.Time) error      { return c.Conn.SetDeadline(c.clamp(t)) }
func (c *limitConn) SetReadDeadline(t time.Time) error  { return c.Conn.SetReadDeadline(c.clamp(t)) }
func (c *limitConn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(c.clamp(t)) }

func (c *limitConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// diskFree returns the bytes available to us on the file system of path.
func diskFree(path string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}
