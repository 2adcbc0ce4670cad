package portal

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"mugai/portal/requests"
)

// waitingRequest files a request for g1's part 2 with a recognisable
// reason and returns it.
func (h *harness) waitingRequest() requests.Request {
	h.t.Helper()
	res := h.post(h.link("g1")+"/request", url.Values{"part": {"2"}, "reason": {"UNIQUE-REASON-42"}, "csrf": {h.staffForm("g1")}})
	if res.code != http.StatusSeeOther {
		h.t.Fatalf("request: %d", res.code)
	}
	qs := h.s.store.List(requests.Waiting)
	if len(qs) != 1 {
		h.t.Fatalf("%d waiting", len(qs))
	}
	return qs[0]
}

func TestAdminWithoutLogin(t *testing.T) {
	h := newHarness(t)
	q := h.waitingRequest()
	calls := h.b.calls()
	secret := []string{"UNIQUE-REASON-42", "見積書.pdf", "お見積り", q.ID, "sender@example.jp"}
	for _, p := range []string{"/admin/", "/admin/trace?from=sender", "/admin/messages/g1", "/admin/login", "/admin"} {
		res := h.get(p)
		for _, s := range secret {
			if strings.Contains(res.body, s) {
				t.Errorf("%s without login shows %q", p, s)
			}
		}
		if p != "/admin/login" && p != "/admin" && (res.code != http.StatusSeeOther || res.hdr.Get("Location") != "/admin/login") {
			t.Errorf("%s: %d to %q", p, res.code, res.hdr.Get("Location"))
		}
	}
	// A forged session cookie is no login.
	res := h.get("/admin/", &http.Cookie{Name: cookieSession, Value: "AAAA"})
	if res.code != http.StatusSeeOther {
		t.Errorf("forged session: %d", res.code)
	}
	// A decision without login changes nothing.
	res = h.post("/admin/requests/"+q.ID, url.Values{"decision": {"approve"}, "csrf": {"x"}})
	if res.code != http.StatusForbidden || strings.Contains(res.body, "UNIQUE-REASON-42") {
		t.Errorf("decision without login: %d", res.code)
	}
	if got, _ := h.s.store.Get(q.ID); got.State != requests.Waiting || h.b.calls() != calls {
		t.Errorf("state %s, %d calls", got.State, h.b.calls()-calls)
	}
}

func TestAdminNotConfigured(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Users = "" })
	for _, p := range []string{"/admin/", "/admin/login", "/admin/trace"} {
		res := h.get(p)
		if res.code != http.StatusForbidden || !strings.Contains(res.body, "承認機能は設定されていません") {
			t.Errorf("%s: %d", p, res.code)
		}
	}
	if res := h.post("/admin/login", url.Values{"user": {"approver"}}); res.code != http.StatusForbidden {
		t.Errorf("login: %d", res.code)
	}
}

func TestLoginLogout(t *testing.T) {
	h := newHarness(t)
	h.waitingRequest()
	page := h.get("/admin/login")
	pre := page.cookie(cookiePre)
	if page.code != http.StatusOK || pre == nil || !pre.HttpOnly || pre.SameSite != http.SameSiteStrictMode || pre.Path != "/admin/" {
		t.Fatalf("login page: %d, cookie %+v", page.code, pre)
	}
	tag := csrf(t, page.body)
	// Wrong password: refused, no session.
	res := h.post("/admin/login", url.Values{"user": {"approver"}, "password": {"wrong"}, "csrf": {tag}}, pre)
	if res.code != http.StatusForbidden || res.cookie(cookieSession) != nil || !strings.Contains(res.body, "パスワードが違います") {
		t.Errorf("wrong password: %d", res.code)
	}
	// Right one: a session cookie, the requests page.
	res = h.post("/admin/login", url.Values{"user": {"approver"}, "password": {"approver-pass"}, "csrf": {tag}}, pre)
	sess := res.cookie(cookieSession)
	if res.code != http.StatusSeeOther || sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode ||
		sess.Path != "/admin/" || sess.Secure {
		t.Fatalf("login: %d, cookie %+v", res.code, sess)
	}
	list := h.get("/admin/", sess)
	if list.code != http.StatusOK || !strings.Contains(list.body, "UNIQUE-REASON-42") {
		t.Fatalf("requests page: %d", list.code)
	}
	// Idle for 29 minutes: still in; 31 more: out.
	h.clock.Add(29 * time.Minute)
	if res := h.get("/admin/", sess); res.code != http.StatusOK {
		t.Errorf("after 29 min: %d", res.code)
	}
	h.clock.Add(31 * time.Minute)
	if res := h.get("/admin/", sess); res.code != http.StatusSeeOther {
		t.Errorf("after 31 idle min: %d", res.code)
	}
	// Logout ends the session.
	sess = h.login("approver", "approver-pass")
	list = h.get("/admin/", sess)
	if res := h.post("/admin/logout", url.Values{"csrf": {"bad"}}, sess); res.code != http.StatusForbidden {
		t.Errorf("logout without csrf: %d", res.code)
	}
	res = h.post("/admin/logout", url.Values{"csrf": {csrf(t, list.body)}}, sess)
	if res.code != http.StatusSeeOther || res.cookie(cookieSession) == nil || res.cookie(cookieSession).MaxAge >= 0 {
		t.Errorf("logout: %d", res.code)
	}
	if res := h.get("/admin/", sess); res.code != http.StatusSeeOther {
		t.Errorf("after logout: %d", res.code)
	}
}

func TestSessionMaxAge(t *testing.T) {
	h := newHarness(t)
	sess := h.login("approver", "approver-pass")
	for range 28 { // active every 25 minutes for 11 h 40 min
		h.clock.Add(25 * time.Minute)
		if res := h.get("/admin/", sess); res.code != http.StatusOK {
			t.Fatalf("active session refused: %d", res.code)
		}
	}
	h.clock.Add(25 * time.Minute) // 12 h 5 min after login, 25 min idle
	if res := h.get("/admin/", sess); res.code != http.StatusSeeOther {
		t.Errorf("after 12 h: %d", res.code)
	}
}

func TestSecureCookies(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.URL = "https://portal.city.example.lg.jp" })
	if sess := h.login("approver", "approver-pass"); !sess.Secure {
		t.Error("session cookie not Secure under https")
	}
	h = newHarness(t)
	r := httptest.NewRequest("GET", "https://portal/admin/login", nil)
	res := h.do(r, "")
	if c := res.cookie(cookiePre); c == nil || !c.Secure {
		t.Errorf("pre-login cookie over TLS: %+v", c)
	}
}

func TestLoginLimit(t *testing.T) {
	h := newHarness(t)
	page := h.get("/admin/login")
	pre, tag := page.cookie(cookiePre), csrf(t, page.body)
	for i := range loginTries {
		res := h.post("/admin/login", url.Values{"user": {"approver"}, "password": {"guess"}, "csrf": {tag}}, pre)
		if res.code != http.StatusForbidden {
			t.Fatalf("try %d: %d", i, res.code)
		}
	}
	res := h.post("/admin/login", url.Values{"user": {"approver"}, "password": {"approver-pass"}, "csrf": {tag}}, pre)
	if res.code != http.StatusTooManyRequests || res.cookie(cookieSession) != nil {
		t.Errorf("locked login: %d", res.code)
	}
}

func TestApproverList(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Approvers = []string{"approver"} })
	q := h.waitingRequest()
	page := h.get("/admin/login")
	res := h.post("/admin/login", url.Values{"user": {"other"}, "password": {"other-pass"}, "csrf": {csrf(t, page.body)}}, page.cookie(cookiePre))
	if res.code != http.StatusForbidden || res.cookie(cookieSession) != nil || strings.Contains(res.body, "UNIQUE-REASON-42") {
		t.Errorf("non-approver login: %d", res.code)
	}
	if got, _ := h.s.store.Get(q.ID); got.State != requests.Waiting {
		t.Error("state changed")
	}
	if res := h.get("/admin/", h.login("approver", "approver-pass")); res.code != http.StatusOK {
		t.Errorf("approver: %d", res.code)
	}
}

func TestTrustedHeader(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Users = ""
		c.TrustedHeader = "X-Remote-User"
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		c.Approvers = []string{"tanaka"}
	})
	h.waitingRequest()
	get := func(addr, user string, c *http.Cookie) resp {
		r := httptest.NewRequest("GET", "/admin/", nil)
		r.Header.Set("X-Remote-User", user)
		return h.do(r, addr, c)
	}
	// From an untrusted address the header is ignored.
	if res := get("192.0.2.10:1000", "tanaka", nil); res.code != http.StatusSeeOther || strings.Contains(res.body, "UNIQUE-REASON-42") {
		t.Errorf("untrusted peer: %d", res.code)
	}
	if res := h.get("/admin/login"); res.code != http.StatusForbidden || strings.Contains(res.body, `name="password"`) {
		t.Errorf("login page without users: %d", res.code)
	}
	// From the proxy: in, as that user; another user is no approver.
	res := get("10.1.2.3:1000", "tanaka", nil)
	if res.code != http.StatusOK || !strings.Contains(res.body, "UNIQUE-REASON-42") || !strings.Contains(res.body, "tanaka") {
		t.Fatalf("trusted proxy: %d", res.code)
	}
	if res := get("10.1.2.3:1000", "suzuki", nil); res.code != http.StatusForbidden {
		t.Errorf("not an approver: %d", res.code)
	}
	// A decision from the proxy carries a CSRF tag bound to the cookie.
	pre := res.cookie(cookiePre)
	tag := csrf(t, res.body)
	q := h.s.store.List(requests.Waiting)[0]
	post := func(addr string, c *http.Cookie, tag string) resp {
		r := httptest.NewRequest("POST", "/admin/requests/"+q.ID, strings.NewReader(url.Values{"decision": {"refuse"}, "csrf": {tag}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("X-Remote-User", "tanaka")
		return h.do(r, addr, c)
	}
	if res := post("10.1.2.3:1000", nil, tag); res.code != http.StatusForbidden {
		t.Errorf("without the cookie: %d", res.code)
	}
	if res := post("192.0.2.10:1000", pre, tag); res.code != http.StatusForbidden {
		t.Errorf("from an untrusted peer: %d", res.code)
	}
	if res := post("10.1.2.3:1000", pre, tag); res.code != http.StatusSeeOther {
		t.Errorf("decision: %d %s", res.code, res.body)
	}
	if got, _ := h.s.store.Get(q.ID); got.State != requests.Refused || got.Approver != "tanaka" {
		t.Errorf("stored %+v", got)
	}
}

// A session ends when its user leaves the htpasswd file or gets a new
// password: revoking an approver takes effect at once, not after the
// session's 12 hours.
func TestSessionEndsWithUser(t *testing.T) {
	lines := strings.SplitAfter(testUsers, "\n")
	otherHash := strings.TrimPrefix(strings.TrimSpace(lines[1]), "other:")
	for _, tc := range []struct {
		name, file string
	}{
		{"removed", lines[1]},
		{"new password", "approver:" + otherHash + "\n" + lines[1]},
	} {
		h := newHarness(t)
		c := h.login("approver", "approver-pass")
		if res := h.get("/admin/", c); res.code != http.StatusOK {
			t.Fatalf("%s: signed in: %d", tc.name, res.code)
		}
		if err := os.WriteFile(h.cfg.Users, []byte(tc.file), 0o600); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Hour)
		os.Chtimes(h.cfg.Users, later, later)
		if res := h.get("/admin/", c); res.code != http.StatusSeeOther {
			t.Errorf("%s: the session still opens the requests: %d", tc.name, res.code)
		}
		// The other user's session lives on.
		if tc.name == "removed" {
			o := h.login("other", "other-pass")
			if res := h.get("/admin/", o); res.code != http.StatusOK {
				t.Errorf("other user: %d", res.code)
			}
		}
	}
}
