package gateway

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"mugai/gateway/queue"
)

// The control socket is how the admin commands tell the running gateway
// that they changed its spool: a Unix socket in the spool (mode 0600,
// owned by the gateway's user), on which the gateway answers one request
// per connection, one line each way. Only the gateway that holds the
// spool's lock (mugai.lock, flock) listens there, so whatever answers is
// that gateway: no process id is trusted, no signal is sent.
//
// Requests:
//
//	ping         "ok mugai pid N"
//	flush        the spool rescanned, every waiting message due now
//	rescan       the spool rescanned (added and removed entries followed)
//	add ID       the entry ID, put in the spool by an admin, scheduled
//	drop ID      the entry ID, deleted by an admin, unscheduled
//
// Replies start with "ok " or "error ".

var (
	// ErrRunning: another gateway holds the spool.
	ErrRunning = errors.New("another gateway is running on this spool")
	// ErrNotRunning: nothing answers on the spool's control socket.
	ErrNotRunning = errors.New("no running gateway answers on the control socket")
)

// controlTimeout bounds a control exchange on either side.
const controlTimeout = 10 * time.Second

// maxSocketPath is the longest Unix socket path every platform takes.
const maxSocketPath = 103

// Control is the listening control socket and the spool lock behind it.
type Control struct {
	path string
	l    *net.UnixListener
	lock *os.File
}

// ControlSocket returns the control socket's path for a spool directory.
func ControlSocket(spool string) string { return filepath.Join(spool, queue.SocketName) }

// ListenControl takes the spool's lock and listens on its control socket,
// replacing a socket file a gateway that died left behind. It fails with
// ErrRunning when another gateway holds the spool: call it before
// anything recovers the spool.
func ListenControl(spool string) (*Control, error) {
	if err := os.MkdirAll(spool, 0o750); err != nil {
		return nil, err
	}
	path := ControlSocket(spool)
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("control socket %s: path longer than %d bytes; use a shorter spool path", path, maxSocketPath)
	}
	lock, err := os.OpenFile(filepath.Join(spool, queue.LockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s; its control socket is %s)", ErrRunning, spool, path)
		}
		return nil, fmt.Errorf("spool lock: %w", err)
	}
	// We hold the lock: a socket file there is a dead gateway's.
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			lock.Close()
			return nil, fmt.Errorf("control socket %s: a %s is in the way; remove it", path, fi.Mode().Type())
		}
		if err := os.Remove(path); err != nil {
			lock.Close()
			return nil, fmt.Errorf("stale control socket: %w", err)
		}
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	l.SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		lock.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return &Control{path: path, l: l, lock: lock}, nil
}

// Path returns the socket's path.
func (c *Control) Path() string { return c.path }

// Close stops listening, removes the socket file and releases the lock.
func (c *Control) Close() error {
	err := c.l.Close()
	return errors.Join(err, c.lock.Close())
}

// maxControlConns bounds the control connections served at once; one
// over that is closed at once.
const maxControlConns = 8

// ServeControl answers control requests on c until c is closed, each
// connection in its own goroutine (at most maxControlConns at once), so
// that idle connections do not hold up an admin command.
func (g *Gateway) ServeControl(c *Control) {
	slots := make(chan struct{}, maxControlConns)
	for {
		conn, err := c.l.Accept()
		if err != nil {
			return
		}
		select {
		case slots <- struct{}{}:
		default:
			g.log.Warn("control connection refused: too many at once", "max", maxControlConns)
			conn.Close()
			continue
		}
		go func() {
			defer func() { <-slots }()
			g.controlConn(conn)
		}()
	}
}

func (g *Gateway) controlConn(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(controlTimeout))
	line, err := bufio.NewReader(io.LimitReader(conn, 256)).ReadString('\n')
	if err != nil {
		return
	}
	req := strings.TrimSpace(line)
	reply, err := g.control(req)
	if err != nil {
		g.log.Error("control request failed", "request", req, "err", err)
		reply = "error " + flatLine(err.Error())
	} else {
		g.log.Info("control request", "request", req, "reply", reply)
		reply = "ok " + reply
	}
	fmt.Fprintf(conn, "%s\n", reply)
}

// control carries out one request and returns the reply's text.
func (g *Gateway) control(req string) (string, error) {
	verb, id, _ := strings.Cut(req, " ")
	if verb == "add" || verb == "drop" {
		if err := queue.ValidID(id); err != nil {
			return "", err
		}
	} else if id != "" {
		return "", fmt.Errorf("%q takes no argument", verb)
	}
	switch verb {
	case "ping":
		return fmt.Sprintf("mugai pid %d", os.Getpid()), nil
	case "flush", "rescan":
		added, dropped, err := g.delivery.Rescan(verb == "flush")
		if err != nil {
			return "", err
		}
		text := fmt.Sprintf("spool rescanned: %d added, %d dropped", added, dropped)
		if verb == "flush" {
			text += "; every waiting message is due now"
		}
		return text, nil
	case "add":
		ok, err := g.delivery.AddFromSpool(id)
		switch {
		case errors.Is(err, queue.ErrNotFound):
			return id + " is not in the spool", nil
		case err != nil:
			return "", err
		case !ok:
			return id + " is scheduled already", nil
		}
		return id + " scheduled", nil
	case "drop":
		if g.delivery.Drop(id) {
			return id + " dropped from the schedule", nil
		}
		return id + " was not waiting", nil
	}
	return "", fmt.Errorf("unknown request %q", verb)
}

// AskGateway sends one request to the gateway running on spool and
// returns its reply's text. It fails with ErrNotRunning when nothing
// listens there (no socket, or a dead gateway's), and with an error
// naming the timeout when something listens but does not answer.
func AskGateway(spool, req string) (string, error) {
	path := ControlSocket(spool)
	conn, err := net.DialTimeout("unix", path, controlTimeout)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return "", fmt.Errorf("%w (%s)", ErrNotRunning, path)
		}
		return "", fmt.Errorf("control socket %s: %w", path, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(controlTimeout))
	if _, err := fmt.Fprintf(conn, "%s\n", req); err != nil {
		return "", fmt.Errorf("control socket %s: %w", path, err)
	}
	line, err := bufio.NewReader(io.LimitReader(conn, 4096)).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("control socket %s: no answer from the gateway: %w", path, err)
	}
	line = strings.TrimSpace(line)
	if text, ok := strings.CutPrefix(line, "ok "); ok {
		return text, nil
	}
	return "", fmt.Errorf("the gateway refused %q: %s", req, strings.TrimPrefix(line, "error "))
}

func flatLine(s string) string { return strings.Join(strings.Fields(s), " ") }
