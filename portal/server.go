package portal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"mugai/portal/auth"
	"mugai/portal/requests"
	"mugai/portal/token"
)

// Config is what the portal is built from; the gateway fills it from its
// portal: configuration keys.
type Config struct {
	URL            string         // base written into notices; links are URL + "/m/" + token
	Secret         []byte         // from token.LoadSecret(portal.secret_file)
	Users          string         // htpasswd file ("" none)
	TrustedHeader  string         // e.g. X-Remote-User ("" none)
	TrustedProxies []netip.Prefix // the only peers whose TrustedHeader counts
	Approvers      []string       // who may decide; empty: every authenticated user
	Notify         []string       // addresses told when a request waits / is decided
	StateDir       string         // requests store directory
	Now            func() time.Time
	Log            *slog.Logger
}

// HTTP server limits: a slow or huge client cannot hold a connection or
// memory for long (slowloris). An unlock decrypts and sanitizes before it
// answers, so writes get more time than reads.
type httpLimits struct {
	readHeader, read, write, idle time.Duration
	maxHeaderBytes                int
}

var defaultHTTPLimits = httpLimits{
	readHeader:     10 * time.Second,
	read:           30 * time.Second,
	write:          3 * time.Minute,
	idle:           2 * time.Minute,
	maxHeaderBytes: 32 << 10,
}

// Sessions and attempt limits.
const (
	sessionIdle  = 30 * time.Minute
	sessionMax   = 12 * time.Hour
	unlockTries  = 5 // failed unlocks of one part per unlockWindow
	unlockWindow = 15 * time.Minute
	unlockLock   = time.Hour
	// Unlocked copies of one part mailed to one recipient per
	// unlockLock: a lost mail can be asked for again, but a link holder
	// who knows the password cannot flood a mailbox (and the CPU) with
	// unlocks.
	unlockDeliveries = 3
	loginTries       = 5 // failed logins per user and address per loginWindow
	loginWindow      = 15 * time.Minute
	loginLock        = 15 * time.Minute
	// Requests per client address: generous, as a city's staff may all
	// come through one web proxy; a page is two requests (with its CSS).
	ratePerMinute = 300
	rateBurst     = 100
)

// Server serves the portal. Its methods may be called concurrently.
type Server struct {
	cfg      Config
	b        Backend
	base     *url.URL
	secure   bool // URL is https: cookies are Secure even behind a TLS proxy
	store    *requests.Store
	users    *auth.Users // nil: no login form
	sessions *auth.Sessions
	unlocks  *auth.Limiter
	opened   *auth.Limiter // successful unlocks, by part and recipient
	tries    *tries        // failures counted to tell how many remain
	logins   *auth.Limiter
	rate     *auth.Rate
	pages    pages
	handler  http.Handler
	limits   httpLimits

	mu sync.Mutex // serializes a request's creation and each decision

	inflightMu sync.Mutex
	inflight   map[string]bool // unlocks in progress, by part

	srvMu   sync.Mutex
	servers []*http.Server
	closed  bool // Shutdown was called: Serve refuses to start
}

// New checks cfg and opens the requests store. Every problem is named.
func New(cfg Config, b Backend) (*Server, error) {
	if b == nil {
		return nil, errors.New("portal: no backend")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, b: b, limits: defaultHTTPLimits}
	if err := s.checkConfig(); err != nil {
		return nil, err
	}
	if cfg.Users != "" {
		u, err := auth.LoadUsers(cfg.Users)
		if err != nil {
			return nil, fmt.Errorf("portal: users: %w", err)
		}
		s.users = u
	}
	st, err := requests.Open(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("portal: requests store: %w", err)
	}
	st.Now = cfg.Now
	s.store = st
	s.sessions = auth.NewSessions(sessionIdle, sessionMax, cfg.Now)
	s.unlocks = auth.NewLimiter(unlockTries, unlockWindow, unlockLock, cfg.Now)
	s.opened = auth.NewLimiter(unlockDeliveries, unlockLock, unlockLock, cfg.Now)
	s.tries = newTries(unlockTries, unlockWindow)
	s.logins = auth.NewLimiter(loginTries, loginWindow, loginLock, cfg.Now)
	s.rate = auth.NewRate(ratePerMinute, rateBurst, cfg.Now)
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// checkConfig names every problem of s.cfg at once.
func (s *Server) checkConfig() error {
	var errs []error
	u, err := url.Parse(s.cfg.URL)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("portal: url %q: %w", s.cfg.URL, err))
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "", u.RawQuery != "", u.Fragment != "", u.User != nil:
		errs = append(errs, fmt.Errorf("portal: url %q: want http:// or https:// with a host and no query", s.cfg.URL))
	case strings.Trim(u.Path, "/") != "":
		errs = append(errs, fmt.Errorf("portal: url %q: the portal is served at the root of its host (no path)", s.cfg.URL))
	default:
		s.base, s.secure = u, u.Scheme == "https"
	}
	if len(s.cfg.Secret) < 32 {
		errs = append(errs, errors.New("portal: secret shorter than 32 bytes"))
	}
	if s.cfg.StateDir == "" {
		errs = append(errs, errors.New("portal: no state directory for requests"))
	}
	if s.cfg.TrustedHeader != "" {
		if len(s.cfg.TrustedProxies) == 0 {
			errs = append(errs, fmt.Errorf("portal: trusted_header %q without trusted_proxies (a header from anyone else is ignored, so it would never count)", s.cfg.TrustedHeader))
		}
		if http.CanonicalHeaderKey(s.cfg.TrustedHeader) == "" || strings.ContainsAny(s.cfg.TrustedHeader, " :\t\r\n") {
			errs = append(errs, fmt.Errorf("portal: trusted_header %q is not a header name", s.cfg.TrustedHeader))
		}
	}
	for _, p := range s.cfg.TrustedProxies {
		if !p.IsValid() {
			errs = append(errs, errors.New("portal: an invalid trusted_proxies prefix"))
		}
	}
	for _, a := range s.cfg.Approvers {
		if strings.TrimSpace(a) == "" {
			errs = append(errs, errors.New("portal: an empty name in approvers"))
		}
	}
	return errors.Join(errs...)
}

// Handler returns the portal's routes with its security headers, rate
// limit and panic recovery.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers HTTP on l until Shutdown (then http.ErrServerClosed).
func (s *Server) Serve(l net.Listener) error {
	hs := s.httpServer()
	if hs == nil {
		l.Close()
		return http.ErrServerClosed
	}
	return hs.Serve(l)
}

// ServeTLS answers HTTPS on l until Shutdown (then http.ErrServerClosed).
func (s *Server) ServeTLS(l net.Listener, certFile, keyFile string) error {
	hs := s.httpServer()
	if hs == nil {
		l.Close()
		return http.ErrServerClosed
	}
	return hs.ServeTLS(l, certFile, keyFile)
}

// httpServer makes an http.Server with the portal's limits, nil after
// Shutdown.
func (s *Server) httpServer() *http.Server {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.limits.readHeader,
		ReadTimeout:       s.limits.read,
		WriteTimeout:      s.limits.write,
		IdleTimeout:       s.limits.idle,
		MaxHeaderBytes:    s.limits.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.cfg.Log.Handler(), slog.LevelDebug),
	}
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.closed {
		return nil
	}
	s.servers = append(s.servers, hs)
	return hs
}

// Shutdown stops every server Serve or ServeTLS started, waiting for
// requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.srvMu.Lock()
	servers := s.servers
	s.servers, s.closed = nil, true
	s.srvMu.Unlock()
	var errs []error
	for _, hs := range servers {
		if err := hs.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Purge removes the requests whose original's retention ended before
// now, and returns how many.
func (s *Server) Purge(now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store.Purge(now)
}

// Link returns the portal page's address for original id, valid until
// expires: what the gateway writes into a notice.
func Link(base string, secret []byte, id string, expires time.Time) string {
	return strings.TrimRight(base, "/") + "/m/" + token.Sign(secret, id, expires)
}
