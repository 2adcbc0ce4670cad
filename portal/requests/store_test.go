package requests

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// clock is a fake time source, one second on per call.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = (&clock{t: t0}).now
	return s
}

func req(msg, part, rcpt string) Request {
	return Request{MsgID: msg, Part: part, Rcpt: rcpt, Reason: "業務で必要です", Expires: t0.Add(90 * 24 * time.Hour)}
}

func add(t *testing.T, s *Store, r Request) Request {
	t.Helper()
	got, err := s.Add(r)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestAddGet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "requests")
	s := open(t, dir)
	r := add(t, s, req("20261201T090000-b0e299d1fb09", "2", "tanaka@city.example.lg.jp"))
	if !validID(r.ID) || r.State != Waiting || !r.Created.Equal(t0.Add(time.Second)) {
		t.Fatalf("added %+v", r)
	}
	if got, ok := s.Get(r.ID); !ok || !reflect.DeepEqual(got, r) {
		t.Fatalf("Get = %+v, %v", got, ok)
	}
	if _, ok := s.Get("nope"); ok {
		t.Error("Get of an unknown id")
	}
	for path, want := range map[string]os.FileMode{dir: 0o750, filepath.Join(dir, r.ID+".json"): 0o640} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want mode %04o", path, fi.Mode(), err, want)
		}
	}
}

// What was stored is there, exactly, after a restart.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	var want []Request
	for i := range 5 {
		want = append(want, add(t, s, req(fmt.Sprint("msg", i), "", "a@example.jp")))
	}
	approved, err := s.Update(want[1].ID, func(r *Request) error {
		r.State, r.Approver, r.Comment = Approved, "承認者", "確認しました"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want[1] = approved
	s2 := open(t, dir)
	if got := s2.List(); !reflect.DeepEqual(got, s.List()) || len(got) != 5 {
		t.Fatalf("after reopen:\n%+v\nwant\n%+v", got, s.List())
	}
	for _, w := range want {
		if got, _ := s2.Get(w.ID); !reflect.DeepEqual(got, w) {
			t.Errorf("after reopen %+v, want %+v", got, w)
		}
	}
	if len(s2.Damaged()) != 0 {
		t.Errorf("damaged: %v", s2.Damaged())
	}
}

func TestDuplicate(t *testing.T) {
	s := open(t, t.TempDir())
	first := add(t, s, req("m", "2", "a@example.jp"))
	again := req("m", "2", "a@example.jp")
	again.Reason = "もう一度"
	if got := add(t, s, again); got.ID != first.ID || got.Reason != first.Reason {
		t.Fatalf("asking again made %+v, want the waiting %s unchanged", got, first.ID)
	}
	// Another part, another recipient, another message: new requests.
	for _, r := range []Request{req("m", "3", "a@example.jp"), req("m", "2", "b@example.jp"), req("m", "", "a@example.jp"), req("n", "2", "a@example.jp")} {
		if got := add(t, s, r); got.ID == first.ID {
			t.Errorf("%+v: returned the other request", r)
		}
	}
	// A self-release (stored delivered) is its own record.
	self := req("m", "2", "a@example.jp")
	self.State = Delivered
	if got := add(t, s, self); got.ID == first.ID || got.State != Delivered || !got.Decided.Equal(got.Created) {
		t.Errorf("self-release: %+v", got)
	}
	// After a refusal, asking again is a new request.
	if _, err := s.Update(first.ID, func(r *Request) error { r.State = Refused; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := add(t, s, req("m", "2", "a@example.jp")); got.ID == first.ID || got.State != Waiting {
		t.Errorf("after refusal: %+v", got)
	}
	if n := len(s.ForMessage("m")); n != 6 {
		t.Errorf("%d requests for m, want 6", n)
	}
}

func TestCanMove(t *testing.T) {
	all := []State{Waiting, Approved, Refused, Delivered, Failed, "bogus"}
	allowed := map[[2]State]bool{
		{Waiting, Waiting}: true, {Waiting, Approved}: true, {Waiting, Refused}: true,
		{Waiting, Delivered}: true, {Waiting, Failed}: true,
		{Approved, Approved}: true, {Approved, Delivered}: true, {Approved, Failed}: true,
	}
	for _, from := range all {
		for _, to := range all {
			if got := CanMove(from, to); got != allowed[[2]State{from, to}] {
				t.Errorf("CanMove(%s, %s) = %v", from, to, got)
			}
		}
	}
}

func TestUpdate(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	r := add(t, s, req("m", "2", "a@example.jp"))
	file := filepath.Join(dir, r.ID+".json")
	before, _ := os.ReadFile(file)
	// f's error aborts: nothing changes, in memory or on disk.
	boom := errors.New("boom")
	if got, err := s.Update(r.ID, func(x *Request) error { x.State = Approved; return boom }); !errors.Is(err, boom) || got.State != Waiting {
		t.Fatalf("Update = %+v, %v", got, err)
	}
	for _, tc := range []struct {
		name string
		f    func(*Request)
		want error
	}{
		{"change id", func(x *Request) { x.ID = newID() }, ErrInvalid},
		{"change message", func(x *Request) { x.MsgID = "other" }, ErrInvalid},
		{"change part", func(x *Request) { x.Part = "3" }, ErrInvalid},
		{"change recipient", func(x *Request) { x.Rcpt = "mallory@example.jp" }, ErrInvalid},
		{"change created", func(x *Request) { x.Created = x.Created.Add(time.Hour) }, ErrInvalid},
		{"bad state", func(x *Request) { x.State = "done" }, ErrTransition},
		{"no expiry", func(x *Request) { x.Expires = time.Time{} }, ErrInvalid},
	} {
		if _, err := s.Update(r.ID, func(x *Request) error { tc.f(x); return nil }); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Fatal("a refused update changed the file")
	}
	if _, err := s.Update("nope", func(*Request) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	// waiting → approved sets Decided; approved → delivered keeps it.
	a, err := s.Update(r.ID, func(x *Request) error { x.State, x.Approver = Approved, "suzuki"; return nil })
	if err != nil || a.Decided.IsZero() {
		t.Fatalf("approve: %+v, %v", a, err)
	}
	d, err := s.Update(r.ID, func(x *Request) error { x.State, x.SpoolID = Delivered, "20261201T090010-aaaaaaaaaaaa"; return nil })
	if err != nil || !d.Decided.Equal(a.Decided) || d.SpoolID == "" {
		t.Fatalf("deliver: %+v, %v", d, err)
	}
	// Final: no more changes.
	if _, err := s.Update(r.ID, func(x *Request) error { x.State = Failed; return nil }); !errors.Is(err, ErrTransition) {
		t.Errorf("delivered → failed: %v", err)
	}
	if _, err := s.Update(r.ID, func(x *Request) error { x.Comment = "later"; return nil }); !errors.Is(err, ErrTransition) {
		t.Errorf("edit of a delivered request: %v", err)
	}
}

func TestBounds(t *testing.T) {
	s := open(t, t.TempDir())
	r := req("m", "2", "a@example.jp")
	r.Reason = strings.Repeat("理由", 400) + "\xff\xfe" // 2400 bytes and invalid UTF-8
	got := add(t, s, r)
	if len(got.Reason) > MaxText || !utf8.ValidString(got.Reason) || !strings.HasPrefix(got.Reason, "理由理由") {
		t.Errorf("reason kept as %d bytes, valid %v", len(got.Reason), utf8.ValidString(got.Reason))
	}
	if len(got.Reason) < MaxText-2 {
		t.Errorf("reason cut to %d bytes, more than a character short of %d", len(got.Reason), MaxText)
	}
	u, err := s.Update(got.ID, func(x *Request) error {
		x.State, x.Comment, x.Approver = Refused, "<script>\x00"+strings.Repeat("x", 5000), "a\xffb"
		return nil
	})
	if err != nil || len(u.Comment) != MaxText || u.Approver != "a\uFFFDb" || !strings.HasPrefix(u.Comment, "<script>\x00") {
		t.Errorf("update: comment %d bytes, approver %q, %v", len(u.Comment), u.Approver, err)
	}
	// Identity fields are refused, not cut.
	for _, tc := range []struct {
		name string
		r    Request
	}{
		{"no message", req("", "2", "a@example.jp")},
		{"no recipient", req("m", "2", "")},
		{"newline in recipient", req("m", "2", "a@example.jp\nBcc: b@example.jp")},
		{"long part", req("m", strings.Repeat("1.", 501), "a@example.jp")},
		{"invalid UTF-8 message id", req("m\xff", "2", "a@example.jp")},
		{"bogus state", Request{MsgID: "m", Rcpt: "a", Expires: t0, State: "done"}},
		{"no expiry", Request{MsgID: "m", Rcpt: "a"}},
	} {
		if _, err := s.Add(tc.r); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		}
	}
	if n := len(s.List()); n != 1 {
		t.Errorf("%d requests stored, want 1", n)
	}
}

func TestListOrder(t *testing.T) {
	s := open(t, t.TempDir())
	a := add(t, s, req("m", "1", "a@example.jp"))
	b := add(t, s, req("other", "1", "a@example.jp"))
	c := add(t, s, req("m", "2", "a@example.jp"))
	if _, err := s.Update(c.ID, func(x *Request) error { x.State = Refused; return nil }); err != nil {
		t.Fatal(err)
	}
	ids := func(rs []Request) (out []string) {
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		got  []Request
		want []string
	}{
		{"all, newest first", s.List(), []string{c.ID, b.ID, a.ID}},
		{"waiting", s.List(Waiting), []string{b.ID, a.ID}},
		{"waiting or refused", s.List(Waiting, Refused), []string{c.ID, b.ID, a.ID}},
		{"delivered", s.List(Delivered), nil},
		{"for m, oldest first", s.ForMessage("m"), []string{a.ID, c.ID}},
		{"for nothing", s.ForMessage("none"), nil},
	} {
		if got := ids(tc.got); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPurge(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	var rs []Request
	for i, days := range []int{1, 2, 3} {
		r := req(fmt.Sprint("m", i), "", "a@example.jp")
		r.Expires = t0.Add(time.Duration(days) * 24 * time.Hour)
		rs = append(rs, add(t, s, r))
	}
	if n, err := s.Purge(t0.Add(24*time.Hour - time.Nanosecond)); n != 0 || err != nil {
		t.Fatalf("Purge before any expiry = %d, %v", n, err)
	}
	if n, err := s.Purge(t0.Add(48 * time.Hour)); n != 2 || err != nil {
		t.Fatalf("Purge = %d, %v; want 2", n, err)
	}
	for i, r := range rs {
		_, inIndex := s.Get(r.ID)
		_, statErr := os.Stat(filepath.Join(dir, r.ID+".json"))
		if kept := i == 2; inIndex != kept || (statErr == nil) != kept {
			t.Errorf("request %d: in index %v, file %v; want kept %v", i, inIndex, statErr, kept)
		}
	}
	if got := open(t, dir).List(); len(got) != 1 || got[0].ID != rs[2].ID {
		t.Errorf("after reopen: %+v", got)
	}
}
