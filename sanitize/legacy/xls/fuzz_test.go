package xls

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"mugai/sanitize/format"
)

// seedStreams are workbook streams covering every record kind read.
func seedStreams() [][]byte {
	sst := sstRecords([]sstString{{s: "共有文字列"}, {s: "rich", runs: 2, ext: []byte{1, 2, 3, 4}},
		{s: "a long string that crosses into a CONTINUE record: 日本語"}}, 3, 30)
	body := [][]byte{labelSST(0, 0, 0, 0), labelSST(0, 1, 0, 2), label(1, 0, "ラベル"), number(1, 1, 1, 46356),
		rkRec(1, 2, 2, rkInt(12, true)), rec(recMulRK, u16(2), u16(0), u16(0), u32(rkInt(1, false)), u16(0), u32(rkFloat(0.5, false)), u16(1)),
		formulaRec(3, 0, 0, special(0, 0), []byte{0x17, 1, 0, 'x'}), rec(recString, ustr("結果", 2)),
		formulaRec(3, 1, 0, special(1, 1), nil), formulaRec(3, 2, 0, special(2, 7), nil), formulaRec(3, 3, 2, f64(0.25), nil),
		rec(recBoolErr, cellHead(4, 0, 0), []byte{1, 0}), rec(recBlank, cellHead(4, 1, 0)),
		bof(biff8, 0x0020), label(0, 0, "chart"), eof()}
	b8 := book{head: [][]byte{rec(recCodePage, u16(1200)), rec(recDateMode, u16(0)), xf(0), numFormat(164, `[$-411]ggge"年"m"月"d"日"`), xf(164), xf(10)},
		tail: [][]byte{sst},
		sheets: []bsheet{{name: "一", body: body}, {name: "隠", hidden: 1, body: body[:3]},
			{name: "M", kind: sheetMacro, bofDT: 0x40, body: body[:1]}}}
	b5 := book{vers: biff5, head: [][]byte{rec(recCodePage, u16(932)), xf(0)},
		sheets: []bsheet{{name: "Sheet1", body: [][]byte{rec(recLabel, cellHead(0, 0, 0), u16(2), []byte{0x93, 0xfa})}}}}
	return [][]byte{b8.bytes(), b5.bytes()}
}

// check is what must hold for any input: no panic, and when it succeeds,
// UTF-8 text with CRLF line ends, within the output limit.
func check(t *testing.T, out []byte, err error, lim Limits) {
	if err != nil {
		return
	}
	if !utf8.Valid(out) {
		t.Fatalf("output is not UTF-8: %q", out)
	}
	if strings.Contains(strings.ReplaceAll(string(out), "\r\n", ""), "\n") || strings.Contains(strings.ReplaceAll(string(out), "\r\n", ""), "\r") {
		t.Fatalf("a bare line break in the output: %q", out)
	}
	if int64(len(out)) > lim.MaxOutput {
		t.Fatalf("%d bytes written, limit %d", len(out), lim.MaxOutput)
	}
}

// FuzzExtract feeds workbook streams to the BIFF reader.
func FuzzExtract(f *testing.F) {
	for _, s := range seedStreams() {
		f.Add(s)
	}
	lim := Limits{MaxRecords: 100_000, MaxCells: 10_000, MaxStrings: 100_000, MaxOutput: 1 << 20}.withDefaults()
	f.Fuzz(func(t *testing.T, stream []byte) {
		res, err := extract(context.Background(), stream, lim, format.NewBudget(8<<20, nil))
		var out []byte
		if err == nil {
			out = res.text.Bytes()
			_ = res.notes()
		}
		check(t, out, err, lim)
	})
}

// FuzzSanitize feeds whole files (compound files) to the Extractor.
func FuzzSanitize(f *testing.F) {
	for _, s := range seedStreams() {
		f.Add(buildCFB(f, []cfbEntry{{"Workbook", s, -1}}...))
	}
	files, _ := filepath.Glob("testdata/*.xls")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	e := &Extractor{Limits: Limits{MaxInput: 1 << 20, MaxRecords: 100_000, MaxCells: 10_000, MaxOutput: 1 << 20}}
	f.Fuzz(func(t *testing.T, file []byte) {
		var out bytes.Buffer
		_, err := e.Sanitize(context.Background(), format.Part{Budget: format.NewBudget(8<<20, nil)}, bytes.NewReader(file), &out)
		check(t, out.Bytes(), err, e.Limits.withDefaults())
	})
}
