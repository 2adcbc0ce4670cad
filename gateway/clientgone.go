package gateway

import (
	"context"
	"errors"
	"net"
	"time"
)

// errClientGone is a client that closed its connection (gave up waiting)
// before we answered DATA: the message is not kept, so its retry is not a
// second copy.
var errClientGone = errors.New("gateway: the client closed the connection before the reply to DATA")

// clientPoll is how often a session waiting for its rebuild looks whether
// its client is still there.
const clientPoll = 500 * time.Millisecond

// watchClient cancels ctx with errClientGone when the client of c goes
// away, polling until stop is called. smtpd reads nothing while Data
// runs and offers no signal, so the socket's state is asked
// (clientClosed); where that is not possible it never cancels and the
// rebuild deadline bounds the wait.
func watchClient(c net.Conn, cancel context.CancelCauseFunc) (stop func()) {
	tc := tcpConn(c)
	if tc == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(clientPoll)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if clientClosed(tc) {
					cancel(errClientGone)
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

// clientGone reports whether the client of c has closed its side (or the
// connection was reset): the last look before a message is committed.
func clientGone(c net.Conn) bool {
	tc := tcpConn(c)
	return tc != nil && clientClosed(tc)
}

// tcpConn finds the TCP connection under c (TLS, our limitConn), or nil.
func tcpConn(c net.Conn) *net.TCPConn {
	for range 8 {
		switch v := c.(type) {
		case *net.TCPConn:
			return v
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}
