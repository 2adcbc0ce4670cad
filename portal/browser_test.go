package portal

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"mugai/portal/browsertest"
	"mugai/portal/requests"
)

// TestBrowserPages uses the pages in chromium with scripts blocked by
// their own CSP: the staff request and a wrong unlock password, the
// approver's login, decision, trace and logout, each page at 1280 and
// 375 px without sideways scrolling and without a console message.
func TestBrowserPages(t *testing.T) {
	b := browsertest.Start(t)
	h := newHarness(t)
	m := h.b.msgs["g1"] // long words must wrap, not widen the page
	m.Parts = append([]Part(nil), m.Parts...)
	m.Parts[1].Filename = strings.Repeat("長いファイル名", 20) + strings.Repeat("x", 150) + ".jpg"
	m.Subject = strings.Repeat("Subject", 40)
	h.b.msgs["g1"] = m
	srv := httptest.NewServer(h.h)
	defer srv.Close()
	seen := 0 // console messages already accounted for
	check := func(name string) {
		t.Helper()
		for _, w := range []int{1280, 375} {
			b.SetWidth(w)
			if b.Overflows() {
				b.Screenshot(name)
				t.Errorf("%s overflows at %d px", name, w)
			}
		}
		b.SetWidth(1280)
		if c := b.Console(); len(c) > seen {
			t.Errorf("%s: console %q", name, c[seen:])
		}
	}

	// Staff: ask for part 2, then try a wrong password on part 5.
	if st := b.Navigate(srv.URL + h.link("g1")); st != http.StatusOK {
		t.Fatalf("staff page: %d", st)
	}
	check("staff page")
	// Fill clears the field first, which fails on an empty textarea.
	b.Run(chromedp.SendKeys(chromedp.CSS("#part-2 textarea[name=reason]"), "取引先の見積書の原本が必要です"))
	if st := b.Submit("#part-2 form button"); st != http.StatusOK {
		t.Fatalf("request: %d", st)
	}
	if got := b.Text("#part-2 .note"); !strings.Contains(got, "申請を受け付けました") {
		t.Errorf("after the request: %q", got)
	}
	check("staff page after a request")
	b.Fill("#part-5 input[name=password]", "wrong")
	b.Submit("#part-5 form button")
	if got := b.Text("#part-5 .note"); !strings.Contains(got, "あと 4 回") {
		t.Errorf("after a wrong password: %q", got)
	}
	if len(h.b.unlocks) != 1 || h.b.unlocks[0].Seen != "wrong" {
		t.Errorf("unlocks %+v", h.b.unlocks)
	}

	// Approver: the login page, the list, approve with a comment.
	if st := b.Navigate(srv.URL + "/admin/"); st != http.StatusOK || !b.Has("input[name=password]") {
		t.Fatalf("admin without login: %d", st)
	}
	check("login page")
	b.Fill("input[name=user]", "approver")
	b.Fill("input[name=password]", "approver-pass")
	b.Submit("form[action='/admin/login'] button")
	if got := b.Text("main"); !strings.Contains(got, "取引先の見積書の原本が必要です") {
		t.Fatalf("requests page: %q", got)
	}
	check("requests page")
	b.Run(chromedp.SendKeys(chromedp.CSS("textarea[name=comment]"), "確認しました"))
	b.Submit("button[value=approve]")
	if got := b.Text(".note"); !strings.Contains(got, "承認し") {
		t.Errorf("after approving: %q", got)
	}
	if len(h.b.releases) != 1 || h.b.releases[0].Reason != "取引先の見積書の原本が必要です / 確認しました" {
		t.Errorf("releases %+v", h.b.releases)
	}
	if qs := h.s.store.List(requests.Delivered); len(qs) != 1 {
		t.Errorf("%d delivered", len(qs))
	}
	check("requests page after approving")

	h.b.found = []Message{h.b.msgs["g1"], h.b.msgs["g2"]}
	b.Navigate(srv.URL + "/admin/trace?from=example&since=2026-11-01")
	check("trace page")
	b.Navigate(srv.URL + "/admin/messages/g1")
	check("message page")
	if st := b.Navigate(srv.URL + "/m/wrong"); st != http.StatusNotFound {
		t.Errorf("wrong link: %d", st)
	}
	if c := b.Console(); len(c) == 1 && strings.Contains(c[0], "404") {
		seen = 1 // the page's own status
	}
	check("404 page")

	b.Navigate(srv.URL + "/admin/")
	b.Submit("form[action='/admin/logout'] button")
	if !b.Has("input[name=password]") {
		t.Error("no login form after logout")
	}
}
