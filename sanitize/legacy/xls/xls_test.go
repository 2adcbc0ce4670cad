package xls

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"mugai/sanitize/format"
)

// sanitize runs the Extractor on a compound file and returns its text
// with LF line ends.
func sanitize(t *testing.T, file []byte) (string, format.Verdict) {
	t.Helper()
	var out bytes.Buffer
	v, err := (&Extractor{}).Sanitize(context.Background(), format.Part{Filename: "名簿.xls"}, bytes.NewReader(file), &out)
	if err != nil {
		t.Fatalf("Sanitize: %v", err)
	}
	if !strings.HasSuffix(out.String(), "\r\n") || strings.Contains(strings.ReplaceAll(out.String(), "\r\n", ""), "\n") {
		t.Errorf("output lines do not all end in CRLF: %q", out.String())
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n"), v
}

// textOf runs extract on a workbook stream alone.
func textOf(t *testing.T, stream []byte) string {
	t.Helper()
	res, err := extract(context.Background(), stream, Limits{}.withDefaults(), nil)
	if err != nil {
		t.Fatalf("extract: %v", err)
	}
	return strings.ReplaceAll(res.text.String(), "\r\n", "\n")
}

func TestSanitizeWholeFile(t *testing.T) {
	sst := sstRecords([]sstString{{s: "氏名"}, {s: "住所"}, {s: "山田太郎"}, {s: "東京都千代田区"}}, 4, 8224)
	b := book{
		head: [][]byte{xf(0), numFormat(164, `yyyy"年"m"月"d"日"`), xf(164)},
		tail: [][]byte{sst},
		sheets: []bsheet{
			{name: "名簿", body: [][]byte{labelSST(0, 0, 0, 0), labelSST(0, 1, 0, 1), labelSST(1, 0, 0, 2), labelSST(1, 1, 0, 3),
				number(1, 2, 1, 46356)}},
			{name: "Sheet2", body: [][]byte{label(0, 0, "ok"), number(0, 1, 0, 3.5)}},
		},
	}
	got, v := sanitize(t, xlsFile(t, b.bytes()))
	want := "## 名簿\n氏名\t住所\n山田太郎\t東京都千代田区\t2026年11月30日\n## Sheet2\nok\t3.5\n"
	if got != want {
		t.Errorf("text\n got %q\nwant %q", got, want)
	}
	if v.Type != "text/plain; charset=utf-8" || v.Filename != "名簿.txt" {
		t.Errorf("verdict %q %q", v.Type, v.Filename)
	}
	if len(v.Notes) != 1 || !strings.Contains(v.Notes[0].JA, "文字と値だけ") || v.Notes[0].EN == "" || v.Notes[0].Loss {
		t.Errorf("notes %+v", v.Notes)
	}
}

// TestSST checks shared strings split across CONTINUE records at every
// place, with the form (compressed or UTF-16) changing at the boundary,
// rich-text runs and phonetic blocks.
func TestSST(t *testing.T) {
	strs := []sstString{
		{s: "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"},
		{s: "東京都千代田区霞が関一丁目", ext: bytes.Repeat([]byte{0xAA}, 37)},
		{s: "ASCII first, then 日本語のテキスト", runs: 3},
		{s: "日本語の後に ASCII text that goes on for a while"},
		{s: ""},
		{s: "振り仮名付き", runs: 2, ext: []byte{1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 'f', 'u', 'r', 'i'}},
		{s: "é à ü Latin-1 only"},
		{s: "last"},
	}
	for size := 20; size <= 60; size++ {
		stream := book{tail: [][]byte{sstRecords(strs, uint32(len(strs)), size)}}.bytes()
		left := 1000
		w, err := readGlobals(context.Background(), &cursor{b: stream, left: &left}, Limits{}.withDefaults())
		if err != nil {
			t.Fatalf("records of %d bytes: %v", size, err)
		}
		if len(w.sst) != len(strs) {
			t.Fatalf("records of %d bytes: %d strings, want %d", size, len(w.sst), len(strs))
		}
		for i, s := range strs {
			if w.sst[i] != s.s {
				t.Errorf("records of %d bytes: string %d = %q, want %q", size, i, w.sst[i], s.s)
			}
		}
	}
}

func TestSSTDeclaredCount(t *testing.T) {
	strs := []sstString{{s: "one"}, {s: "two"}}
	tests := []struct {
		name     string
		declared uint32
		want     string
		err      bool
	}{
		// fewer strings than declared: kept as far as they go
		{"more declared", 5, "one\ttwo\n", false},
		// more strings than declared: the rest is ignored
		{"fewer declared", 1, "one\n", false},
		// a declared count past the limit is refused before any work
		{"past the limit", 1 << 30, "", true},
	}
	for _, tc := range tests {
		stream := book{tail: [][]byte{sstRecords(strs, tc.declared, 8224)},
			sheets: []bsheet{{name: "S", body: [][]byte{labelSST(0, 0, 0, 0), labelSST(0, 1, 0, 1), labelSST(0, 2, 0, 7)}}}}.bytes()
		res, err := extract(context.Background(), stream, Limits{MaxStrings: 1000}.withDefaults(), nil)
		if tc.err {
			if err == nil {
				t.Errorf("%s: no error", tc.name)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := strings.TrimPrefix(strings.ReplaceAll(res.text.String(), "\r\n", "\n"), "## S\n"); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestMalformedSST(t *testing.T) {
	tests := []struct {
		name string
		sst  []byte
	}{
		{"characters past the end", rec(recSST, u32(1), u32(1), u16(10), []byte{0}, []byte("abc"))},
		{"phonetic block past the end", rec(recSST, u32(1), u32(1), u16(1), []byte{0x04}, u32(1000), []byte("a"))},
		{"runs past the end", rec(recSST, u32(1), u32(1), u16(1), []byte{0x08}, u16(1000), []byte("a"))},
		{"UTF-16 character split across records", cat(rec(recSST, u32(1), u32(1), u16(2), []byte{1}, []byte{0x42, 0x30, 0x44}),
			rec(recContinue, []byte{1, 0x30, 0x30}))},
		{"header only", rec(recSST, u32(1))},
	}
	for _, tc := range tests {
		stream := book{tail: [][]byte{tc.sst}}.bytes()
		if _, err := extract(context.Background(), stream, Limits{}.withDefaults(), nil); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestNotOLE(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		want error
	}{
		{"not a compound file", []byte("PK\x03\x04 not ole at all, padded to be long enough for a header"), nil},
		{"no workbook stream", buildCFB(t, cfbEntry{"WordDocument", []byte("x"), -1}), errNoStream},
		{"workbook only inside a storage", buildCFB(t, cfbEntry{name: "MBD0001", parent: -1},
			cfbEntry{"Workbook", book{}.bytes(), 0}), errNoStream},
		{"BIFF2 stream", xlsFile(t, rec(0x0009, u16(2), u16(0x10))), errNotBIFF},
		{"encrypted", xlsFile(t, book{head: [][]byte{rec(recFilePass, u16(1), make([]byte, 52))}}.bytes()), ErrEncrypted},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		_, err := (&Extractor{}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(tc.file), &out)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
		if out.Len() != 0 {
			t.Errorf("%s: wrote %d bytes", tc.name, out.Len())
		}
	}
}

// TestOnlyRootWorkbook: an embedded workbook (an OLE object's storage)
// and a VBA project next to the workbook are never read.
func TestOnlyRootWorkbook(t *testing.T) {
	inner := book{sheets: []bsheet{{name: "Embedded", body: [][]byte{label(0, 0, "EMBEDDED SECRET")}}}}.bytes()
	outer := book{sheets: []bsheet{{name: "Main", body: [][]byte{label(0, 0, "visible")}}}}.bytes()
	file := xlsFile(t, outer,
		cfbEntry{name: "MBD00000001", parent: -1},
		cfbEntry{"Workbook", inner, 1},
		cfbEntry{name: "_VBA_PROJECT_CUR", parent: -1},
		cfbEntry{"VBA", []byte("Attribute VB_Name = \"Module1\"\nSub AutoOpen()\nShell \"calc\"\nEnd Sub"), 3},
	)
	got, _ := sanitize(t, file)
	if got != "## Main\nvisible\n" {
		t.Errorf("got %q", got)
	}
}

func TestBudget(t *testing.T) {
	stream := book{sheets: []bsheet{{name: "S", body: [][]byte{label(0, 0, strings.Repeat("x", 200))}}}}.bytes()
	file := xlsFile(t, stream)
	b := format.NewBudget(1000, nil) // less than the stream (padded to 4096)
	_, err := (&Extractor{}).Sanitize(context.Background(), format.Part{Budget: b}, bytes.NewReader(file), &bytes.Buffer{})
	if !errors.Is(err, format.ErrBudget) {
		t.Errorf("error %v, want ErrBudget", err)
	}
	b = format.NewBudget(4096+1000, nil) // the stream, but not the text's first step
	_, err = (&Extractor{}).Sanitize(context.Background(), format.Part{Budget: b}, bytes.NewReader(file), &bytes.Buffer{})
	if !errors.Is(err, format.ErrBudget) {
		t.Errorf("error %v, want ErrBudget", err)
	}
	b = format.NewBudget(1<<20, nil)
	if _, err = (&Extractor{}).Sanitize(context.Background(), format.Part{Budget: b}, bytes.NewReader(file), &bytes.Buffer{}); err != nil {
		t.Errorf("with budget to spare: %v", err)
	}
	if b.Used() < 4096 {
		t.Errorf("budget used %d, want the stream and the text", b.Used())
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stream := book{sheets: []bsheet{{name: "S", body: [][]byte{label(0, 0, "x")}}}}.bytes()
	_, err := (&Extractor{}).Sanitize(ctx, format.Part{}, bytes.NewReader(xlsFile(t, stream)), &bytes.Buffer{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestInputLimit(t *testing.T) {
	file := xlsFile(t, book{}.bytes())
	_, err := (&Extractor{Limits: Limits{MaxInput: 1000}}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(file), &bytes.Buffer{})
	if err == nil {
		t.Error("no error for a file past MaxInput")
	}
}
