//go:build !linux

package gateway

import "net"

// clientClosed cannot tell here; the rebuild deadline bounds the wait.
func clientClosed(*net.TCPConn) bool { return false }
