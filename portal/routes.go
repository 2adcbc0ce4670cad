package portal

import (
	"embed"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"mugai/portal/auth"
)

//go:embed static/style.css static/favicon.svg
var static embed.FS

// staticFiles are the only files under /static/, with their types.
var staticFiles = map[string]string{
	"style.css":   "text/css; charset=utf-8",
	"favicon.svg": "image/svg+xml",
}

// securityHeaders go on every response: no script may run, the page may
// not be framed, the link token in the address never leaves in a Referer,
// and nothing is cached (pages show a message's state).
var securityHeaders = [][2]string{
	{"Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
	{"X-Frame-Options", "DENY"},
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "no-referrer"},
	{"Cache-Control", "no-store"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cross-Origin-Resource-Policy", "same-origin"},
}

// routes is the portal's whole URL space; anything else is the 404 page.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /m/{token}", s.staffPage)
	mux.HandleFunc("POST /m/{token}/request", s.staffRequest)
	mux.HandleFunc("POST /m/{token}/unlock", s.staffUnlock)

	mux.HandleFunc("GET /admin", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /admin/{$}", s.admin(s.adminRequests))
	mux.HandleFunc("POST /admin/requests/{id}", s.admin(s.adminDecide))
	mux.HandleFunc("GET /admin/trace", s.admin(s.adminTrace))
	mux.HandleFunc("GET /admin/messages/{id}", s.admin(s.adminMessage))
	mux.HandleFunc("GET /admin/login", s.loginPage)
	mux.HandleFunc("POST /admin/login", s.login)
	mux.HandleFunc("POST /admin/logout", s.logout)

	mux.HandleFunc("GET /static/{file}", s.staticFile)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/", s.notFound)
	return s.headers(s.recover(s.limit(mux)))
}

// headers sets the security headers before anything else can write.
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, kv := range securityHeaders {
			h.Set(kv[0], kv[1])
		}
		next.ServeHTTP(w, r)
	})
}

// recover turns a handler's panic into a logged 500 page.
func (s *Server) recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.cfg.Log.Error("portal: panic", "path", r.URL.Path, "panic", v)
				s.fail(w, http.StatusInternalServerError, errInternal)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// limit answers 429 to a client address over its rate.
func (s *Server) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.rate.Allow(auth.ClientKey(s.clientAddr(r).String())) {
			w.Header().Set("Retry-After", "60")
			s.fail(w, http.StatusTooManyRequests, errTooMany)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// peer is the address of the connection's other end.
func peer(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		a, _ := netip.ParseAddr(host)
		return a.Unmap()
	}
	return ap.Addr().Unmap()
}

// trustedPeer reports whether r came from one of the trusted proxies.
func (s *Server) trustedPeer(r *http.Request) bool {
	a := peer(r)
	if !a.IsValid() {
		return false
	}
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the address rate limits count against: the peer, or
// behind a trusted proxy the last address it added to X-Forwarded-For.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	a := peer(r)
	if !s.trustedPeer(r) {
		return a
	}
	xff := r.Header.Values("X-Forwarded-For")
	if len(xff) == 0 {
		return a
	}
	last := xff[len(xff)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	if c, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
		return c.Unmap()
	}
	return a
}

// staticFile serves the stylesheet and the icon, embedded in the binary.
func (s *Server) staticFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	ctype, ok := staticFiles[name]
	if !ok {
		s.notFound(w, r)
		return
	}
	b, err := static.ReadFile("static/" + name)
	if err != nil {
		s.notFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Write(b)
}

// notFound is the one 404 page: for an unknown address and for a wrong,
// tampered or expired link alike, so it reveals nothing.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, http.StatusNotFound, errNotFoundPage)
}
