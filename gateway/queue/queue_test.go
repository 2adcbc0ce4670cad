package queue

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRecovery: what a crash can leave behind is cleaned up or moved aside
// on Open, never silently deleted once it was committed.
func TestRecovery(t *testing.T) {
	dir := t.TempDir()
	s, entries, problems, err := Open(dir)
	if err != nil || len(entries) != 0 || len(problems) != 0 {
		t.Fatalf("fresh spool: %v %v %v", err, entries, problems)
	}
	good := &Entry{ID: "good", From: "a@example.jp", Rcpts: []*Recipient{{Addr: "b@example.jp", Status: StatusPending}}, Created: time.Now()}
	if err := s.Add(good, []byte("message\r\n")); err != nil {
		t.Fatal(err)
	}
	// A message file without its entry line or a meta: committed files
	// are renamed into place whole, so this is damage (an acknowledged
	// entry whose first bytes were overwritten), moved aside, never
	// removed.
	os.WriteFile(filepath.Join(dir, "orphan.msg"), []byte("\x00\x00\x00\x00x"), 0o640)
	// What older versions and the running gateway leave in the spool.
	os.WriteFile(filepath.Join(dir, PidFile), []byte("12345\n"), 0o640)
	os.WriteFile(filepath.Join(dir, LockName), nil, 0o600)
	// An entry line that does not parse.
	os.WriteFile(filepath.Join(dir, "torn.msg"), []byte(entryLine+`{"id":"torn",`+"\nmessage"), 0o640)
	// A crash mid temp write.
	os.WriteFile(filepath.Join(dir, ".good.json.abc123.tmp"), []byte("{"), 0o640)
	// Damage: meta that does not parse, and meta whose message is gone.
	os.WriteFile(filepath.Join(dir, "broken.json"), []byte("{not json"), 0o640)
	os.WriteFile(filepath.Join(dir, "broken.msg"), []byte("x"), 0o640)
	lost := &Entry{ID: "lost", Rcpts: []*Recipient{{Addr: "b@example.jp", Status: StatusPending}}}
	if err := s.Add(lost, []byte("y")); err != nil {
		t.Fatal(err)
	}
	lost.Attempts = 1
	if err := s.Update(lost); err != nil { // the state now lives in lost.json
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "lost.msg"))

	_, entries, problems, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].ID != "good" || entries[0].Rcpts[0].Addr != "b@example.jp" {
		t.Fatalf("entries = %+v", entries)
	}
	if len(problems) != 4 {
		t.Fatalf("problems = %+v, want broken, lost, orphan and torn", problems)
	}
	damaged := map[string]bool{}
	for _, p := range problems {
		if !p.Moved {
			t.Errorf("%s not reported as moved", p.Name)
		}
		damaged[p.ID] = p.Damaged
	}
	// Only a message file whose own entry line is gone or torn may be
	// rebuilt; a meta that does not parse or a lost message may not (which
	// recipients got it is unknown).
	if want := map[string]bool{"broken": false, "lost": false, "orphan": true, "torn": true}; fmt.Sprint(damaged) != fmt.Sprint(want) {
		t.Errorf("damaged = %v, want %v", damaged, want)
	}
	if _, err := os.Stat(filepath.Join(dir, PidFile)); err == nil {
		t.Error("a leftover pid file stays")
	}
	if _, err := os.Stat(filepath.Join(dir, LockName)); err != nil {
		t.Error("the lock file was removed")
	}
	for _, gone := range []string{"orphan.msg", ".good.json.abc123.tmp", "broken.json", "lost.json", "torn.msg"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); err == nil {
			t.Errorf("%s still in the spool", gone)
		}
	}
	for _, kept := range []string{"bad/broken.json", "bad/broken.msg", "bad/lost.json", "bad/torn.msg", "bad/orphan.msg"} {
		if _, err := os.Stat(filepath.Join(dir, kept)); err != nil {
			t.Errorf("%s not moved aside: %v", kept, err)
		}
	}
}

func TestUpdateRemove(t *testing.T) {
	s, _, _, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &Entry{ID: "e1", Rcpts: []*Recipient{{Addr: "a@example.jp", Status: StatusPending}, {Addr: "b@example.jp", Status: StatusPending}}}
	if err := s.Add(e, []byte("m")); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(e, []byte("m")); err == nil {
		t.Error("adding the same id twice succeeded")
	}
	// A new entry is one file; the message comes back without the entry.
	if des, _ := os.ReadDir(s.dir); len(des) != 3 { // e1.msg, bad/, failed/
		t.Errorf("spool after Add: %v", des)
	}
	if m, err := s.Message("e1"); err != nil || string(m) != "m" {
		t.Errorf("Message = %q, %v", m, err)
	}
	e.Rcpts[0].Status = StatusDelivered
	if err := s.Update(e); err != nil {
		t.Fatal(err)
	}
	_, entries, _, _ := Open(s.dir)
	if len(entries) != 1 || len(entries[0].Pending()) != 1 || entries[0].Pending()[0].Addr != "b@example.jp" {
		t.Fatalf("state not persisted: %+v", entries)
	}
	if m, err := s.Message("e1"); err != nil || string(m) != "m" {
		t.Errorf("Message after Update = %q, %v", m, err)
	}
	if err := s.Remove("e1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Message("e1"); err != ErrNotFound {
		t.Errorf("Message after Remove: %v", err)
	}
	// Finish (a delivered entry) removes both files, without a directory sync.
	if err := s.Add(&Entry{ID: "e2", Rcpts: []*Recipient{{Addr: "a@example.jp", Status: StatusPending}}}, []byte("m")); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish("e2"); err != nil {
		t.Fatal(err)
	}
	if des, _ := os.ReadDir(s.dir); len(des) != 2 { // bad/ and failed/
		t.Errorf("spool after Finish: %v", des)
	}
}

// An entry whose recipients failed moves to failed/, is listed there, and
// comes back with Requeue; Delete removes it wherever it is, in either form.
func TestFailedRequeueDelete(t *testing.T) {
	s, _, _, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"f1", "f2"} {
		if err := s.Add(&Entry{ID: id, Created: time.Now(), Rcpts: []*Recipient{{Addr: "a@example.jp", Status: StatusPending}}}, []byte("msg "+id)); err != nil {
			t.Fatal(err)
		}
	}
	waiting, failed, err := s.List()
	if err != nil || len(waiting) != 2 || len(failed) != 0 {
		t.Fatalf("List = %v, %v, %v", waiting, failed, err)
	}
	e := waiting[0]
	e.Rcpts[0].Status = StatusFailed
	if err := s.MoveToFailed(e); err != nil {
		t.Fatal(err)
	}
	waiting, failed, _ = s.List()
	if len(waiting) != 1 || len(failed) != 1 || failed[0].ID != e.ID || failed[0].Rcpts[0].Status != StatusFailed {
		t.Fatalf("after MoveToFailed: waiting %v, failed %v", waiting, failed)
	}
	back, err := s.Requeue(e.ID, time.Now())
	if err != nil || back.Rcpts[0].Status != StatusPending {
		t.Fatalf("Requeue = %+v, %v", back, err)
	}
	if m, err := s.Message(e.ID); err != nil || string(m) != "msg "+e.ID {
		t.Errorf("requeued message = %q, %v", m, err)
	}
	if _, err := s.Requeue(e.ID, time.Now()); err != ErrNotFound {
		t.Errorf("second Requeue: %v", err)
	}
	for _, id := range []string{"f1", "f2"} { // one with a meta, one without
		if err := s.Delete(id); err != nil {
			t.Errorf("Delete %s: %v", id, err)
		}
	}
	if err := s.Delete("f1"); err != ErrNotFound {
		t.Errorf("second Delete: %v", err)
	}
	if w, f, _ := s.List(); len(w)+len(f) != 0 {
		t.Errorf("left after Delete: %v %v", w, f)
	}
}
