package portal

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"mugai/portal/requests"
)

// decide posts a decision as the signed-in approver.
func (h *harness) decide(sess *http.Cookie, id, decision, comment string) resp {
	h.t.Helper()
	list := h.get("/admin/", sess)
	return h.post("/admin/requests/"+id, url.Values{"decision": {decision}, "comment": {comment}, "csrf": {csrf(h.t, list.body)}}, sess)
}

func TestApprove(t *testing.T) {
	h := newHarness(t)
	q := h.waitingRequest()
	sess := h.login("approver", "approver-pass")
	list := h.get("/admin/", sess)
	for _, want := range []string{"UNIQUE-REASON-42", "見積書.pdf", "お見積り", "sender@example.jp", "application/pdf",
		"pdf-flatten", "スクリプトを含むため。", strings.Repeat("ab", 32), "spf=pass dkim=pass", "staff@city.example.lg.jp",
		`action="/admin/requests/` + q.ID + `"`, `value="approve"`, `value="refuse"`} {
		if !strings.Contains(list.body, want) {
			t.Errorf("requests page lacks %q", want)
		}
	}
	h.b.events, h.b.notes = nil, nil
	res := h.decide(sess, q.ID, "approve", "業務上必要")
	if res.code != http.StatusSeeOther || res.hdr.Get("Location") != "/admin/?r=approved" {
		t.Fatalf("approve: %d %q", res.code, res.hdr.Get("Location"))
	}
	want := releaseCall{"g1", "2", "staff@city.example.lg.jp", "approver", "UNIQUE-REASON-42 / 業務上必要"}
	if len(h.b.releases) != 1 || h.b.releases[0] != want {
		t.Fatalf("releases %+v", h.b.releases)
	}
	got, _ := h.s.store.Get(q.ID)
	if got.State != requests.Delivered || got.Approver != "approver" || got.Comment != "業務上必要" || got.SpoolID != "spool-1" || !got.Decided.Equal(t0) {
		t.Errorf("stored %+v", got)
	}
	if len(h.b.events) != 1 || h.b.events[0] != (Event{Kind: EventApproved, Actor: "approver", ID: "g1", Part: "2", Request: q.ID,
		Rcpt: "staff@city.example.lg.jp", Detail: "業務上必要"}) {
		t.Errorf("events %+v", h.b.events)
	}
	if len(h.b.notes) != 1 || strings.Join(h.b.notes[0].To, ",") != "staff@city.example.lg.jp,admin@city.example.lg.jp" ||
		!strings.Contains(h.b.notes[0].Body, "承認され") || !strings.Contains(h.b.notes[0].Body, "業務上必要") {
		t.Errorf("notify %+v", h.b.notes)
	}
	// The staff page shows it delivered; deciding again is a conflict.
	if page := h.get(h.link("g1")); !strings.Contains(page.body, "送付済み") {
		t.Error("staff page does not show delivered")
	}
	if res := h.decide(sess, q.ID, "refuse", ""); res.code != http.StatusConflict {
		t.Errorf("second decision: %d", res.code)
	}
	if len(h.b.releases) != 1 || len(h.b.events) != 1 {
		t.Error("the second decision did something")
	}
	if page := h.get("/admin/", sess); !strings.Contains(page.body, "業務上必要") || strings.Contains(page.body, `value="approve"`) {
		t.Error("recently decided list")
	}
}

func TestRefuse(t *testing.T) {
	h := newHarness(t)
	q := h.waitingRequest()
	sess := h.login("approver", "approver-pass")
	h.b.events, h.b.notes = nil, nil
	res := h.decide(sess, q.ID, "refuse", "<b>不要</b>")
	if res.code != http.StatusSeeOther || res.hdr.Get("Location") != "/admin/?r=refused" {
		t.Fatalf("refuse: %d", res.code)
	}
	if len(h.b.releases) != 0 {
		t.Error("released on refusal")
	}
	got, _ := h.s.store.Get(q.ID)
	if got.State != requests.Refused || got.Comment != "<b>不要</b>" || got.Approver != "approver" {
		t.Errorf("stored %+v", got)
	}
	if len(h.b.events) != 1 || h.b.events[0].Kind != EventRefused || h.b.events[0].Detail != "<b>不要</b>" {
		t.Errorf("events %+v", h.b.events)
	}
	if len(h.b.notes) != 1 || h.b.notes[0].To[0] != "staff@city.example.lg.jp" || !strings.Contains(h.b.notes[0].Body, "却下") {
		t.Errorf("notify %+v", h.b.notes)
	}
	page := h.get(h.link("g1"))
	if !strings.Contains(page.body, "却下") || !strings.Contains(page.body, "&lt;b&gt;不要&lt;/b&gt;") {
		t.Error("staff page does not show the refusal and its comment")
	}
	// A refused request can be asked again.
	res = h.post(h.link("g1")+"/request", url.Values{"part": {"2"}, "reason": {"again"}, "csrf": {h.staffForm("g1")}})
	if !strings.Contains(res.hdr.Get("Location"), "r=requested") || len(h.s.store.List(requests.Waiting)) != 1 {
		t.Errorf("asking again: %s", res.hdr.Get("Location"))
	}
}

func TestApproveReleaseFails(t *testing.T) {
	h := newHarness(t)
	q := h.waitingRequest()
	sess := h.login("approver", "approver-pass")
	h.b.releaseErr = errBackend
	res := h.decide(sess, q.ID, "approve", "")
	if res.hdr.Get("Location") != "/admin/?r=failed" {
		t.Fatalf("%q", res.hdr.Get("Location"))
	}
	got, _ := h.s.store.Get(q.ID)
	if got.State != requests.Failed || got.Error != errBackend.Error() {
		t.Errorf("stored %+v", got)
	}
	if page := h.get("/admin/?r=failed", sess); !strings.Contains(page.body, errBackend.Error()) || !strings.Contains(page.body, "送れませんでした") {
		t.Error("the approver does not see the error")
	}
}

func TestDecideBad(t *testing.T) {
	h := newHarness(t)
	q := h.waitingRequest()
	sess := h.login("approver", "approver-pass")
	calls := h.b.calls()
	for _, c := range []struct {
		id, decision string
		code         int
	}{
		{q.ID, "maybe", http.StatusBadRequest},
		{q.ID, "", http.StatusBadRequest},
		{"nosuchrequest", "approve", http.StatusNotFound},
	} {
		if res := h.decide(sess, c.id, c.decision, ""); res.code != c.code {
			t.Errorf("%s %q: %d, want %d", c.id, c.decision, res.code, c.code)
		}
	}
	if got, _ := h.s.store.Get(q.ID); got.State != requests.Waiting || h.b.calls() != calls {
		t.Error("a bad decision changed something")
	}
}

func TestRequestsSurviveRestart(t *testing.T) {
	h := newHarness(t)
	q := h.waitingRequest()
	s2, err := New(h.cfg, h.b)
	if err != nil {
		t.Fatal(err)
	}
	h.s, h.h = s2, s2.Handler()
	if page := h.get(h.link("g1")); !strings.Contains(page.body, "承認待ち") {
		t.Error("the staff page lost the request")
	}
	sess := h.login("approver", "approver-pass")
	if res := h.decide(sess, q.ID, "approve", ""); res.code != http.StatusSeeOther {
		t.Fatalf("approve after restart: %d", res.code)
	}
	// Purge removes it once the original's retention ends.
	if n, err := s2.Purge(t0.Add(89 * 24 * time.Hour)); n != 0 || err != nil {
		t.Errorf("early purge: %d %v", n, err)
	}
	if n, err := s2.Purge(t0.Add(91 * 24 * time.Hour)); n != 1 || err != nil {
		t.Errorf("purge: %d %v", n, err)
	}
	if _, ok := s2.store.Get(q.ID); ok {
		t.Error("purged request still there")
	}
}
