package portal

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"mugai/portal/requests"
	"mugai/portal/token"
)

func TestNotFoundSameness(t *testing.T) {
	h := newHarness(t)
	good := h.link("g1")
	tok := strings.TrimPrefix(good, "/m/")
	tampered := []byte(tok)
	if tampered[len(tampered)/2] == 'A' {
		tampered[len(tampered)/2] = 'B'
	} else {
		tampered[len(tampered)/2] = 'A'
	}
	paths := []string{
		// a wrong token
		"/m/AAAA",
		"/m/" + strings.Repeat("A", 5000),
		// a tampered one
		"/m/" + string(tampered),
		// an expired one
		"/m/" + token.Sign(testSecret, "g1", t0.Add(-time.Second)),
		// another secret's
		"/m/" + token.Sign([]byte(strings.Repeat("z", 32)), "g1", t0.Add(time.Hour)),
		// a valid token for an original no longer kept
		"/m/" + token.Sign(testSecret, "gone", t0.Add(time.Hour)),
		// no such address at all
		"/nothing", "/m/", "/admin/nothing", "/static/missing.css",
	}
	ref := h.get(paths[0])
	if ref.code != http.StatusNotFound {
		t.Fatalf("wrong token: %d", ref.code)
	}
	for _, p := range paths {
		res := h.get(p)
		if res.code != http.StatusNotFound || res.body != ref.body {
			t.Errorf("%.60s: %d, body differs: %v", p, res.code, res.body != ref.body)
		}
	}
	// POSTs to a wrong token are the same 404 (before any CSRF check).
	for _, p := range []string{"/m/AAAA/request", "/m/AAAA/unlock", paths[3] + "/unlock"} {
		res := h.post(p, url.Values{"part": {"2"}, "reason": {"x"}})
		if res.code != http.StatusNotFound || res.body != ref.body {
			t.Errorf("POST %.60s: %d", p, res.code)
		}
	}
	if ok := h.get(good); ok.code != http.StatusOK {
		t.Fatalf("good link: %d", ok.code)
	}
	if h.b.calls() != 0 {
		t.Errorf("backend changed by 404s: %d calls", h.b.calls())
	}
}

func TestStaffPage(t *testing.T) {
	h := newHarness(t)
	res := h.get(h.link("g1"))
	if res.code != http.StatusOK {
		t.Fatalf("%d", res.code)
	}
	for _, want := range []string{
		"sender@example.jp", "お見積り", "g1", "見積書.pdf", "application/pdf", "117.2 KiB",
		"画像にしました。", "スクリプトを含むため。", "Flattened.", "pdf-flatten", "6(3)②",
		`action="/m/` + strings.TrimPrefix(h.link("g1"), "/m/") + `/request"`,
		`name="reason"`, "職員からは申請できません", `action="/m/` + strings.TrimPrefix(h.link("g1"), "/m/") + `/unlock"`,
		`type="password"`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// One recipient: no select; the JA text comes before the EN one.
	if strings.Contains(res.body, `<select`) {
		t.Error("a select with one recipient")
	}
	if strings.Index(res.body, "画像にしました。") > strings.Index(res.body, "Flattened.") {
		t.Error("English before Japanese")
	}
	if strings.Contains(res.body, "<script") {
		t.Error("a script on the page")
	}
	// Several recipients: a select of exactly them.
	res = h.get(h.link("g2"))
	for _, want := range []string{`<select name="rcpt"`, `value="a@city.example.lg.jp"`, `value="b@city.example.lg.jp"`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("g2 page lacks %q", want)
		}
	}
}

func TestHostileText(t *testing.T) {
	h := newHarness(t)
	evil := "<script>alert(1)</script><img src=x onerror=alert(2)>\u202egpj.exe\x00\x1b[31m\u200b\r\nBcc: x@evil" + strings.Repeat("長", 5000)
	m := h.b.msgs["g1"]
	m.Subject, m.From = evil, evil
	m.Parts = append([]Part(nil), m.Parts...)
	m.Parts[0].Filename, m.Parts[0].DetectedType, m.Parts[0].WhyJA = evil, evil, evil
	h.b.msgs["g1"] = m
	res := h.get(h.link("g1"))
	if res.code != http.StatusOK {
		t.Fatalf("%d", res.code)
	}
	for _, bad := range []string{"<script>", "<img", "\u202e", "\x00", "\x1b", "\u200b", "\r\nBcc"} {
		if strings.Contains(res.body, bad) {
			t.Errorf("page holds %q", bad)
		}
	}
	if !strings.Contains(res.body, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(res.body, "\ufffdgpj.exe") {
		t.Error("the hostile text is not shown escaped")
	}
	if n := strings.Count(res.body, "長"); n > 4*maxReason {
		t.Errorf("unbounded: %d characters of the long subject", n)
	}
	if len(res.body) > 64<<10 {
		t.Errorf("page of %d bytes", len(res.body))
	}
}

func TestShown(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		// controls, format and separators
		{"a\tb", "a b"},
		{"a\x00b\x7fc\u0085", "a\ufffdb\ufffdc\ufffd"},
		{"\u202eexe.pdf", "\ufffdexe.pdf"},
		{"a\u2028b\u2029c", "a\ufffdb\ufffdc"},
		{"x\U000e0041y", "x\ufffdy"},
		{"\xff\xfe", "\ufffd\ufffd"},
		// bounds
		{strings.Repeat("あ", 10), strings.Repeat("あ", 7) + "…"},
		{"日本語", "日本語"},
	} {
		if got := shown(c.in, 8); got != c.want {
			t.Errorf("shown(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// staffForm gets the message page and returns its CSRF tag.
func (h *harness) staffForm(id string) string {
	h.t.Helper()
	res := h.get(h.link(id))
	if res.code != http.StatusOK {
		h.t.Fatalf("page %s: %d", id, res.code)
	}
	return csrf(h.t, res.body)
}

func TestRequestApproval(t *testing.T) {
	h := newHarness(t)
	tag := h.staffForm("g1")
	res := h.post(h.link("g1")+"/request", url.Values{"part": {"2"}, "reason": {"  取引先からの\r\n見積書です "}, "csrf": {tag}})
	if res.code != http.StatusSeeOther {
		t.Fatalf("%d %s", res.code, res.body)
	}
	loc := res.hdr.Get("Location")
	if !strings.HasPrefix(loc, h.link("g1")+"?") || !strings.Contains(loc, "r=requested") {
		t.Errorf("Location %q", loc)
	}
	qs := h.s.store.ForMessage("g1")
	if len(qs) != 1 || qs[0].State != requests.Waiting || qs[0].Reason != "取引先からの 見積書です" ||
		qs[0].Rcpt != "staff@city.example.lg.jp" || qs[0].Part != "2" || !qs[0].Expires.Equal(h.b.msgs["g1"].Expires) {
		t.Fatalf("stored %+v", qs)
	}
	if len(h.b.releases) != 0 {
		t.Error("released before approval")
	}
	if len(h.b.events) != 1 || h.b.events[0].Kind != EventRequested || h.b.events[0].Actor != "staff@city.example.lg.jp" ||
		h.b.events[0].Request != qs[0].ID || h.b.events[0].Part != "2" || h.b.events[0].ID != "g1" {
		t.Errorf("events %+v", h.b.events)
	}
	if len(h.b.notes) != 2 || h.b.notes[0].To[0] != "admin@city.example.lg.jp" || h.b.notes[1].To[0] != "staff@city.example.lg.jp" {
		t.Errorf("notify %+v", h.b.notes)
	}
	if !strings.Contains(h.b.notes[0].Body, h.cfg.URL+"/admin/") {
		t.Error("the approvers' mail does not link the admin page")
	}
	page := h.get(loc)
	if !strings.Contains(page.body, "申請を受け付けました") || !strings.Contains(page.body, "承認待ち") {
		t.Error("the page shows neither the result nor the waiting state")
	}
	// Asking again changes nothing.
	res = h.post(h.link("g1")+"/request", url.Values{"part": {"2"}, "reason": {"again"}, "csrf": {tag}})
	if !strings.Contains(res.hdr.Get("Location"), "r=duplicate") {
		t.Errorf("duplicate: %s", res.hdr.Get("Location"))
	}
	if qs := h.s.store.ForMessage("g1"); len(qs) != 1 || len(h.b.events) != 1 {
		t.Errorf("duplicate stored: %d requests, %d events", len(qs), len(h.b.events))
	}
}

func TestRequestSelf(t *testing.T) {
	h := newHarness(t)
	tag := h.staffForm("g1")
	res := h.post(h.link("g1")+"/request", url.Values{"part": {"3"}, "reason": {"need it"}, "csrf": {tag}})
	if res.code != http.StatusSeeOther || !strings.Contains(res.hdr.Get("Location"), "r=released") {
		t.Fatalf("%d %s", res.code, res.hdr.Get("Location"))
	}
	want := releaseCall{"g1", "3", "staff@city.example.lg.jp", "staff@city.example.lg.jp", "need it"}
	if len(h.b.releases) != 1 || h.b.releases[0] != want {
		t.Fatalf("releases %+v", h.b.releases)
	}
	qs := h.s.store.ForMessage("g1")
	if len(qs) != 1 || qs[0].State != requests.Delivered || qs[0].SpoolID != "spool-1" {
		t.Fatalf("stored %+v", qs)
	}
	page := h.get(res.hdr.Get("Location"))
	if !strings.Contains(page.body, "staff@city.example.lg.jp 宛てにメールで送りました") {
		t.Error("no result on the page")
	}
	// A failing release: failed, the error kept for approvers, a generic page.
	h2 := newHarness(t)
	h2.b.releaseErr = errBackend
	res = h2.post(h2.link("g1")+"/request", url.Values{"part": {"3"}, "reason": {"x"}, "csrf": {h2.staffForm("g1")}})
	if !strings.Contains(res.hdr.Get("Location"), "r=failed") {
		t.Fatalf("failed release: %s", res.hdr.Get("Location"))
	}
	qs = h2.s.store.ForMessage("g1")
	if len(qs) != 1 || qs[0].State != requests.Failed || qs[0].Error != errBackend.Error() {
		t.Fatalf("stored %+v", qs)
	}
	if page := h2.get(res.hdr.Get("Location")); strings.Contains(page.body, errBackend.Error()) {
		t.Error("the staff page shows the internal error")
	}
}

func TestRequestRefused(t *testing.T) {
	h := newHarness(t)
	tag := h.staffForm("g1")
	tag2 := h.staffForm("g2")
	for _, c := range []struct {
		name string
		path string
		form url.Values
		code int
	}{
		// release: never
		{"never", h.link("g1") + "/request", url.Values{"part": {"4"}, "reason": {"x"}, "csrf": {tag}}, http.StatusForbidden},
		{"encrypted never", h.link("g1") + "/request", url.Values{"part": {"5"}, "reason": {"x"}, "csrf": {tag}}, http.StatusForbidden},
		// recipients
		{"not a recipient", h.link("g1") + "/request", url.Values{"part": {"2"}, "reason": {"x"}, "rcpt": {"evil@example.com"}, "csrf": {tag}}, http.StatusBadRequest},
		{"several, none chosen", h.link("g2") + "/request", url.Values{"part": {"2"}, "reason": {"x"}, "csrf": {tag2}}, http.StatusBadRequest},
		{"several, another", h.link("g2") + "/request", url.Values{"part": {"2"}, "reason": {"x"}, "rcpt": {"A@city.example.lg.jp"}, "csrf": {tag2}}, http.StatusBadRequest},
		// the form
		{"no reason", h.link("g1") + "/request", url.Values{"part": {"2"}, "reason": {" \u200b\r\n "}, "csrf": {tag}}, http.StatusBadRequest},
		{"no part", h.link("g1") + "/request", url.Values{"part": {"9"}, "reason": {"x"}, "csrf": {tag}}, http.StatusBadRequest},
		{"the other link's csrf", h.link("g1") + "/request", url.Values{"part": {"2"}, "reason": {"x"}, "csrf": {tag2}}, http.StatusForbidden},
		{"repeated field", h.link("g1") + "/request", url.Values{"part": {"2", "3"}, "reason": {"x"}, "csrf": {tag}}, http.StatusBadRequest},
		{"unlock of a plain part", h.link("g1") + "/unlock", url.Values{"part": {"2"}, "password": {"x"}, "csrf": {tag}}, http.StatusBadRequest},
		{"unlock to another", h.link("g1") + "/unlock", url.Values{"part": {"5"}, "password": {"x"}, "rcpt": {"evil@example.com"}, "csrf": {tag}}, http.StatusBadRequest},
	} {
		res := h.post(c.path, c.form)
		if res.code != c.code {
			t.Errorf("%s: %d, want %d", c.name, res.code, c.code)
		}
	}
	if h.b.calls() != 0 {
		t.Errorf("refused posts called the backend %d times", h.b.calls())
	}
	if qs := h.s.store.List(); len(qs) != 0 {
		t.Errorf("refused posts stored %d requests", len(qs))
	}
	// Several recipients, one chosen: goes to that one.
	res := h.post(h.link("g2")+"/request", url.Values{"part": {"2"}, "reason": {"x"}, "rcpt": {"b@city.example.lg.jp"}, "csrf": {tag2}})
	qs := h.s.store.ForMessage("g2")
	if res.code != http.StatusSeeOther || len(qs) != 1 || qs[0].Rcpt != "b@city.example.lg.jp" {
		t.Errorf("chosen recipient: %d %+v", res.code, qs)
	}
}

func TestResultQueryFixed(t *testing.T) {
	h := newHarness(t)
	for _, q := range []string{"?r=<script>", "?r=wrong&left=99", "?r=released&to=7", "?r=wrong&left=-1", "?r=unlocked"} {
		res := h.get(h.link("g1") + q)
		if res.code != http.StatusOK || strings.Contains(res.body, `class="note`) || strings.Contains(res.body, "<script>") {
			t.Errorf("%s: %d, a note shown", q, res.code)
		}
	}
}
