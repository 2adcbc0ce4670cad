package portal

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestUnlock(t *testing.T) {
	h := newHarness(t)
	tag := h.staffForm("g1")
	unlock := func(pw, addr string) resp {
		t.Helper()
		res := h.postFrom(addr, h.link("g1")+"/unlock", url.Values{"part": {"5"}, "password": {pw}, "csrf": {tag}})
		if res.code != http.StatusSeeOther {
			t.Fatalf("unlock: %d %s", res.code, res.body)
		}
		return res
	}
	// A wrong password: said so, with the tries left; nothing delivered.
	res := unlock("nope", "")
	page := h.get(res.hdr.Get("Location"))
	if !strings.Contains(page.body, "パスワードが違います") || !strings.Contains(page.body, "あと 4 回") {
		t.Errorf("wrong password page: %s", res.hdr.Get("Location"))
	}
	if strings.Contains(res.hdr.Get("Location"), "nope") || strings.Contains(page.body, "nope") {
		t.Error("the password is echoed")
	}
	// The right one: sent to the recipient; the password slice wiped.
	res = unlock("s3cret", "")
	if !strings.Contains(res.hdr.Get("Location"), "r=unlocked") {
		t.Fatalf("right password: %s", res.hdr.Get("Location"))
	}
	page = h.get(res.hdr.Get("Location"))
	if !strings.Contains(page.body, "staff@city.example.lg.jp 宛てにメールで送りました") {
		t.Error("the page does not say where the files went")
	}
	if len(h.b.unlocks) != 2 {
		t.Fatalf("%d unlock calls", len(h.b.unlocks))
	}
	for _, c := range h.b.unlocks {
		if c.ID != "g1" || c.Part != "5" || c.Rcpt != "staff@city.example.lg.jp" {
			t.Errorf("unlock call %+v", c)
		}
		if !bytes.Equal(c.Password, make([]byte, len(c.Password))) {
			t.Errorf("password %q not zeroed after the call", c.Password)
		}
	}
	if h.b.unlocks[1].Seen != "s3cret" {
		t.Errorf("the backend saw %q", h.b.unlocks[1].Seen)
	}
	// An empty password tries nothing.
	res = unlock("", "")
	if !strings.Contains(res.hdr.Get("Location"), "r=no-password") || len(h.b.unlocks) != 2 {
		t.Errorf("empty password: %s, %d calls", res.hdr.Get("Location"), len(h.b.unlocks))
	}
}

func TestUnlockLockout(t *testing.T) {
	h := newHarness(t)
	tag := h.staffForm("g1")
	try := func(pw string, i int) string {
		// Each try from another address: the limit is per part.
		addr := "198.51.100." + string(rune('1'+i)) + ":1234"
		res := h.postFrom(addr, h.link("g1")+"/unlock", url.Values{"part": {"5"}, "password": {pw}, "csrf": {tag}})
		u, _ := url.Parse(res.hdr.Get("Location"))
		return u.Query().Get("r") + u.Query().Get("left")
	}
	for i, want := range []string{"wrong4", "wrong3", "wrong2", "wrong1", "locked"} {
		if got := try("guess", i); got != want {
			t.Fatalf("try %d: %s, want %s", i+1, got, want)
		}
	}
	// Locked: even the right password reaches no backend.
	if got := try("s3cret", 6); got != "locked" || len(h.b.unlocks) != 5 {
		t.Fatalf("while locked: %s, %d calls", got, len(h.b.unlocks))
	}
	// Another part of another message is not locked.
	res := h.post(h.link("g2")+"/unlock", url.Values{"part": {"5"}, "password": {"s3cret"}, "rcpt": {"a@city.example.lg.jp"}, "csrf": {h.staffForm("g2")}})
	if !strings.Contains(res.hdr.Get("Location"), "r=unlocked") {
		t.Errorf("other message: %s", res.hdr.Get("Location"))
	}
	// An hour later the part opens again.
	h.clock.Add(time.Hour + time.Second)
	tag = h.staffForm("g1")
	if got := try("s3cret", 7); got != "unlocked" {
		t.Fatalf("after the lock: %s", got)
	}
}

func TestUnlockBackendError(t *testing.T) {
	h := newHarness(t)
	h.b.unlockErr = errBackend
	res := h.post(h.link("g1")+"/unlock", url.Values{"part": {"5"}, "password": {"s3cret"}, "csrf": {h.staffForm("g1")}})
	if !strings.Contains(res.hdr.Get("Location"), "r=unlock-failed") {
		t.Fatalf("%s", res.hdr.Get("Location"))
	}
	if page := h.get(res.hdr.Get("Location")); strings.Contains(page.body, errBackend.Error()) {
		t.Error("the internal error is shown")
	}
}

// A link holder who knows the password cannot flood a recipient with
// unlocked copies: unlockDeliveries an hour per part and recipient.
func TestUnlockDeliveriesBounded(t *testing.T) {
	h := newHarness(t)
	tag := h.staffForm("g1")
	try := func() string {
		res := h.post(h.link("g1")+"/unlock", url.Values{"part": {"5"}, "password": {"s3cret"}, "csrf": {tag}})
		u, _ := url.Parse(res.hdr.Get("Location"))
		return u.Query().Get("r")
	}
	for i := range unlockDeliveries {
		if got := try(); got != resUnlocked {
			t.Fatalf("unlock %d: %s", i+1, got)
		}
	}
	if got := try(); got != resSentEnough || len(h.b.unlocks) != unlockDeliveries {
		t.Fatalf("one more: %s, %d backend calls", got, len(h.b.unlocks))
	}
	if page := h.get(h.link("g1") + "?r=sent-enough&p=5"); !strings.Contains(page.body, "何も送っていません") {
		t.Error("the page does not say why")
	}
	h.clock.Add(unlockLock + time.Second)
	if got := try(); got != resUnlocked {
		t.Errorf("an hour later: %s", got)
	}
}
