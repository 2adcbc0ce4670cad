package queue

import (
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
	// A crash before the meta commit: message without meta (never acked).
	os.WriteFile(filepath.Join(dir, "orphan.msg"), []byte("x"), 0o640)
	// A crash mid temp write.
	os.WriteFile(filepath.Join(dir, ".good.json.abc123.tmp"), []byte("{"), 0o640)
	// Damage: meta that does not parse, and meta whose message is gone.
	os.WriteFile(filepath.Join(dir, "broken.json"), []byte("{not json"), 0o640)
	os.WriteFile(filepath.Join(dir, "broken.msg"), []byte("x"), 0o640)
	lost := &Entry{ID: "lost", Rcpts: []*Recipient{{Addr: "b@example.jp", Status: StatusPending}}}
	if err := s.Add(lost, []byte("y")); err != nil {
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
	if len(problems) != 2 {
		t.Fatalf("problems = %+v, want broken and lost", problems)
	}
	for _, gone := range []string{"orphan.msg", ".good.json.abc123.tmp", "broken.json", "lost.json"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); err == nil {
			t.Errorf("%s still in the spool", gone)
		}
	}
	for _, kept := range []string{"bad/broken.json", "bad/broken.msg", "bad/lost.json"} {
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
	e.Rcpts[0].Status = StatusDelivered
	if err := s.Update(e); err != nil {
		t.Fatal(err)
	}
	_, entries, _, _ := Open(s.dir)
	if len(entries) != 1 || len(entries[0].Pending()) != 1 || entries[0].Pending()[0].Addr != "b@example.jp" {
		t.Fatalf("state not persisted: %+v", entries)
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
