package report

import (
	"bytes"
	"flag"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func november(t *testing.T) *Report {
	t.Helper()
	f, err := os.Open("testdata/audit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := New(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	r.Loc = time.UTC
	if err := r.Add(f); err != nil {
		t.Fatal(err)
	}
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := "testdata/" + name
	if *update {
		os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update to accept):\n%s", name, got)
	}
}

// TestFigures checks the numbers themselves, independent of any format.
func TestFigures(t *testing.T) {
	r := november(t)
	in, _, _ := r.Flows()
	if r.Received != 3 || r.Rejected != 1 || in.Delivered != 2 || in.Deferred != 1 || in.Bounced != 1 || r.Purges != 1 || r.Unreadable != 1 {
		t.Errorf("totals: %+v %+v", r, in)
	}
	if r.Actions["strip"] != 3 || r.Actions["textify"] != 2 || r.Actions["flatten"] != 1 {
		t.Errorf("actions %v", r.Actions)
	}
	// The unused alternative is not "removed content"; the others are.
	if r.Stripped["dangerous-type"] != 1 || r.Stripped["malformed-mime"] != 1 || r.Stripped["alternative-unused"] != 0 {
		t.Errorf("stripped %v", r.Stripped)
	}
	if r.Senders["a@example.jp"] != 1 || r.Senders["<>"] != 1 || r.Releases["yamada"] != 1 {
		t.Errorf("senders %v releases %v", r.Senders, r.Releases)
	}
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	if err := november(t).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "november.txt", b.Bytes())
}

func TestCSV(t *testing.T) {
	var b bytes.Buffer
	if err := november(t).WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "november.csv", b.Bytes())
}

// TestHTML: the numbers are there, a value from the log is escaped, and
// the page needs nothing from anywhere: no script, no URL.
func TestHTML(t *testing.T) {
	var b bytes.Buffer
	if err := november(t).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"<th>受信 / received</th><td class=\"n\">3</td>", "<td>6(6)</td><td class=\"n\">1</td><td>技術的セキュリティ / Technical security</td>", "<td>dangerous-type</td><td class=\"n\">1</td>", "<svg", "yamada"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if regexp.MustCompile(`(?i)<script|https?:|//[a-z]|src=|@import|url\(`).MatchString(page) {
		t.Errorf("page refers to something outside itself or runs script:\n%s", page)
	}
}

// BenchmarkAdd: a month of a busy city (100k messages, ~6 records each).
func BenchmarkAdd(b *testing.B) {
	one, _ := os.ReadFile("testdata/audit.jsonl")
	var log bytes.Buffer
	for log.Len() < 100_000*6*200 {
		log.Write(one)
	}
	b.SetBytes(int64(log.Len()))
	for b.Loop() {
		r := New(time.Time{}, time.Time{})
		if err := r.Add(bytes.NewReader(log.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzAdd: any log, however damaged or odd (times centuries apart, ids
// reused across kinds), is read and written in every format without a
// panic, and the chart stays bounded.
func FuzzAdd(f *testing.F) {
	one, _ := os.ReadFile("testdata/audit.jsonl")
	f.Add(one)
	f.Add([]byte(`{"time":"0001-01-01T00:00:00Z","event":"policy","policy":"a","previous":"b"}` + "\n" +
		`{"time":"9999-12-31T23:59:59Z","event":"decision","id":"x","policy":"c","action":"strip"}` + "\n" +
		`{"time":"2026-11-01T00:00:00Z","event":"released","id":"x","spool_id":"x"}` + "\n" +
		`{"time":"2026-11-01T00:00:00Z","event":"delivered","id":"x"}`))
	f.Fuzz(func(t *testing.T, log []byte) {
		r := New(time.Time{}, time.Time{})
		r.Loc = time.UTC
		if err := r.Add(bytes.NewReader(log)); err != nil {
			return
		}
		if n := len(r.Days()); n > maxChartDays+2 {
			t.Fatalf("%d days charted", n)
		}
		for _, w := range []func(io.Writer) error{r.WriteText, r.WriteCSV, r.WriteHTML} {
			if err := w(io.Discard); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestHostileValues: what a sender chose reaches neither the terminal's
// control sequences nor a spreadsheet's formulas.
func TestHostileValues(t *testing.T) {
	r := New(time.Time{}, time.Time{})
	r.Add(strings.NewReader(`{"time":"2026-11-02T10:00:00Z","event":"received","id":"m1","from":"=HYPERLINK(\"x\")\u001b[2J@example.jp","client":"192.0.2.1"}` + "\n" +
		`{"time":"2026-11-02T10:00:00Z","event":"decision","id":"m1","action":"strip","reason":"dangerous-type","policy":"aa"}` + "\n"))
	var text, table bytes.Buffer
	r.WriteText(&text)
	r.WriteCSV(&table)
	if strings.Contains(text.String(), "\x1b") || !strings.Contains(text.String(), `=HYPERLINK("x") [2J@example.jp`) {
		t.Errorf("text:\n%q", text.String())
	}
	if !strings.Contains(table.String(), "sender,\"'=HYPERLINK(") {
		t.Errorf("csv:\n%s", table.String())
	}
}

// TestHugeLine: a line past maxLine (a damaged log) is counted unreadable
// and the records after it are still read, as for any other unreadable
// line; the report used to stop at it with "token too long".
func TestHugeLine(t *testing.T) {
	good := `{"time":"2026-11-02T10:00:00Z","event":"received","id":"m1","from":"a@example.jp","rcpt":["x@city.example.lg.jp"],"size":1,"client":"192.0.2.1"}` + "\n"
	huge := `{"time":"2026-11-02T10:00:01Z","event":"received","id":"m2","from":"` + strings.Repeat("A", 4<<20+10) + `"}` + "\n"
	in := good + huge + "\r\n" + strings.Replace(good, "m1", "m3", 1) + "not json\n" + strings.Replace(good[:len(good)-1], "m1", "m4", 1)
	r := New(time.Time{}, time.Time{})
	r.Loc = time.UTC
	if err := r.Add(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if r.Received != 3 || r.Unreadable != 2 {
		t.Errorf("received %d, unreadable %d; want 3 and 2", r.Received, r.Unreadable)
	}
}

// FuzzEachLine: every line comes out once, whole or (past the limit) as
// nil, and never with a line ending in it.
func FuzzEachLine(f *testing.F) {
	f.Add([]byte("a\nbb\r\n\n" + strings.Repeat("x", 100) + "\nc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		want := strings.Split(string(data), "\n")
		if len(want) > 0 && want[len(want)-1] == "" {
			want = want[:len(want)-1]
		}
		var got int
		err := eachLine(bytes.NewReader(data), 64, func(line []byte) {
			if got >= len(want) {
				t.Fatalf("line %d of %d", got+1, len(want))
			}
			w := strings.TrimRight(want[got], "\r\n")
			switch {
			case len(want[got])+1 > 64 && line != nil && len(want[got]) > 64:
				t.Errorf("line %d: %d bytes passed, limit 64", got+1, len(line))
			case line != nil && string(line) != w:
				t.Errorf("line %d: %q, want %q", got+1, line, w)
			}
			got++
		})
		if err != nil || got != len(want) {
			t.Errorf("err %v, %d lines of %d", err, got, len(want))
		}
	})
}

// TestInert: a cell a spreadsheet could read as a formula gets a leading
// apostrophe, also behind spaces it may trim on import; others stay.
func TestInert(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "  =HYPERLINK(\"x\")": "'  =HYPERLINK(\"x\")", " -2": "' -2", "@SUM(A1)": "'@SUM(A1)",
		"＝1+1": "'＝1+1", " ＠x": "' ＠x",
		"staff@city.example": "staff@city.example", "市役所": "市役所", " plain": " plain", "": "", "   ": "   ",
	} {
		if got := inert(in); got != want {
			t.Errorf("inert(%q) = %q, want %q", in, got, want)
		}
	}
}
