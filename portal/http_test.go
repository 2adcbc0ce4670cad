package portal

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"mugai/portal/requests"
)

var wantHeaders = [][2]string{
	{"Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
	{"X-Frame-Options", "DENY"},
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "no-referrer"},
	{"Cache-Control", "no-store"},
}

func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t)
	q := h.waitingRequest()
	sess := h.login("approver", "approver-pass")
	reqs := []*http.Request{
		httptest.NewRequest("GET", h.link("g1"), nil),
		httptest.NewRequest("GET", h.link("g1")+"?r=requested", nil),
		httptest.NewRequest("GET", "/m/wrong", nil),
		httptest.NewRequest("GET", "/", nil),
		httptest.NewRequest("GET", "/static/style.css", nil),
		httptest.NewRequest("GET", "/static/", nil),
		httptest.NewRequest("GET", "/static/favicon.svg", nil),
		httptest.NewRequest("GET", "/static/../server.go", nil),
		httptest.NewRequest("GET", "/favicon.ico", nil),
		httptest.NewRequest("GET", "/admin", nil),
		httptest.NewRequest("GET", "/admin/", nil),
		httptest.NewRequest("GET", "/admin/login", nil),
		httptest.NewRequest("GET", "/admin/trace?since=bad", nil),
		httptest.NewRequest("GET", "/admin/messages/g1", nil),
		httptest.NewRequest("GET", "/admin/messages/nope", nil),
		httptest.NewRequest("POST", h.link("g1")+"/request", strings.NewReader("part=2")),
		httptest.NewRequest("POST", h.link("g1")+"/unlock", strings.NewReader("%zz")),
		httptest.NewRequest("POST", "/admin/requests/"+q.ID, nil),
		httptest.NewRequest("POST", "/admin/login", nil),
		httptest.NewRequest("POST", "/admin/logout", nil),
		httptest.NewRequest("DELETE", "/admin/", nil),
		httptest.NewRequest("GET", "/../../etc/passwd", nil),
	}
	for _, r := range reqs {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res := h.do(r, "", sess)
		for _, kv := range wantHeaders {
			if got := res.hdr.Get(kv[0]); got != kv[1] {
				t.Errorf("%s %s (%d): %s = %q", r.Method, r.URL.Path, res.code, kv[0], got)
			}
		}
		if strings.Contains(res.body, "<script") || strings.Contains(res.body, " style=") || strings.Contains(res.body, "<style") {
			t.Errorf("%s %s: script or inline style", r.Method, r.URL.Path)
		}
	}
	css := h.get("/static/style.css")
	if css.code != http.StatusOK || !strings.HasPrefix(css.hdr.Get("Content-Type"), "text/css") || !strings.Contains(css.body, "@media") {
		t.Errorf("stylesheet: %d %q", css.code, css.hdr.Get("Content-Type"))
	}
	if icon := h.get("/static/favicon.svg"); icon.code != http.StatusOK || icon.hdr.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("icon: %d %q", icon.code, icon.hdr.Get("Content-Type"))
	}
}

func TestCSRFEveryPost(t *testing.T) {
	h := newHarness(t)
	q := h.waitingRequest()
	sess := h.login("approver", "approver-pass")
	page := h.get("/admin/login")
	pre := page.cookie(cookiePre)
	staffTag := h.staffForm("g1")
	adminTag := csrf(t, h.get("/admin/", sess).body)
	other := h.login("approver", "approver-pass") // another session: its tag differs
	otherTag := csrf(t, h.get("/admin/", other).body)
	calls := h.b.calls()
	for _, c := range []struct {
		name, path string
		form       url.Values
		cookies    []*http.Cookie
		goodTag    string
	}{
		{"request", h.link("g1") + "/request", url.Values{"part": {"3"}, "reason": {"x"}}, nil, staffTag},
		{"unlock", h.link("g1") + "/unlock", url.Values{"part": {"5"}, "password": {"s3cret"}}, nil, staffTag},
		{"decide", "/admin/requests/" + q.ID, url.Values{"decision": {"approve"}}, []*http.Cookie{sess}, adminTag},
		{"login", "/admin/login", url.Values{"user": {"approver"}, "password": {"approver-pass"}}, []*http.Cookie{pre}, csrf(t, page.body)},
		{"logout", "/admin/logout", url.Values{}, []*http.Cookie{sess}, adminTag},
	} {
		for _, bad := range []string{"", "x", c.goodTag + "A", strings.ToUpper(c.goodTag), otherTag, staffTag + adminTag} {
			if bad == c.goodTag {
				continue
			}
			f := url.Values{}
			for k, v := range c.form {
				f[k] = v
			}
			if bad != "" {
				f.Set("csrf", bad)
			}
			if res := h.post(c.path, f, c.cookies...); res.code != http.StatusForbidden {
				t.Errorf("%s with csrf %q: %d", c.name, bad, res.code)
			}
		}
	}
	// The login tag without its cookie is no good either.
	if res := h.post("/admin/login", url.Values{"user": {"approver"}, "password": {"approver-pass"}, "csrf": {csrf(t, page.body)}}); res.code != http.StatusForbidden {
		t.Errorf("login without the pre-login cookie: %d", res.code)
	}
	if h.b.calls() != calls || len(h.s.store.List()) != 1 {
		t.Errorf("refused posts changed something: %d calls", h.b.calls()-calls)
	}
	if got, _ := h.s.store.Get(q.ID); got.State != requests.Waiting {
		t.Error("state changed")
	}
	if res := h.get("/admin/", sess); res.code != http.StatusOK {
		t.Error("the session was logged out by a refused logout")
	}
}

func TestBodyLimit(t *testing.T) {
	h := newHarness(t)
	tag := h.staffForm("g1")
	res := h.post(h.link("g1")+"/request", url.Values{"part": {"3"}, "reason": {strings.Repeat("x", maxBody)}, "csrf": {tag}})
	if res.code != http.StatusRequestEntityTooLarge || h.b.calls() != 0 {
		t.Errorf("big body: %d, %d calls", res.code, h.b.calls())
	}
	r := httptest.NewRequest("POST", h.link("g1")+"/request", strings.NewReader("part=3&reason=x&csrf="+tag))
	r.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	if res := h.do(r, ""); res.code != http.StatusBadRequest || h.b.calls() != 0 {
		t.Errorf("multipart: %d", res.code)
	}
	// A long reason within the limit is stored bounded.
	res = h.post(h.link("g1")+"/request", url.Values{"part": {"2"}, "reason": {strings.Repeat("理", 1500)}, "csrf": {tag}})
	if qs := h.s.store.List(); res.code != http.StatusSeeOther || len(qs) != 1 || len([]rune(qs[0].Reason)) > maxReason {
		t.Errorf("long reason: %d", res.code)
	}
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t)
	limited := 0
	for range rateBurst + 10 {
		if res := h.get("/m/x"); res.code == http.StatusTooManyRequests {
			limited++
			if res.hdr.Get("Retry-After") == "" || res.hdr.Get("Content-Security-Policy") == "" {
				t.Error("429 without its headers")
			}
		}
	}
	if limited != 10 {
		t.Errorf("%d of %d limited", limited, rateBurst+10)
	}
	// Another address is not limited.
	if res := h.do(httptest.NewRequest("GET", "/m/x", nil), "192.0.2.99:1"); res.code != http.StatusNotFound {
		t.Errorf("other address: %d", res.code)
	}
	// A minute later the first is let in again.
	h.clock.Add(time.Minute)
	if res := h.get("/m/x"); res.code != http.StatusNotFound {
		t.Errorf("after a minute: %d", res.code)
	}
}

func TestNewConfigErrors(t *testing.T) {
	ok := Config{URL: "http://127.0.0.1:8025", Secret: testSecret, StateDir: t.TempDir()}
	if _, err := New(ok, &fakeBackend{}); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, c := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no url", func(c *Config) { c.URL = "" }, "url"},
		{"ftp url", func(c *Config) { c.URL = "ftp://x" }, "url"},
		{"url with a path", func(c *Config) { c.URL = "http://x/portal" }, "root"},
		{"short secret", func(c *Config) { c.Secret = []byte("short") }, "secret"},
		{"no state dir", func(c *Config) { c.StateDir = "" }, "state directory"},
		{"header without proxies", func(c *Config) { c.TrustedHeader = "X-Remote-User" }, "trusted_proxies"},
		{"bad header", func(c *Config) {
			c.TrustedHeader = "X Remote"
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		}, "not a header name"},
		{"empty approver", func(c *Config) { c.Approvers = []string{" "} }, "approvers"},
		{"missing users file", func(c *Config) { c.Users = "/nonexistent/htpasswd" }, "users"},
	} {
		cfg := ok
		c.mod(&cfg)
		_, err := New(cfg, &fakeBackend{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestLink(t *testing.T) {
	l := Link("https://portal.example.lg.jp/", testSecret, "g1", t0)
	if !strings.HasPrefix(l, "https://portal.example.lg.jp/m/") || strings.ContainsAny(strings.TrimPrefix(l, "https://"), "?#+=") {
		t.Errorf("link %q", l)
	}
}

func TestTraceAndMessage(t *testing.T) {
	h := newHarness(t)
	sess := h.login("approver", "approver-pass")
	h.b.found = []Message{h.b.msgs["g1"], h.b.msgs["g2"]}
	res := h.get("/admin/trace", sess)
	if res.code != http.StatusOK || len(h.b.searches) != 0 || !strings.Contains(res.body, `name="message_id"`) {
		t.Fatalf("empty trace: %d, %d searches", res.code, len(h.b.searches))
	}
	res = h.get("/admin/trace?from=Sender&rcpt=staff&subject=%E8%A6%8B&message_id=%3Cm1%40example.jp%3E&since=2026-11-01&until=2026-11-30", sess)
	if res.code != http.StatusOK || len(h.b.searches) != 1 {
		t.Fatalf("trace: %d", res.code)
	}
	s := h.b.searches[0]
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.Local)
	until := time.Date(2026, 12, 1, 0, 0, 0, 0, time.Local).Add(-time.Nanosecond)
	if s.From != "Sender" || s.Rcpt != "staff" || s.Subject != "見" || s.MessageID != "<m1@example.jp>" ||
		!s.Since.Equal(since) || !s.Until.Equal(until) || s.Limit != traceLimit+1 {
		t.Errorf("search %+v", s)
	}
	for _, want := range []string{"お見積り", "two recipients", `href="/admin/messages/g1"`, `value="Sender"`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
	if res := h.get("/admin/trace?since=2026-13-01", sess); res.code != http.StatusBadRequest || len(h.b.searches) != 1 {
		t.Errorf("bad date: %d", res.code)
	}
	res = h.get("/admin/messages/g1", sess)
	for _, want := range []string{"&lt;m1@example.jp&gt;", "spf=pass dkim=pass", "見積書.pdf", "setup.exe", "never", strings.Repeat("ab", 32)} {
		if !strings.Contains(res.body, want) {
			t.Errorf("message page lacks %q", want)
		}
	}
	if res := h.get("/admin/messages/nope", sess); res.code != http.StatusNotFound {
		t.Errorf("unknown message: %d", res.code)
	}
}
