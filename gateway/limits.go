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
// the client gets 421 and the connection is closed before smtpd sees it.
// The limits of the protocol itself (line length, commands before MAIL,
// strict line endings) are smtpd's, counted on the lines it parses.
type limitListener struct {
	net.Listener
	hostname  string
	maxTotal  int
	maxPerIP  int
	sessionTO time.Duration

	mu    sync.Mutex
	total int
	perIP map[netip.Addr]int
}

func newLimitListener(l net.Listener, hostname string, maxTotal, maxPerIP int, session time.Duration) *limitListener {
	return &limitListener{Listener: l, hostname: hostname, maxTotal: maxTotal, maxPerIP: maxPerIP,
		sessionTO: session, perIP: map[netip.Addr]int{}}
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

// limitConn keeps every deadline smtpd sets within the session deadline.
type limitConn struct {
	net.Conn
	end     time.Time
	once    sync.Once
	release func()
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
