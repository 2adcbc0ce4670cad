package portal

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"

	"mugai/portal/auth"
	"mugai/portal/token"
)

// Admin cookies, both HttpOnly, SameSite=Strict, Path=/admin/.
const (
	cookieSession = "mugai_session" // a login's session id
	cookiePre     = "mugai_pre"     // random; binds the login form's CSRF tag (and a proxy user's)
	cookieMaxAge  = int(sessionMax / 1e9)
)

// Admin error pages; none of them shows anything of a request.
var (
	errNotConfigured = problem{page: page{TitleJA: "承認機能は設定されていません", TitleEN: "Approvals are not configured"},
		TextJA: "このゲートウェイでは承認者のログインが設定されていません（portal.users または portal.trusted_header）。",
		TextEN: "No approver sign-in is configured on this gateway (portal.users or portal.trusted_header)."}
	errLoginRequired = problem{page: page{TitleJA: "ログインが必要です", TitleEN: "Sign-in required"},
		TextJA: "承認者としてログインしてください。何も変更していません。",
		TextEN: "Sign in as an approver. Nothing was changed.", Back: "/admin/login"}
	errNotApprover = problem{page: page{TitleJA: "承認者ではありません", TitleEN: "Not an approver"},
		TextJA: "このアカウントには承認の権限がありません（portal.approvers）。",
		TextEN: "This account may not approve requests (portal.approvers)."}
)

// approver is who an admin request comes from.
type approver struct {
	name    string
	session string // the session id; "" for a proxy's user
	csrf    string // the tag the admin forms carry
}

func (s *Server) authConfigured() bool { return s.users != nil || s.cfg.TrustedHeader != "" }

// mayApprove reports whether name may decide requests.
func (s *Server) mayApprove(name string) bool {
	return len(s.cfg.Approvers) == 0 || slices.Contains(s.cfg.Approvers, name)
}

// who returns the signed-in user of r: a trusted proxy's header first,
// then a live session. For a proxy's user the CSRF tag is bound to the
// pre-login cookie; with set, a missing one is created.
func (s *Server) who(w http.ResponseWriter, r *http.Request, set bool) (approver, bool) {
	if u, ok := auth.TrustedUser(r, s.cfg.TrustedHeader, s.cfg.TrustedProxies); ok {
		pre := s.preCookie(w, r, set)
		a := approver{name: u}
		if pre != "" {
			a.csrf = token.MAC(s.cfg.Secret, csrfProxy, u, pre)
		}
		return a, true
	}
	if s.users == nil {
		return approver{}, false
	}
	c, err := r.Cookie(cookieSession)
	if err != nil || c.Value == "" {
		return approver{}, false
	}
	held, ok := s.sessions.Get(c.Value)
	if !ok {
		return approver{}, false
	}
	u, stamp, _ := strings.Cut(held, "\x00")
	if now, ok := s.users.Stamp(u); !ok || !token.Equal(now, stamp) {
		// Removed from the file, or a new password: the session ends.
		s.sessions.Delete(c.Value)
		return approver{}, false
	}
	return approver{name: u, session: c.Value, csrf: token.MAC(s.cfg.Secret, csrfAdmin, c.Value)}, true
}

// sessionUser is what a session holds: the user and the fingerprint of
// the user's entry at login (auth.Users.Stamp); names hold no NUL.
func sessionUser(user, stamp string) string { return user + "\x00" + stamp }

// admin wraps an approver's page: configured, signed in, an approver.
// Without a sign-in a GET goes to the login page and a POST is refused;
// neither shows anything of a request.
func (s *Server) admin(h func(http.ResponseWriter, *http.Request, approver)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authConfigured() {
			s.fail(w, http.StatusForbidden, errNotConfigured)
			return
		}
		a, ok := s.who(w, r, r.Method == http.MethodGet)
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
				return
			}
			s.fail(w, http.StatusForbidden, errLoginRequired)
			return
		}
		if !s.mayApprove(a.name) {
			s.fail(w, http.StatusForbidden, errNotApprover)
			return
		}
		h(w, r, a)
	}
}

// adminPage is the layout's part of an approver's page.
func (a approver) page(ja, en string) page {
	return page{TitleJA: ja, TitleEN: en, User: shown(a.name, maxShown), CSRF: a.csrf, Logout: a.session != ""}
}

// checkCSRF reads an admin form and checks its tag against want; on
// false it has written the answer. The caller zeroes the form.
func (s *Server) checkCSRF(w http.ResponseWriter, r *http.Request, want string) (*form, bool) {
	f, err := s.readForm(w, r)
	if err != nil {
		return nil, false
	}
	if want == "" || !token.Equal(f.get("csrf"), want) {
		f.zero()
		s.fail(w, http.StatusForbidden, errCSRF)
		return nil, false
	}
	return f, true
}

// preCookie returns the pre-login cookie's value; with set, a missing or
// malformed one is replaced by a new random value sent back.
func (s *Server) preCookie(w http.ResponseWriter, r *http.Request, set bool) string {
	if c, err := r.Cookie(cookiePre); err == nil && validPre(c.Value) {
		return c.Value
	}
	if !set {
		return ""
	}
	v := newID()
	http.SetCookie(w, s.cookie(r, cookiePre, v, cookieMaxAge))
	return v
}

func validPre(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}

func newID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// cookie makes an admin cookie; maxAge < 0 deletes it.
func (s *Server) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/admin/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || s.secure,
	}
}
