package originals

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"mugai/gateway/safeio"
)

// TestAppendCutShortWhileRunning: an append can be cut short with the
// gateway running (a full file system or quota, EFBIG: the write stops at
// a page it gets no block for), leaving part of a line and no newline;
// that commit fails (451, nothing kept), and no start comes to end the
// line. The next message's line must still read: it was acknowledged.
// Here RLIMIT_FSIZE cuts the write as ENOSPC would (Go ignores SIGXFSZ).
func TestAppendCutShortWhileRunning(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	keep(t, s, "20261201T080000-aaaaaaaaaaaa", day, "a@example.jp", "x@city.example.lg.jp")

	// b's commit: its line is cut 60 bytes in.
	index := filepath.Join(dir, "2026-12-01", IndexFile)
	fi, err := os.Stat(index)
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.TempFile(day, "20261201T080001-bbbbbbbbbbbb")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("Subject: x\r\n\r\nnot kept\r\n")
	var st safeio.Staged
	if err := s.Stage(&st, f, Meta{ID: "20261201T080001-bbbbbbbbbbbb", Received: day, From: "b@example.jp"}); err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: uint64(fi.Size()) + 60, Max: old.Max}); err != nil {
		t.Fatal(err)
	}
	err = st.CommitVerified(nil)
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); rerr != nil {
		t.Fatal(rerr)
	}
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("the cut commit: %v, want EFBIG", err)
	}

	// c's commit succeeds: acknowledged.
	keep(t, s, "20261201T080002-cccccccccccc", day.Add(2*time.Second), "c@example.jp", "x@city.example.lg.jp")
	if m, _, err := s.Get("20261201T080002-cccccccccccc"); err != nil || m.From != "c@example.jp" {
		t.Errorf("Get of the message kept after the cut append: %v, %v", m.From, err)
	}
	if _, _, err := s.Get("20261201T080001-bbbbbbbbbbbb"); err == nil {
		t.Error("the cut message is found")
	}
	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	ms, _, err := s.List(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].From != "a@example.jp" || ms[1].From != "c@example.jp" {
		t.Errorf("after a restart the store lists %d: %v", len(ms), ms)
	}
	if _, err := os.Stat(filepath.Join(dir, "2026-12-01", "20261201T080002-cccccccccccc.eml")); err != nil {
		t.Errorf("the restart removed an acknowledged original: %v", err)
	}
}
