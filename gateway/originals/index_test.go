package originals

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mugai/gateway/safeio"
)

func keep(t *testing.T, s *Store, id string, at time.Time, from string, rcpts ...string) {
	t.Helper()
	f, err := s.TempFile(at, id)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("Subject: x\r\n\r\nbody of " + id + "\r\n")
	m := Meta{ID: id, Received: at, From: from, Rcpts: rcpts, Size: 20, MessageID: "<m-" + id[len(id)-1:] + "@example.jp>",
		Parts: []Part{{Path: "1", Action: "textify", Rule: "body-text", Clause: "2(13)", Reason: "body-text", SHA256: "ab"}}}
	var st safeio.Staged
	if err := s.Stage(&st, f, m); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(nil); err != nil {
		t.Fatal(err)
	}
}

func TestIndex(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	d1 := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	d2 := time.Date(2026, 11, 25, 23, 30, 0, 0, time.UTC)
	keep(t, s, "20261001T090000-aaaaaaaaaaaa", d1, "a@example.jp", "x@city.example.lg.jp")
	keep(t, s, "20261125T233000-bbbbbbbbbbbb", d2, "b@example.jp", "X@City.Example.LG.JP", "y@city.example.lg.jp")
	keep(t, s, "20261125T233001-cccccccccccc", d2.Add(time.Second), "", "y@city.example.lg.jp")

	all, problems, err := s.List(Filter{})
	if err != nil || len(problems) > 0 || len(all) != 3 || all[0].ID != "20261001T090000-aaaaaaaaaaaa" {
		t.Fatalf("List all = %v %v %v", all, problems, err)
	}
	for name, tc := range map[string]struct {
		f    Filter
		want int
	}{
		"by recipient, any case": {Filter{Rcpt: "x@city.example.lg.jp"}, 2},
		"by sender":              {Filter{From: "B@example.jp"}, 1},
		"since":                  {Filter{Since: d2}, 2},
		"until":                  {Filter{Until: d2}, 1},
		"since and rcpt":         {Filter{Since: d2, Rcpt: "x@city.example.lg.jp"}, 1},
		"by id":                  {Filter{ID: "20261125T233001-cccccccccccc"}, 1},
		"by message-id":          {Filter{MessageID: "<m-b@example.jp>"}, 1},
		"by message-id, bare":    {Filter{MessageID: "m-b@example.jp"}, 1},
	} {
		got, _, err := s.List(tc.f)
		if err != nil || len(got) != tc.want {
			t.Errorf("%s: %d originals (%v), want %d", name, len(got), err, tc.want)
		}
	}
	m, path, err := s.Get("20261125T233000-bbbbbbbbbbbb")
	if err != nil || m.From != "b@example.jp" || len(m.Parts) != 1 || !strings.HasSuffix(path, "2026-11-25/20261125T233000-bbbbbbbbbbbb.eml") {
		t.Errorf("Get = %+v %s %v", m, path, err)
	}
	for _, bad := range []string{"20261125T000000-nothere", "../../etc/passwd", "nonsense"} {
		if _, _, err := s.Get(bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", bad, err)
		}
	}
	// A broken index entry is reported, not silently skipped.
	os.WriteFile(filepath.Join(dir, "2026-11-25", "20261125T000000-dddddddddddd.json"), []byte("{"), 0o640)
	if _, problems, _ := s.List(Filter{}); len(problems) != 1 {
		t.Errorf("problems = %v, want the broken entry", problems)
	}

	// Retention 30 days on 2026-11-26: the October day goes, November stays.
	p, err := s.Purge(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).AddDate(0, 0, -30))
	if err != nil || len(p.Days) != 1 || p.Days[0] != "2026-10-01" || p.Messages != 1 || p.Bytes == 0 {
		t.Errorf("Purge = %+v, %v", p, err)
	}
	if left, _, _ := s.List(Filter{}); len(left) != 2 {
		t.Errorf("%d originals left after the purge, want 2", len(left))
	}
	// A day is purged only once it has wholly ended before the cutoff.
	if p, _ := s.Purge(time.Date(2026, 11, 25, 23, 59, 0, 0, time.UTC)); len(p.Days) != 0 {
		t.Errorf("cutoff inside a day purged it: %+v", p)
	}
	if p, _ := s.Purge(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)); len(p.Days) != 1 {
		t.Errorf("cutoff at the end of 2026-11-25: %+v", p)
	}
}

// TestCrashBeforeIndex: a crash after the message file was renamed but
// before its index entry was written left a message that was never
// acknowledged (250 comes after Commit): the next Open removes it and its
// temp files, and everything committed stays listed.
func TestCrashBeforeIndex(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	keep(t, s, "20261126T080000-aaaaaaaaaaaa", at, "a@example.jp", "x@city.example.lg.jp")
	day := filepath.Join(dir, "2026-11-26")
	os.WriteFile(filepath.Join(day, "20261126T080001-bbbbbbbbbbbb.eml"), []byte("half"), 0o640) // no .json
	f, _ := s.TempFile(at, "20261126T080002-cccccccccccc")                                      // a temp file mid-write
	f.Close()
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(day)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "20261126T080000-aaaaaaaaaaaa.eml,"+IndexFile {
		t.Errorf("after recovery the day holds %v", names)
	}
	if ms, _, _ := s2.List(Filter{}); len(ms) != 1 {
		t.Errorf("%d originals listed after recovery, want 1", len(ms))
	}
}

// TestReceivedSubject: Stage records the subject as the original has it,
// decoded, whatever the rebuild made of it (the policy's subject tag);
// an original without one has "", and an index entry from before, or an
// original whose header does not read, gives the rebuilt one.
func TestReceivedSubject(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for i, tc := range []struct {
		original, rebuilt, want string
	}{
		{"Subject: =?ISO-2022-JP?B?GyRCMnE1RBsoQg==?=\r\nFrom: a@example.jp\r\n\r\nbody\r\n", "[無害化] 会議", "会議"},
		{"From: a@example.jp\r\n\r\nno subject\r\n", "[無害化]", ""},
		{"Subject: [無害化] re: 会議\r\n\r\nalready tagged\r\n", "[無害化] re: 会議", "[無害化] re: 会議"},
		{"this is no header line\r\n\r\n", "[無害化] (rebuilt)", "[無害化] (rebuilt)"},
	} {
		id := fmt.Sprintf("20261130T090000-%012d", i)
		f, err := s.TempFile(at, id)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(tc.original)
		var st safeio.Staged
		if err := s.Stage(&st, f, Meta{ID: id, Received: at, Subject: tc.rebuilt}); err != nil {
			t.Fatal(err)
		}
		if err := st.Commit(nil); err != nil {
			t.Fatal(err)
		}
		m, _, err := s.Get(id)
		if err != nil || m.SubjectAsReceived() != tc.want || m.Subject != tc.rebuilt {
			t.Errorf("%q: subject as received %q, rebuilt %q (%v); want %q", tc.original, m.SubjectAsReceived(), m.Subject, err, tc.want)
		}
	}
	if old := (Meta{Subject: "[無害化] 旧"}); old.SubjectAsReceived() != "[無害化] 旧" {
		t.Errorf("an entry from before gives %q", old.SubjectAsReceived())
	}
}

// TestDayIndexRecovery: what a crash or power cut can leave in the index
// era, and what Open makes of it. In the two newest day folders an .eml
// without a line in its day's index was never acknowledged and goes (also
// when the crash came before the day's first line created the index); a
// line cut short or left as zeros is reported, not taken, and Open ends
// it so that the next message's line reads; a commit that failed after
// its line was appended left a withdrawal after it, and the message is
// not listed. Older days are not rescanned, and days from before the
// index (a .json per message) are read and recovered as before.
func TestDayIndexRecovery(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	mid := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	today := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	keep(t, s, "20261128T080000-aaaaaaaaaaaa", mid, "a@example.jp", "x@city.example.lg.jp")
	keep(t, s, "20261201T080000-bbbbbbbbbbbb", today, "b@example.jp", "x@city.example.lg.jp")
	keep(t, s, "20261201T080001-cccccccccccc", today.Add(time.Second), "c@example.jp", "x@city.example.lg.jp")
	// A day from before the index: a .json per message, and an orphan.
	oldDay := filepath.Join(dir, "2026-11-20")
	os.MkdirAll(oldDay, 0o750)
	meta, _ := json.Marshal(Meta{ID: "20261120T080000-dddddddddddd", Received: old, From: "d@example.jp"})
	os.WriteFile(filepath.Join(oldDay, "20261120T080000-dddddddddddd.eml"), []byte("old"), 0o640)
	os.WriteFile(filepath.Join(oldDay, "20261120T080000-dddddddddddd.json"), meta, 0o640)
	os.WriteFile(filepath.Join(oldDay, "20261120T080001-eeeeeeeeeeee.eml"), []byte("never acknowledged"), 0o640)
	// An older index day is not rescanned: its unindexed .eml stays.
	midDay := filepath.Join(dir, "2026-11-28")
	os.WriteFile(filepath.Join(midDay, "20261128T080001-ffffffffffff.eml"), []byte("stays"), 0o640)
	// Today: an .eml whose line never came, c's line cut short by a
	// power cut, and a withdrawn message.
	day := filepath.Join(dir, "2026-12-01")
	os.WriteFile(filepath.Join(day, "20261201T080002-gggggggggggg.eml"), []byte("no line"), 0o640)
	index := filepath.Join(day, IndexFile)
	b, _ := os.ReadFile(index)
	cut := bytes.LastIndex(b[:len(b)-1], []byte("\n")) + 40
	os.WriteFile(index, b[:cut], 0o640)
	// The newest day: its first message crashed before its line.
	firstDay := filepath.Join(dir, "2026-12-02")
	os.MkdirAll(firstDay, 0o750)
	os.WriteFile(filepath.Join(firstDay, "20261202T000001-iiiiiiiiiiii.eml"), []byte("no index yet"), 0o640)

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		filepath.Join(oldDay, "20261120T080000-dddddddddddd.eml"):   true,
		filepath.Join(oldDay, "20261120T080001-eeeeeeeeeeee.eml"):   false,
		filepath.Join(midDay, "20261128T080001-ffffffffffff.eml"):   true,
		filepath.Join(day, "20261201T080000-bbbbbbbbbbbb.eml"):      true,
		filepath.Join(day, "20261201T080002-gggggggggggg.eml"):      false,
		filepath.Join(firstDay, "20261202T000001-iiiiiiiiiiii.eml"): false,
	} {
		if _, err := os.Stat(path); (err == nil) != want {
			t.Errorf("%s: kept %v, want %v", filepath.Base(path), err == nil, want)
		}
	}
	if b, _ := os.ReadFile(index); b[len(b)-1] != '\n' {
		t.Errorf("Open left the cut line unended: %q", b[len(b)-20:])
	}
	keepWithdrawn(t, s, "20261201T080003-hhhhhhhhhhhh", today)
	// Zeros where a line was (its data never reached the disk), then the
	// next message's line.
	f, _ := os.OpenFile(index, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(make([]byte, 300))
	f.Close()
	keep(t, s, "20261201T090000-jjjjjjjjjjjj", today.Add(time.Hour), "j@example.jp", "x@city.example.lg.jp")

	ms, problems, err := s.List(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID[len(m.ID)-1:])
	}
	if strings.Join(ids, "") != "dabj" {
		t.Errorf("listed %v, want d (old day), a, b, j: not c (cut), h (withdrawn)", ids)
	}
	// Line 4: each line is appended after an empty one (ownLine).
	if len(problems) != 2 || !strings.Contains(problems[0], "line 4: unexpected end") || !strings.Contains(problems[1], "300 zero bytes") {
		t.Errorf("problems %v, want c's cut line and the zeros", problems)
	}
	// Found; or not found, but the day's index has lines that do not
	// read, so it may have been one of them, or its .eml was there
	// without its line (i: Open removed it; its line may have been lost
	// whole): not ErrNotFound.
	for id, want := range map[string]error{"20261201T080001-cccccccccccc": ErrIndexDamaged, "20261201T080003-hhhhhhhhhhhh": ErrIndexDamaged,
		"20261201T090000-jjjjjjjjjjjj": nil, "20261120T080000-dddddddddddd": nil, "20261128T080009-zzzzzzzzzzzz": ErrNotFound,
		"20261202T000001-iiiiiiiiiiii": ErrIndexDamaged} {
		m, _, err := s.Get(id)
		if !errors.Is(err, want) || want == nil && (err != nil || m.ID != id) {
			t.Errorf("Get(%s) = %v, %v; want %v", id, m.ID, err, want)
		}
	}
}

// keepWithdrawn stages an original whose commit fails after its index
// line was written (its round's write-back check fails).
func keepWithdrawn(t *testing.T, s *Store, id string, at time.Time) {
	t.Helper()
	f, err := s.TempFile(at, id)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("Subject: x\r\n\r\nwithdrawn\r\n")
	var st safeio.Staged
	if err := s.Stage(&st, f, Meta{ID: id, Received: at}); err != nil {
		t.Fatal(err)
	}
	c := safeio.NewCommitter(true)
	c.Fault = func(f *os.File) error {
		if filepath.Base(f.Name()) == IndexFile {
			return errors.New("injected write-back error")
		}
		return nil
	}
	if err := st.CommitVerified(c); err == nil {
		t.Fatal("the commit with a failing index succeeded")
	}
}
