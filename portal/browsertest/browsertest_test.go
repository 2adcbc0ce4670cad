package browsertest

import (
	"fmt"
	"html"
	"image"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The test site: pages as the portal serves them (Japanese first, a plain
// form posted without script, a CSP without script), and pages that do
// what the portal must not (overflow a phone's width, carry a script).
const (
	csp  = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'"
	head = `<!doctype html><html lang="ja"><head><meta charset="utf-8">` +
		`<meta name="viewport" content="width=device-width, initial-scale=1">` +
		`<link rel="stylesheet" href="/style.css"><title>mugai</title></head><body>`
	style = `body { font-family: sans-serif; margin: 1em; }
textarea, input { max-width: 100%; box-sizing: border-box; }
.wide { width: 600px; height: 2em; background: #ccc; }
`
	formPage = head + `<h1 id="title">添付ファイルの原本請求 (Request the original)</h1>
<p id="lead">無害化のため削除された添付ファイル「見積書.xlsm」の原本を請求します。</p>
<form method="post" action="/request">
<input type="hidden" name="csrf" value="token-1">
<input type="hidden" name="part" value="2">
<label for="name">氏名 (Name)</label> <input id="name" name="name" value="前の値">
<label for="reason">理由 (Reason)</label>
<textarea id="reason" name="reason" rows="3" cols="30"></textarea>
<button id="send" type="submit">請求する (Request)</button>
</form></body></html>`
	// The inline script would change the title if it ran.
	scriptPage = head + `<h1 id="title">スクリプト (Script)</h1>
<script>document.getElementById("title").textContent = "script ran";</script></body></html>`
	widePage = head + `<h1>横に広いページ (A wide page)</h1><div class="wide"></div></body></html>`
)

// site serves the test pages on 127.0.0.1 and records the forms posted.
type site struct {
	*httptest.Server
	mu    sync.Mutex
	posts []url.Values
}

func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{}
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(body))
		}
	}
	mux.HandleFunc("GET /{$}", page(formPage))
	mux.HandleFunc("GET /script", page(scriptPage))
	mux.HandleFunc("GET /wide", page(widePage))
	mux.HandleFunc("GET /style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Write([]byte(style))
	})
	mux.HandleFunc("POST /request", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.posts = append(s.posts, r.PostForm)
		s.mu.Unlock()
		http.Redirect(w, r, "/done?reason="+url.QueryEscape(r.PostForm.Get("reason")), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /done", func(w http.ResponseWriter, r *http.Request) {
		page(head+`<h1 id="title">受け付けました (Requested)</h1><p id="reason">`+
			html.EscapeString(r.URL.Query().Get("reason"))+`</p></body></html>`)(w, r)
	})
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		mux.ServeHTTP(w, r)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Listener = ln
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *site) posted() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.posts)
}

// A form filled with Japanese and posted without script: the server gets
// the fields, the page after the redirect shows them, Japanese is drawn
// with a CJK font (not empty boxes), nothing is reported on the console.
func TestBrowserForm(t *testing.T) {
	s := newSite(t)
	b := Start(t)
	if status := b.Navigate(s.URL + "/"); status != http.StatusOK {
		t.Errorf("status %d, want 200", status)
	}
	if got, want := b.Text("#title"), "添付ファイルの原本請求 (Request the original)"; got != want {
		t.Errorf("title %q, want %q", got, want)
	}
	if fonts := b.Fonts("#lead"); !slices.ContainsFunc(fonts, func(f string) bool { return strings.Contains(f, "CJK") }) {
		t.Errorf("Japanese drawn with %q: no CJK font (run .ci/install-browser-tools)", fonts)
	}
	if got := Get(b, "size", chromedp.Evaluate[[]int](`[innerWidth, innerHeight]`)); !slices.Equal(got, []int{Width, Height}) {
		t.Errorf("viewport %d, want %d×%d", got, Width, Height)
	}
	if !b.Has("#send") || b.Has("#nowhere") {
		t.Errorf("Has: #send %v, #nowhere %v; want true, false", b.Has("#send"), b.Has("#nowhere"))
	}
	const reason = "見積書の確認のため (to check the quote) <b>&"
	b.Run(chromedp.SendKeys(chromedp.CSS("#reason"), reason))
	b.Fill("#name", "山田 花子")
	b.Screenshot("form")
	if status := b.Submit("#send"); status != http.StatusOK {
		t.Errorf("status after the post %d, want 200 (after the 303)", status)
	}
	if got := b.Text("#reason"); got != reason {
		t.Errorf("page after the post shows %q, want %q", got, reason)
	}
	posts := s.posted()
	if len(posts) != 1 {
		t.Fatalf("%d posts, want 1", len(posts))
	}
	for k, want := range map[string]string{"csrf": "token-1", "part": "2", "name": "山田 花子", "reason": reason} {
		if got := posts[0].Get(k); got != want {
			t.Errorf("posted %s=%q, want %q", k, got, want)
		}
	}
	b.Screenshot("done")
	if c := b.Console(); len(c) != 0 {
		t.Errorf("console: %q", c)
	}
}

// Navigate returns the main document's HTTP status; the loopback is
// reachable by address and as localhost.
func TestBrowserStatus(t *testing.T) {
	s := newSite(t)
	b := Start(t)
	for path, want := range map[string]int{"/": 200, "/missing": 404, "/request": 405} {
		if got := b.Navigate(s.URL + path); got != want {
			t.Errorf("GET %s: status %d, want %d", path, got, want)
		}
	}
	u, _ := url.Parse(s.URL)
	if got := b.Navigate("http://localhost:" + u.Port() + "/"); got != 200 {
		t.Errorf("GET localhost: status %d, want 200", got)
	}
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Logf("no ::1 here (%v): not checked", err)
		return
	}
	v6 := &httptest.Server{Listener: ln, Config: &http.Server{Handler: s.Config.Handler}}
	v6.Start()
	defer v6.Close()
	if got := b.Navigate(v6.URL + "/"); got != 200 {
		t.Errorf("GET %s: status %d, want 200", v6.URL, got)
	}
}

// Overflows at a phone's width and at the start's.
func TestBrowserOverflow(t *testing.T) {
	s := newSite(t)
	b := Start(t)
	for _, c := range []struct {
		path  string
		width int
		want  bool
	}{
		{"/", Width, false},
		{"/", 375, false},
		{"/wide", Width, false},
		{"/wide", 375, true},
		{"/wide", 700, false},
	} {
		b.SetWidth(c.width)
		b.Navigate(s.URL + c.path)
		if got := Get(b, "width", chromedp.Evaluate[int](`window.innerWidth`)); got != c.width {
			t.Errorf("%s: window.innerWidth %d, want %d", c.path, got, c.width)
		}
		if got := b.Overflows(); got != c.want {
			t.Errorf("%s at %d px: Overflows %v, want %v", c.path, c.width, got, c.want)
		}
	}
	b.SetWidth(375)
	b.Navigate(s.URL + "/")
	b.Screenshot("phone")
}

// The CSP blocks an inline script, and Console reports the violation.
func TestBrowserConsole(t *testing.T) {
	s := newSite(t)
	b := Start(t)
	b.Navigate(s.URL + "/script")
	if got := b.Text("#title"); got != "スクリプト (Script)" {
		t.Errorf("title %q: the script ran", got)
	}
	c := b.Console()
	if !slices.ContainsFunc(c, func(m string) bool {
		return strings.Contains(m, "Content Security Policy") && strings.Contains(m, "script")
	}) {
		t.Errorf("console %q: no CSP violation for the script", c)
	}
	b.Navigate(s.URL + "/")
	if got := b.Console(); len(got) != len(c) {
		t.Errorf("console grew on a clean page: %q", got[len(c):])
	}
}

// A failed action fails the test with its error after saving a
// screenshot; the cleanup of a test that failed otherwise saves one; and
// chromium and its children are gone after the cleanup.
func TestBrowserFailure(t *testing.T) {
	if Executable() == "" {
		Start(t) // skips (or fails) as every browser test does: the fake could not
	}
	s := newSite(t)
	shots := t.TempDir()
	t.Setenv("MUGAI_SCREENSHOTS", shots)

	f := &fakeTB{TB: t}
	b := Start(f)
	b.Navigate(s.URL + "/")
	if pids := processesUsing(b.dir); len(pids) < 3 {
		out, _ := exec.Command("ps", "-eo", "pid,ppid,pgid,sid,args").Output()
		t.Errorf("%d processes %v with the profile while it runs, want chromium and its children; ps:\n%s", len(pids), pids, out)
	}
	path := b.Screenshot("page")
	if !f.logged("browsertest: screenshot " + path) {
		t.Errorf("logged %q, want the screenshot's path", f.logs)
	}
	if cfg, err := pngConfig(path); err != nil || cfg.Width != Width || cfg.Height != Height {
		t.Errorf("screenshot: %v, %+v; want a PNG of %d×%d", err, cfg, Width, Height)
	}
	b.Timeout = time.Second
	f.do(func() { b.Text("#nowhere"); t.Error("Text returned") })
	if !strings.Contains(f.fatal, "text of #nowhere") || !strings.Contains(f.fatal, "deadline exceeded") {
		t.Errorf("Fatalf %q, want the action and its timeout", f.fatal)
	}
	if !f.logged("browsertest: screenshot of the failure: " + shots) {
		t.Errorf("logged %q, want the failure's screenshot", f.logs)
	}
	// Nothing but the loopback: another host name does not resolve
	// (chromium's own resolver rules answer; no DNS query leaves).
	b.Timeout = Timeout
	f.do(func() { b.Navigate("http://example.com/"); t.Error("Navigate returned") })
	if !strings.Contains(f.fatal, "ERR_NAME_NOT_RESOLVED") {
		t.Errorf("Fatalf %q, want ERR_NAME_NOT_RESOLVED", f.fatal)
	}
	f.failed = true
	f.cleanup()
	if pids := processesUsing(b.dir); len(pids) != 0 {
		t.Errorf("processes %v still running with the profile after the cleanup", pids)
	}

	f = &fakeTB{TB: t}
	b = Start(f)
	b.Navigate(s.URL + "/")
	f.failed = true // as t.Error does
	f.cleanup()
	if !f.logged("browsertest: screenshot of the failure: " + shots) {
		t.Errorf("logged %q, want the failure's screenshot", f.logs)
	}

	got, _ := filepath.Glob(filepath.Join(shots, "*.png"))
	for i := range got {
		got[i] = filepath.Base(got[i])
	}
	want := []string{
		"TestBrowserFailure-01-failed.png", // the second browser's
		"TestBrowserFailure-01-page.png",
		"TestBrowserFailure-02-text_of__nowhere.png",
	}
	if !slices.Equal(got, want) {
		t.Errorf("screenshots %q, want %q", got, want)
	}
}

func TestLines(t *testing.T) {
	got := Lines("  受け付けました \n\n\t(Requested)\r\n  \n")
	if want := []string{"受け付けました", "(Requested)"}; !slices.Equal(got, want) {
		t.Errorf("Lines %q, want %q", got, want)
	}
}

// Without chromium the test skips with the message, or fails under
// MUGAI_BROWSER=required. It runs everywhere: it needs no browser.
func TestStartWithoutChromium(t *testing.T) {
	t.Setenv("MUGAI_CHROMIUM", "/nonexistent/chromium")
	for _, c := range []struct {
		env             string
		skipped, failed string
	}{
		{"", "chromium not installed: run .ci/install-browser-tools; browser tests skipped", ""},
		{"required", "", "chromium not installed: run .ci/install-browser-tools; browser tests skipped (MUGAI_BROWSER=required)"},
	} {
		t.Setenv("MUGAI_BROWSER", c.env)
		f := &fakeTB{TB: t}
		f.do(func() { Start(f); t.Errorf("MUGAI_BROWSER=%q: Start returned", c.env) })
		if f.skipped != c.skipped || f.fatal != c.failed {
			t.Errorf("MUGAI_BROWSER=%q: skipped %q, failed %q; want %q, %q", c.env, f.skipped, f.fatal, c.skipped, c.failed)
		}
		f.cleanup()
	}
}

func pngConfig(path string) (image.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return image.Config{}, err
	}
	defer f.Close()
	return png.DecodeConfig(f)
}

// fakeTB records what Start and Browser's methods do to their test:
// Skip and Fatalf end the goroutine (as testing's do) after recording,
// Logf is kept (a test that passes logs no failure), cleanups wait for
// cleanup(), and Failed is set by the test.
type fakeTB struct {
	testing.TB
	skipped, fatal string
	logs           []string
	failed         bool
	cleanups       []func()
	inDo           bool
}

func (f *fakeTB) Skip(args ...any) {
	f.skipped = fmt.Sprint(args...)
	f.end("skip: " + f.skipped)
}

func (f *fakeTB) Fatal(args ...any) {
	f.fatal = fmt.Sprint(args...)
	f.end("fatal: " + f.fatal)
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	f.end("fatal: " + f.fatal)
}

// end ends do's goroutine; outside do, it fails the real test.
func (f *fakeTB) end(msg string) {
	if !f.inDo {
		f.TB.Fatalf("unexpected %s\nlogged:\n%s", msg, strings.Join(f.logs, "\n"))
	}
	runtime.Goexit()
}

func (f *fakeTB) Logf(format string, args ...any) {
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Failed() bool      { return f.failed }
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

// logged reports whether a line logged has prefix.
func (f *fakeTB) logged(prefix string) bool {
	return slices.ContainsFunc(f.logs, func(l string) bool { return strings.HasPrefix(l, prefix) })
}

// do runs fn in a goroutine of its own, so that Skip and Fatalf end it.
func (f *fakeTB) do(fn func()) {
	f.inDo = true
	defer func() { f.inDo = false }()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	<-done
}

// cleanup runs the recorded cleanups, last first.
func (f *fakeTB) cleanup() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	f.cleanups = nil
}
