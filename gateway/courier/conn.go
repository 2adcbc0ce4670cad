package courier

import (
	"context"
	"net"
	"sync"
	"time"
)

// boundedConn keeps every deadline on a connection within its context.
// go-smtp's client sets its own deadline around each command (5 min) and
// clears it afterwards, which would silently lift the deadline of the whole
// transaction (deliver.timeout); here a deadline later than the context's,
// or none, becomes the context's, and once the context is done every
// deadline is in the past. The mutex orders SetDeadline against the
// cancellation so a late SetDeadline cannot undo it.
//
// A connection kept for reuse (pool.go) is bound to each transaction's
// context in turn (bind); a cancellation of an earlier context that fires
// late finds another context bound and changes nothing.
type boundedConn struct {
	net.Conn
	ctx  context.Context // under mu
	mu   sync.Mutex
	stop func() bool

	// helloName replaces "localhost" in the first EHLO/HELO: go-smtp's
	// NewClientStartTLS greets with "localhost" before TLS and offers
	// no way to set the name (v0.25.1). Only the first two writes are
	// looked at: the greeting exchange, before any TLS record.
	helloName string
	writes    int
}

var past = time.Unix(1, 0)

func newBoundedConn(ctx context.Context, c net.Conn) *boundedConn {
	b := &boundedConn{Conn: c, stop: func() bool { return true }}
	b.bind(ctx)
	return b
}

// bind makes ctx the context that bounds the connection's deadlines.
func (b *boundedConn) bind(ctx context.Context) {
	b.stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ctx = ctx
	b.Conn.SetDeadline(b.clamp(time.Time{}))
	b.stop = context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.ctx == ctx { // not rebound meanwhile
			b.Conn.SetDeadline(past)
		}
	})
}

func (b *boundedConn) clamp(t time.Time) time.Time {
	if b.ctx.Err() != nil {
		return past
	}
	if dl, ok := b.ctx.Deadline(); ok && (t.IsZero() || t.After(dl)) {
		return dl
	}
	return t
}

func (b *boundedConn) SetDeadline(t time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Conn.SetDeadline(b.clamp(t))
}

func (b *boundedConn) SetReadDeadline(t time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Conn.SetReadDeadline(b.clamp(t))
}

func (b *boundedConn) SetWriteDeadline(t time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Conn.SetWriteDeadline(b.clamp(t))
}

func (b *boundedConn) Close() error {
	b.stop()
	return b.Conn.Close()
}

func (b *boundedConn) Write(p []byte) (int, error) {
	if b.writes < 2 && b.helloName != "" {
		b.writes++
		return writeHello(b.Conn, p, b.helloName)
	}
	return b.Conn.Write(p)
}

// writeHello writes p to c, with name instead of "localhost" when p is
// go-smtp's greeting "EHLO localhost" or "HELO localhost".
func writeHello(c net.Conn, p []byte, name string) (int, error) {
	for _, verb := range []string{"EHLO", "HELO"} {
		if string(p) == verb+" localhost\r\n" {
			if _, err := c.Write([]byte(verb + " " + name + "\r\n")); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	return c.Write(p)
}

// HelloAs wraps c for smtp.NewClientStartTLS, which greets with "EHLO
// localhost" before the handshake and offers no way to set the name
// (go-smtp v0.25.1): the first two writes, the greeting exchange before
// any TLS record, say name instead.
func HelloAs(c net.Conn, name string) net.Conn { return &helloConn{Conn: c, name: name} }

type helloConn struct {
	net.Conn
	name   string
	writes int
}

func (h *helloConn) Write(p []byte) (int, error) {
	if h.writes < 2 {
		h.writes++
		return writeHello(h.Conn, p, h.name)
	}
	return h.Conn.Write(p)
}
