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
type boundedConn struct {
	net.Conn
	ctx  context.Context
	mu   sync.Mutex
	stop func() bool
}

var past = time.Unix(1, 0)

func newBoundedConn(ctx context.Context, c net.Conn) *boundedConn {
	b := &boundedConn{Conn: c, ctx: ctx}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Conn.SetDeadline(b.clamp(time.Time{}))
	b.stop = context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.Conn.SetDeadline(past)
	})
	return b
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
