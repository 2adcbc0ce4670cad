package portal

import (
	"bytes"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test users (bcrypt cost 4): approver / approver-pass, other / other-pass.
const testUsers = "approver:$2a$04$K6w3eJMX9WlLnNtjylxENutfWoao6sBR2R4WW2W6taTcpitjcCOCO\n" +
	"other:$2a$04$FRHyRoiUIioRpnFRFthgXe7gjujOCSPAJsAz8rcxyjaPO./cW.zxe\n"

var (
	testSecret = bytes.Repeat([]byte("k"), 32)
	t0         = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
)

// clock is a settable time for the server and its limiters.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type releaseCall struct{ ID, Part, Rcpt, Actor, Reason string }
type unlockCall struct {
	ID, Part, Rcpt string
	Password       []byte // the slice the portal passed (zeroed after)
	Seen           string // its contents during the call
}
type notifyCall struct {
	To            []string
	Subject, Body string
}

// fakeBackend records every call.
type fakeBackend struct {
	mu         sync.Mutex
	msgs       map[string]Message
	password   string
	releaseErr error
	unlockErr  error
	releases   []releaseCall
	unlocks    []unlockCall
	notes      []notifyCall
	events     []Event
	searches   []Search
	found      []Message
}

func (b *fakeBackend) Message(id string) (Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.msgs[id]
	if !ok {
		return Message{}, ErrNotFound
	}
	return m, nil
}

func (b *fakeBackend) Search(s Search) ([]Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.searches = append(b.searches, s)
	return b.found, nil
}

func (b *fakeBackend) Release(id, part, rcpt, actor, reason string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.releases = append(b.releases, releaseCall{id, part, rcpt, actor, reason})
	if b.releaseErr != nil {
		return "", b.releaseErr
	}
	return "spool-1", nil
}

func (b *fakeBackend) Unlock(id, part, rcpt string, pw []byte) (Unlocked, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.unlocks = append(b.unlocks, unlockCall{id, part, rcpt, pw, string(pw)})
	if b.unlockErr != nil {
		return Unlocked{}, b.unlockErr
	}
	if string(pw) != b.password {
		return Unlocked{}, ErrWrongPassword
	}
	return Unlocked{SpoolID: "spool-2", Kept: 2}, nil
}

func (b *fakeBackend) Notify(to []string, subject, body string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.notes = append(b.notes, notifyCall{slices.Clone(to), subject, body})
	return nil
}

func (b *fakeBackend) Audit(ev Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, ev)
	return nil
}

// calls counts the calls that change something.
func (b *fakeBackend) calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.releases) + len(b.unlocks) + len(b.notes) + len(b.events)
}

// Test messages. g1 has one recipient; g2 two.
func testMessages() map[string]Message {
	exp := t0.Add(90 * 24 * time.Hour)
	parts := []Part{
		{Path: "2", Filename: "見積書.pdf", DetectedType: "application/pdf", Size: 120_000, SHA256: strings.Repeat("ab", 32),
			Action: "flatten", Rule: "pdf-flatten", Clause: "6(3)②", Reason: "active-content",
			DoneJA: "画像にしました。", WhyJA: "スクリプトを含むため。", DoneEN: "Flattened.", WhyEN: "It held a script.",
			Release: ReleaseApproval},
		{Path: "3", Filename: "photo.jpg", DetectedType: "image/jpeg", Size: 5000, Release: ReleaseSelf,
			DoneJA: "再エンコードしました。", DoneEN: "Re-encoded."},
		{Path: "4", Filename: "setup.exe", DetectedType: "application/x-msdownload", Size: 9000, Release: ReleaseNever,
			DoneJA: "削除しました。", DoneEN: "Removed."},
		{Path: "5", Filename: "資料.zip", DetectedType: "application/zip", Size: 7000, Release: ReleaseNever, Encrypted: true,
			DoneJA: "削除しました。", DoneEN: "Removed."},
	}
	return map[string]Message{
		"g1": {ID: "g1", Received: t0.Add(-time.Hour), From: "sender@example.jp", Rcpts: []string{"staff@city.example.lg.jp"},
			Subject: "お見積り", MessageID: "<m1@example.jp>", Auth: "spf=pass dkim=pass", Expires: exp, Parts: parts},
		"g2": {ID: "g2", Received: t0.Add(-2 * time.Hour), From: "x@example.com",
			Rcpts:   []string{"a@city.example.lg.jp", "b@city.example.lg.jp"},
			Subject: "two recipients", Expires: exp, Parts: []Part{parts[0], parts[3]}},
	}
}

// harness is a Server on a fake backend and a settable clock.
type harness struct {
	t     *testing.T
	s     *Server
	b     *fakeBackend
	clock *clock
	cfg   Config
	h     http.Handler
}

func newHarness(t *testing.T, mod ...func(*Config)) *harness {
	t.Helper()
	dir := t.TempDir()
	users := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(users, []byte(testUsers), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: t0}
	cfg := Config{
		URL: "http://portal.city.example.lg.jp:8025", Secret: testSecret, Users: users,
		StateDir: filepath.Join(dir, "requests"), Notify: []string{"admin@city.example.lg.jp"},
		Now: c.Now, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	}
	for _, m := range mod {
		m(&cfg)
	}
	b := &fakeBackend{msgs: testMessages(), password: "s3cret"}
	s, err := New(cfg, b)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, s: s, b: b, clock: c, cfg: cfg, h: s.Handler()}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// link is the staff page's path for original id.
func (h *harness) link(id string) string {
	u, _ := url.Parse(Link(h.cfg.URL, h.cfg.Secret, id, t0.Add(24*time.Hour)))
	return u.Path
}

type resp struct {
	code int
	hdr  http.Header
	body string
}

// do sends a request from addr (default 192.0.2.10) with cookies.
func (h *harness) do(r *http.Request, addr string, cookies ...*http.Cookie) resp {
	h.t.Helper()
	if addr == "" {
		addr = "192.0.2.10:40000"
	}
	r.RemoteAddr = addr
	for _, c := range cookies {
		if c != nil {
			r.AddCookie(c)
		}
	}
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, r)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, string(b)}
}

func (h *harness) get(path string, cookies ...*http.Cookie) resp {
	return h.do(httptest.NewRequest("GET", path, nil), "", cookies...)
}

func (h *harness) post(path string, form url.Values, cookies ...*http.Cookie) resp {
	return h.postFrom("", path, form, cookies...)
}

func (h *harness) postFrom(addr, path string, form url.Values, cookies ...*http.Cookie) resp {
	r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return h.do(r, addr, cookies...)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the first CSRF tag on a page.
func csrf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field on the page:\n%s", body)
	}
	return html.UnescapeString(m[1])
}

// cookie returns the named cookie a response set (nil when none).
func (r resp) cookie(name string) *http.Cookie {
	for _, c := range (&http.Response{Header: r.hdr}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// login signs in and returns the session cookie.
func (h *harness) login(user, pw string) *http.Cookie {
	h.t.Helper()
	page := h.get("/admin/login")
	pre := page.cookie(cookiePre)
	res := h.post("/admin/login", url.Values{"user": {user}, "password": {pw}, "csrf": {csrf(h.t, page.body)}}, pre)
	if res.code != http.StatusSeeOther {
		h.t.Fatalf("login %s: %d\n%s", user, res.code, res.body)
	}
	c := res.cookie(cookieSession)
	if c == nil {
		h.t.Fatal("login set no session cookie")
	}
	return c
}

var errBackend = errors.New("disk on fire")
