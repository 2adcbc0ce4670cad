package courier

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// readErr reads from c and returns the error, or fails the test if the
// read is still blocked after a generous guard (the deadline was lost).
func readErr(t *testing.T, c net.Conn) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		c.Close()
		t.Fatal("read still blocked: the context's deadline was lifted")
		return nil
	}
}

// TestBoundedConn does what go-smtp's client does around each command
// (set a long deadline, then clear it) and checks that the transaction's
// deadline and its cancellation still hold.
func TestBoundedConn(t *testing.T) {
	t.Run("deadline set after expiry", func(t *testing.T) {
		a, peer := net.Pipe()
		defer peer.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		c := newBoundedConn(ctx, a)
		defer c.Close()
		<-ctx.Done()
		time.Sleep(20 * time.Millisecond) // let the cancellation land first
		// go-smtp's next command: a fresh 5-minute deadline, after ours.
		c.SetDeadline(time.Now().Add(time.Hour))
		if err := readErr(t, c); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("read: %v, want a deadline error", err)
		}
	})
	t.Run("deadline set after cancellation", func(t *testing.T) {
		a, peer := net.Pipe()
		defer peer.Close()
		ctx, cancel := context.WithCancel(context.Background())
		c := newBoundedConn(ctx, a)
		defer c.Close()
		cancel()
		time.Sleep(20 * time.Millisecond) // let the cancellation land first
		c.SetReadDeadline(time.Time{})    // go-smtp clearing after a command
		if err := readErr(t, c); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("read: %v, want a deadline error", err)
		}
	})
	t.Run("shorter deadline kept", func(t *testing.T) {
		a, peer := net.Pipe()
		defer peer.Close()
		c := newBoundedConn(context.Background(), a)
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Millisecond))
		if err := readErr(t, c); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("read: %v, want a deadline error", err)
		}
	})
}
