package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestBrowserHarness proves the harness on pages of its own: a form posted
// without scripts, Japanese text, a 404's status, horizontal overflow at a
// phone's width, and a CSP violation reported by Console.
func TestBrowserHarness(t *testing.T) {
	var mu sync.Mutex
	var posted []string
	mux := http.NewServeMux()
	csp := func(w http.ResponseWriter) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		csp(w)
		fmt.Fprint(w, `<!doctype html><meta name=viewport content="width=device-width"><h1 id=t>原本の申請 Request</h1>
<form method=post action=/form><input id=reason name=reason><button id=go>送信</button></form>`)
	})
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		posted = append(posted, r.PostFormValue("reason"))
		mu.Unlock()
		csp(w)
		fmt.Fprint(w, `<!doctype html><p id=done>受け付けました Received</p>`)
	})
	mux.HandleFunc("GET /wide", func(w http.ResponseWriter, r *http.Request) {
		csp(w)
		fmt.Fprint(w, `<!doctype html><meta name=viewport content="width=device-width"><pre>`+strings.Repeat("x", 400)+`</pre>`)
	})
	mux.HandleFunc("GET /script", func(w http.ResponseWriter, r *http.Request) {
		csp(w)
		fmt.Fprint(w, `<!doctype html><p id=p>no script</p><script>document.getElementById("p").textContent="ran"</script>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	b := Start(t)
	if st := b.Navigate(srv.URL + "/form"); st != 200 {
		t.Fatalf("form: status %d", st)
	}
	if got := b.Text("#t"); got != "原本の申請 Request" {
		t.Errorf("heading %q", got)
	}
	b.Fill("#reason", "会議資料のため")
	if st := b.Submit("#go"); st != 200 {
		t.Errorf("post: status %d", st)
	}
	if got := b.Text("#done"); got != "受け付けました Received" {
		t.Errorf("after post %q", got)
	}
	mu.Lock()
	if !slices.Equal(posted, []string{"会議資料のため"}) {
		t.Errorf("server got %q", posted)
	}
	mu.Unlock()
	b.Screenshot("posted")
	if st := b.Navigate(srv.URL + "/nothing"); st != 404 {
		t.Errorf("missing page: status %d", st)
	}
	b.SetWidth(375)
	b.Navigate(srv.URL + "/form")
	if b.Overflows() {
		t.Error("the narrow form overflows")
	}
	b.Navigate(srv.URL + "/wide")
	if !b.Overflows() {
		t.Error("the wide page does not overflow")
	}
	b.Navigate(srv.URL + "/script")
	if got := b.Text("#p"); got != "no script" {
		t.Errorf("inline script ran under the CSP: %q", got)
	}
	if c := b.Console(); !slices.ContainsFunc(c, func(s string) bool { return strings.Contains(s, "Content Security Policy") }) {
		t.Errorf("no CSP violation reported: %q", c)
	}
}

// TestBrowserMissing: without chromium the harness skips, or fails when
// browsers are required; a parent test checks which in a child process.
func TestBrowserMissing(t *testing.T) {
	t.Setenv("MUGAI_CHROMIUM", "/nonexistent/chromium")
	if Executable() != "" {
		t.Fatal("a missing MUGAI_CHROMIUM was found")
	}
}
