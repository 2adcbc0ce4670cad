package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"mugai/gateway"
	"mugai/policy"
	"mugai/sanitize/detect"
	"mugai/sanitize/format"
	"mugai/sanitize/officepdf"
)

// cmdServe runs the relay until SIGINT or SIGTERM.
func cmdServe(args []string, _, stderr io.Writer) error {
	// Signals are caught first: a SIGHUP (logrotate)
	// or SIGTERM that arrives while the gateway starts waits for the loop
	// below instead of killing the process (SIGHUP's default action).
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGHUP)

	fs := newFlags("serve", stderr, "[-config FILE] [-v]")
	configFlag := fs.String("config", "", "configuration file (default: $MUGAI_CONFIG, else "+systemConfig+" when it exists, else the embedded defaults)")
	verbose := fs.Bool("v", false, "log the effective configuration and every start-up step as it happens")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	src := findConfig(*configFlag)
	configFile := &src.path // "" for the embedded defaults: SIGHUP then reloads no file
	cfg, err := src.load()
	if err != nil {
		return usagef("%s", oneLine(err))
	}
	// A failing start prints its error first and alone: the lines logged
	// while starting are held until the gateway runs (-v: written at once).
	out := &startLog{w: stderr, held: !*verbose}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	effective, _ := json.Marshal(cfg)
	configName := orDefault(*configFile, "(embedded defaults)")
	if *verbose {
		log.Info("starting mugai", "version", version, "config", configName, "effective", string(effective))
	}

	// The spool's lock and control socket come first: a second gateway on
	// the same spool stops here, before its recovery could touch files
	// the running one is writing. The SMTP listener next: a port in use
	// stops the start before anything is recovered or audited.
	ctl, err := gateway.ListenControl(cfg.Spool)
	if err != nil {
		return usagef("%s", oneLine(err))
	}
	defer ctl.Close()
	tl, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return usagef("listen: %v", err)
	}
	gogc, memLimit := tuneGC(cfg)
	log.Info("garbage collector", "gogc", gogc, "gogc_from", setBy("GOGC"), "memory_limit", memLimit, "memory_limit_from", setBy("GOMEMLIMIT"))
	reg := sanitizers(cfg.Cache)
	g, err := gateway.New(cfg, log, reg)
	if err != nil {
		tl.Close()
		return usagef("%s", oneLine(err))
	}
	l := &sessionListener{Listener: tl, conns: map[net.Conn]bool{}}
	done := make(chan error, 1)
	go func() { done <- g.Serve(l) }()
	go g.ServeControl(ctl)
	out.release()
	if *verbose {
		log.Info("mugai started", "control_socket", ctl.Path())
	} else {
		log.Info("mugai started", "version", version, "config", configName, "control_socket", ctl.Path(), "effective", string(effective))
	}
	go logOffice(log, reg) // runs LibreOffice once in its sandbox: seconds, not in the way of the listener
	if stopped, err := serveSignals(log, g, *configFile, sig, done); !stopped {
		return err // the server ended on its own
	}
	// The spool's lock (released by the deferred ctl.Close) is held until
	// the last delivery in flight is over: a new serve on this spool must
	// not schedule what this one is still delivering.
	return drain(log, g, l, cfg.ShutdownGrace.D(), cfg.Deliver.Timeout.D())
}

// logOffice says whether Office documents can be flattened (LibreOffice
// in its sandbox) or fall back to their text. The check runs soffice
// --version in the sandbox once; the first conversion waits for it.
func logOffice(log *slog.Logger, reg *format.Registry) {
	f, ok := reg.Lookup(policy.ActionFlatten, detect.TypeDOCX).(*officepdf.Flattener)
	if !ok {
		return
	}
	if v, err := f.Converter.Available(); err != nil {
		log.Info("office flatten: LibreOffice not available, Office documents fall back to extract", "error", err.Error())
	} else {
		log.Info("office flatten: LibreOffice available (sandboxed)", "version", v)
	}
}

// serveSignals answers signals until one asks the gateway to stop
// (stopped) or the server ends on its own (its error): SIGHUP reloads the
// configuration's policy and reopens the audit log, SIGUSR1 makes every
// waiting message due now.
func serveSignals(log *slog.Logger, g *gateway.Gateway, configFile string, sig <-chan os.Signal, done <-chan error) (stopped bool, err error) {
	for {
		select {
		case err := <-done:
			return false, err
		case s := <-sig:
			switch s {
			case syscall.SIGHUP: // logrotate, a new policy
				reloadConfig(log, configFile, g)
				if err := g.Reload(); err == nil {
					log.Info("reloaded: audit log reopened, policy in force", "policy_sha256", g.Policy().SHA256)
				} // a refusal is logged and audited by Reload
			case syscall.SIGUSR1: // as mugai queue flush does through the control socket
				if err := g.Rescan(); err != nil {
					log.Error("rescan of the spool failed", "err", err)
				} else {
					log.Info("spool rescanned: waiting messages are due now")
				}
			default:
				log.Info("shutting down", "signal", s.String())
				return true, nil
			}
		}
	}
}

// drain shuts the gateway down: SMTP sessions get grace to finish, then
// the ones still open are cut (a warning names how many; their clients
// got no 250 and will retry); deliveries in flight then get up to their
// own timeout. Running out of time is a normal exit, logged, not an error.
func drain(log *slog.Logger, g *gateway.Gateway, l *sessionListener, grace, deliver time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace+deliver+5*time.Second)
	defer cancel()
	cut := make(chan int, 1)
	timer := time.AfterFunc(grace, func() { cut <- l.cutAll() })
	err := g.Shutdown(ctx)
	if timer.Stop() {
		cut <- 0
	}
	if n := <-cut; n > 0 {
		log.Warn("shutdown: SMTP sessions still open after shutdown_grace were cut", "sessions", n, "shutdown_grace", grace)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("shutdown: deliveries still in flight were cut; their messages stay in the spool", "waited", grace+deliver)
		err = nil
	}
	if err == nil {
		log.Info("stopped")
	}
	return err
}

// sessionListener remembers the connections it accepted, so that a
// shutdown can cut the sessions still open after its grace period. The
// connections it hands out are the listener's own (*net.TCPConn).
type sessionListener struct {
	net.Listener
	mu      sync.Mutex
	conns   map[net.Conn]bool
	accepts int
}

func (l *sessionListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conns[c] = true
	if l.accepts++; l.accepts%256 == 0 { // forget the closed ones now and then
		for c := range l.conns {
			if closed(c) {
				delete(l.conns, c)
			}
		}
	}
	return c, nil
}

// cutAll closes every remembered connection still open and returns how
// many it closed.
func (l *sessionListener) cutAll() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for c := range l.conns {
		if c.Close() == nil { // an error: it was closed already
			n++
		}
		delete(l.conns, c)
	}
	return n
}

// closed reports whether a connection was closed (by its session).
func closed(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	return rc.Control(func(uintptr) {}) != nil
}

// reloadConfig reads the configuration file again on SIGHUP and applies
// what can change live (accept.networks, accept.domains); keys that need a
// restart are named in a warning, and a file that no longer loads leaves
// everything as it is.
func reloadConfig(log *slog.Logger, path string, g *gateway.Gateway) {
	if path == "" {
		return
	}
	cfg, err := gateway.LoadConfig(path)
	if err != nil {
		log.Error("configuration file is invalid now; nothing of it applied, and a restart would fail until it is fixed", "config", path, "err", oneLine(err))
		return
	}
	applied, restart := g.ApplyConfig(cfg)
	if len(applied) > 0 {
		log.Info("configuration applied", "keys", strings.Join(applied, ","))
	}
	if len(restart) > 0 {
		log.Warn("configuration changed in sections that apply only at restart", "sections", strings.Join(restart, ","))
	}
}

// startLog is serve's log output: while held, lines are kept in buf;
// release writes them and lets every later line through.
type startLog struct {
	mu   sync.Mutex
	w    io.Writer
	held bool
	buf  bytes.Buffer
}

func (s *startLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held {
		return s.buf.Write(p)
	}
	return s.w.Write(p)
}

// release writes the lines held so far, then writes through.
func (s *startLog) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held {
		s.w.Write(s.buf.Bytes())
		s.held = false
		s.buf = bytes.Buffer{}
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
