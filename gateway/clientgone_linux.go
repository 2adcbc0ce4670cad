package gateway

import (
	"net"

	"golang.org/x/sys/unix"
)

// tcpEstablished is TCP_ESTABLISHED (include/net/tcp_states.h).
const tcpEstablished = 1

// clientClosed reports whether the connection has left the established
// state: the client sent FIN (CLOSE_WAIT) or a reset (CLOSE). Pipelined
// bytes waiting to be read do not hide it, nor does TLS: the state is the
// kernel's, read with TCP_INFO; nothing is read from the socket.
func clientClosed(c *net.TCPConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	_ = rc.Control(func(fd uintptr) {
		info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		closed = err == nil && info.State != tcpEstablished
	})
	return closed
}
