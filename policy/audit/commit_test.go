package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mugai/policy"
)

// A torn last line (a crash in the middle of a write) is ended at Open,
// so the next record is a line of its own, and the tail read skips it.
func TestOpenEndsTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	os.WriteFile(path, []byte(`{"time":"2026-11-26T10:00:00Z","event":"received","id":"A"}`+"\n"+`{"time":"2026-11-26T10:00:01Z","ev`), 0o640)
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l.Now = func() time.Time { return time.Date(2026, 11, 26, 10, 0, 2, 0, time.UTC) }
	if err := l.Recovered("B", Envelope{}, []policy.Decision{{Path: "1"}}, "sha"); err != nil {
		t.Fatal(err)
	}
	l.Close()
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[2], `{"time":"2026-11-26T10:00:02Z","event":"received","id":"B","recovered":true`) {
		t.Fatalf("log after a torn line:\n%s", b)
	}
	tail, err := ReadTail(path, time.Hour, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id                 string
		received, decision bool
	}{{"A", true, false}, {"B", true, true}, {"C", false, false}} {
		if r, d := tail.Has(c.id); r != c.received || d != c.decision {
			t.Errorf("Has(%s) = %v, %v; want %v, %v", c.id, r, d, c.received, c.decision)
		}
	}
}

// ReadTail reads back only the window before the newest record (and goes
// on into the rotated file when the current one is shorter), or stops at
// its byte limit and says how far it got.
func TestReadTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	t0 := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	rec := func(i int) string {
		return fmt.Sprintf(`{"time":%q,"event":"received","id":"M%d"}`+"\n", t0.Add(time.Duration(i)*time.Minute).Format(time.RFC3339Nano), i)
	}
	var old, cur strings.Builder
	for i := 0; i < 100; i++ { // minutes 0..99 rotated, 100..199 current
		old.WriteString(rec(i))
		cur.WriteString(rec(100 + i))
	}
	os.WriteFile(path+".1", []byte(old.String()), 0o640)
	os.WriteFile(path, []byte(cur.String()), 0o640)

	tail, err := ReadTail(path, 30*time.Minute, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(199 * time.Minute); !tail.Last.Equal(want) || !tail.Since.Equal(want.Add(-30*time.Minute)) {
		t.Errorf("Last %v Since %v", tail.Last, tail.Since)
	}
	if r, _ := tail.Has("M170"); !r {
		t.Error("a record inside the window was not seen")
	}
	if r, _ := tail.Has("M160"); r {
		t.Error("the read went further back than the window")
	}
	// A window longer than the current file reaches into path.1.
	tail, _ = ReadTail(path, 150*time.Minute, 1<<20)
	if r, _ := tail.Has("M60"); !r {
		t.Error("the rotated file was not read")
	}
	// The byte limit stops the read; Since says how far it got.
	tail, _ = ReadTail(path, 150*time.Minute, int64(len(cur.String())))
	if !tail.Truncated || !tail.Since.Equal(t0.Add(100*time.Minute)) {
		t.Errorf("truncated read: Truncated %v, Since %v", tail.Truncated, tail.Since)
	}
}

// AcceptedPinned keeps the file it wrote to open across a Reopen until
// the commit unpins it, and after Fail refuses every commit.
func TestAcceptedPinned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f, unpin, err := l.AcceptedPinned("A", Envelope{}, nil, "sha")
	if err != nil {
		t.Fatal(err)
	}
	os.Rename(path, path+".1") // logrotate
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("the pinned file was closed by Reopen: %v", err)
	}
	unpin()
	if err := f.Sync(); err == nil {
		t.Error("the retired file is still open after its last unpin")
	}
	l.Fail(errors.New("EIO"))
	if _, _, err := l.AcceptedPinned("B", Envelope{}, nil, "sha"); !errors.Is(err, ErrBroken) {
		t.Errorf("commit after a failed sync: %v, want ErrBroken", err)
	}
}
