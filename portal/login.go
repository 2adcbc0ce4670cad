package portal

import (
	"net/http"

	"mugai/portal/auth"
	"mugai/portal/token"
)

type loginView struct {
	page
	Form      bool // the htpasswd form
	Proxy     bool // the sign-in through the SSO proxy
	LoginCSRF string
}

// loginPage shows the sign-in form (with users) or says to come through
// the SSO proxy; a signed-in approver goes to the requests.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if !s.authConfigured() {
		s.fail(w, http.StatusForbidden, errNotConfigured)
		return
	}
	if _, ok := s.who(w, r, true); ok {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return
	}
	status := http.StatusOK
	if s.users == nil {
		status = http.StatusForbidden
	}
	s.renderLogin(w, r, status, nil)
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, n *note) {
	v := loginView{
		page:  page{TitleJA: "承認者ログイン", TitleEN: "Approver sign-in", Note: n},
		Form:  s.users != nil,
		Proxy: s.cfg.TrustedHeader != "",
	}
	if v.Form {
		v.LoginCSRF = token.MAC(s.cfg.Secret, csrfLogin, s.preCookie(w, r, true))
	}
	s.render(w, status, "login", v)
}

var (
	noteBadLogin = &note{"err", "ユーザー名またはパスワードが違います。", "Wrong user name or password."}
	noteLocked   = &note{"err", "ログインの失敗が続いたため、しばらくログインできません。15 分ほど待ってください。",
		"Too many failed sign-ins: wait about 15 minutes."}
)

// login checks a user name and password from the form (its CSRF tag
// bound to the pre-login cookie), with failures limited per name and
// client address, and starts a session: a new id each time.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.users == nil {
		s.fail(w, http.StatusForbidden, errNotConfigured)
		return
	}
	f, ok := s.checkCSRF(w, r, s.loginCSRF(r))
	if !ok {
		return
	}
	defer f.zero()
	user := f.get("user")
	key := "login\x00" + user + "\x00" + auth.ClientKey(s.clientAddr(r).String())
	if len(user) == 0 || len(user) > auth.MaxNameLen {
		s.renderLogin(w, r, http.StatusForbidden, noteBadLogin)
		return
	}
	if ok, _ := s.logins.Allow(key); !ok {
		s.renderLogin(w, r, http.StatusTooManyRequests, noteLocked)
		return
	}
	pw := f.bytes("password")
	good := s.users.Check(user, string(pw))
	f.zero()
	if !good {
		s.logins.Fail(key)
		s.cfg.Log.Warn("portal: login failed", "user", user, "client", s.clientAddr(r).String())
		if err := s.users.Err(); err != nil {
			// Nobody can log in while the file does not load: say why.
			s.cfg.Log.Error("portal: the approvers' file does not load; every login fails until it does", "err", err)
		}
		s.renderLogin(w, r, http.StatusForbidden, noteBadLogin)
		return
	}
	s.logins.Reset(key)
	if !s.mayApprove(user) {
		s.fail(w, http.StatusForbidden, errNotApprover)
		return
	}
	stamp, ok := s.users.Stamp(user)
	if !ok { // removed between the check and now
		s.renderLogin(w, r, http.StatusForbidden, noteBadLogin)
		return
	}
	id := s.sessions.Create(sessionUser(user, stamp))
	http.SetCookie(w, s.cookie(r, cookieSession, id, cookieMaxAge))
	http.SetCookie(w, s.cookie(r, cookiePre, "", -1))
	s.cfg.Log.Info("portal: login", "user", user, "client", s.clientAddr(r).String())
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

// loginCSRF is the tag the login form must carry: "" (never valid)
// without a pre-login cookie.
func (s *Server) loginCSRF(r *http.Request) string {
	pre := s.preCookie(nil, r, false)
	if pre == "" {
		return ""
	}
	return token.MAC(s.cfg.Secret, csrfLogin, pre)
}

// logout ends the session (its CSRF tag bound to it) and clears the
// cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	a, ok := s.who(w, r, false)
	if !ok || a.session == "" {
		s.fail(w, http.StatusForbidden, errLoginRequired)
		return
	}
	f, ok := s.checkCSRF(w, r, a.csrf)
	if !ok {
		return
	}
	f.zero()
	s.sessions.Delete(a.session)
	http.SetCookie(w, s.cookie(r, cookieSession, "", -1))
	s.cfg.Log.Info("portal: logout", "user", a.name)
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}
