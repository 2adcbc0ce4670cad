package queue

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRequeueDuringMoveToFailed: an admin's Requeue running between
// MoveToFailed's two renames (another process: the gateway) waits for the
// move to finish and then requeues the whole failed entry: the recipient
// already delivered stays delivered, nothing is left without its meta.
func TestRequeueDuringMoveToFailed(t *testing.T) {
	dir := t.TempDir()
	s, _, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := Attach(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &Entry{ID: "m1", Created: time.Now(), Rcpts: []*Recipient{
		{Addr: "got@example.jp", Status: StatusPending}, {Addr: "bounced@example.jp", Status: StatusPending}}}
	if err := s.Add(e, []byte("Subject: x\r\n\r\nbody\r\n")); err != nil {
		t.Fatal(err)
	}
	e.Rcpts[0].Status, e.Rcpts[1].Status = StatusDelivered, StatusFailed
	type result struct {
		e   *Entry
		err error
	}
	done := make(chan result, 1)
	betweenFailedRenames = func(id string) {
		go func() {
			e, err := admin.Requeue(id, time.Now())
			done <- result{e, err}
		}()
		// Give Requeue the time to run into the half-moved entry.
		select {
		case r := <-done:
			t.Error("Requeue finished while the move into failed/ was half done")
			done <- r
		case <-time.After(300 * time.Millisecond):
		}
	}
	defer func() { betweenFailedRenames = nil }()
	if err := s.MoveToFailed(e); err != nil {
		t.Fatal(err)
	}
	betweenFailedRenames = nil
	var r result
	select {
	case r = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Requeue never finished")
	}
	if r.err != nil {
		t.Fatalf("Requeue: %v", r.err)
	}
	got, err := s.Entry("m1")
	if err != nil {
		t.Fatalf("requeued entry: %v", err)
	}
	if got.Rcpts[0].Status != StatusDelivered || got.Rcpts[1].Status != StatusPending {
		t.Errorf("requeued state %+v %+v: want got@ delivered, bounced@ pending", *got.Rcpts[0], *got.Rcpts[1])
	}
	for _, f := range []string{"failed/m1.msg", "failed/m1.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s left behind", f)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "m1.json")); err != nil {
		t.Errorf("requeued without its meta: %v", err)
	}
}

// TestBadNoteSurvivesCrash: a crash between the note in bad/ and the
// renames it announces, or after them before the gateway marked the
// note handled, leaves the entry to the next Open, which finishes the
// move and reports it (with the state noted), until MarkBad.
func TestBadNoteSurvivesCrash(t *testing.T) {
	dir := t.TempDir()
	s, _, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &Entry{ID: "m1", Created: time.Now(), Rcpts: []*Recipient{
		{Addr: "got@example.jp", Status: StatusPending}, {Addr: "later@example.jp", Status: StatusPending}}}
	if err := s.Add(e, []byte("Subject: x\r\n\r\nbody\r\n")); err != nil {
		t.Fatal(err)
	}
	e.Rcpts[0].Status = StatusDelivered
	if err := s.Update(e); err != nil {
		t.Fatal(err)
	}
	crash := errors.New("crash")
	moveHook = func(string) error { return crash }
	_, err = s.MoveDamaged(e, "message does not match its sha256")
	moveHook = nil
	if !errors.Is(err, crash) || !s.Has("m1") {
		t.Fatalf("MoveDamaged = %v; in the spool %v", err, s.Has("m1"))
	}
	for i := range 2 {
		s2, entries, problems, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 0 {
			t.Errorf("open %d: entries %+v: the damaged entry is read as one", i, entries)
		}
		if len(problems) != 1 || !problems[0].Moved || !problems[0].Damaged || problems[0].ID != "m1" ||
			problems[0].Entry == nil || problems[0].Entry.Rcpts[0].Status != StatusDelivered {
			t.Fatalf("open %d: problems %+v", i, problems)
		}
		for _, f := range []string{"bad/m1.msg", "bad/m1.json"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("open %d: %s: %v", i, f, err)
			}
		}
		if i == 1 {
			if err := s2.MarkBad(problems[0], false); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, _, problems, err := Open(dir)
	if err != nil || len(problems) != 0 {
		t.Errorf("after MarkBad: %+v %v", problems, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad", "m1.left")); err != nil {
		t.Errorf("not marked: %v", err)
	}
}

// TestRecoveryNotesBeforeMoving: what start-up recovery moves aside stays
// reported at each Open until the gateway marks it handled.
func TestRecoveryNotesBeforeMoving(t *testing.T) {
	dir := t.TempDir()
	if _, _, _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "torn.msg"), []byte("MUGAI-SPOOL {\"id\":\"to"), 0o640)
	for i := range 2 {
		s, _, problems, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(problems) != 1 || problems[0].ID != "torn" || !problems[0].Damaged || problems[0].Note == "" {
			t.Fatalf("open %d: problems %+v", i, problems)
		}
		if i == 1 {
			if err := s.MarkBad(problems[0], true); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, _, problems, _ := Open(dir); len(problems) != 0 {
		t.Errorf("after MarkBad: %+v", problems)
	}
}
