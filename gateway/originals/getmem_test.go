package originals

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestGetReadsItsLineNotTheDay: Get serves every portal page, release,
// unlock and rebuild; it looks for one line in the day's index, and must
// not hold the whole day in memory to find it (a busy day's index is
// hundreds of MB; a few staff opening their notices' links at once would
// hold that many times over, outside any of the gateway's budgets). Here
// a 16 MB day: one Get may allocate a few MB at most, its own line
// (300 KB, longer than one read) included.
func TestGetReadsItsLineNotTheDay(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	d := filepath.Join(dir, "2026-12-01")
	if err := os.MkdirAll(d, 0o750); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(d, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	const n = 8000
	for i := range n {
		at := day.Add(time.Duration(i) * time.Second)
		m := Meta{ID: fmt.Sprintf("%s-%012x", at.Format("20060102T150405"), i), Received: at, From: "a@example.jp",
			Rcpts: []string{"x@city.example.lg.jp"}, Subject: strings.Repeat("件名", 300)}
		if i == n/2 { // the one looked up: a line longer than a read (many parts)
			m.Subject = strings.Repeat("件名", 50000)
		}
		line, _ := json.Marshal(m)
		w.Write(append(append([]byte{'\n'}, line...), '\n'))
	}
	w.Flush()
	f.Close()
	fi, _ := os.Stat(filepath.Join(d, IndexFile))

	want := fmt.Sprintf("%s-%012x", day.Add(n/2*time.Second).Format("20060102T150405"), n/2)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, _, err := s.Get(want)
	runtime.ReadMemStats(&after)
	if err != nil || m.ID != want || len(m.Subject) != 300000 {
		t.Fatalf("Get(%s) = %s (subject of %d bytes), %v", want, m.ID, len(m.Subject), err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("one Get allocated %d bytes for a %d-byte index", alloc, fi.Size())
	}
	if ms, problems, err := s.List(Filter{}); err != nil || len(ms) != n || len(problems) != 0 || len(ms[n/2].Subject) != 300000 {
		t.Errorf("List: %d messages, problems %v, %v", len(ms), problems, err)
	}
	// A filtered list holds its matches, and Open's check the ids: no
	// whole-day limit on the index's size any more.
	if ms, problems, err := s.List(Filter{ID: want}); err != nil || len(ms) != 1 || len(problems) != 0 {
		t.Errorf("List by id: %d messages, problems %v, %v", len(ms), problems, err)
	}
	if ids, err := endIndex(filepath.Join(d, IndexFile)); err != nil || len(ids) != n || !ids[want] {
		t.Errorf("endIndex: %d ids, %v", len(ids), err)
	}
}
