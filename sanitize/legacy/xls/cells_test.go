package xls

import (
	"context"
	"strings"
	"testing"
)

// rk encodes an RK value: v times 100 when x100, an integer or the high
// 30 bits of a double.
func rkInt(v int32, x100 bool) uint32 {
	r := uint32(v)<<2 | 0x02
	if x100 {
		r |= 0x01
	}
	return r
}

func rkFloat(v float64, x100 bool) uint32 {
	r := uint32(u64bits(v)>>32) &^ 0x03
	if x100 {
		r |= 0x01
	}
	return r
}

func u64bits(v float64) uint64 {
	b := f64(v)
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func rkRec(row, col, ixfe uint16, rk uint32) []byte {
	return rec(recRK, cellHead(row, col, ixfe), u32(rk))
}

// oneSheet is a workbook of one sheet "S" with the given XF formats
// (ixfe 0 is General) and body records.
func oneSheet(head, tail, body [][]byte) []byte {
	return book{head: append([][]byte{xf(0)}, head...), tail: tail, sheets: []bsheet{{name: "S", body: body}}}.bytes()
}

func TestCellRecords(t *testing.T) {
	sst := sstRecords([]sstString{{s: "共有"}, {s: "=HYPERLINK(\"http://x\")"}}, 2, 8224)
	tests := []struct {
		name string
		head [][]byte // after the General XF (ixfe 0)
		body [][]byte
		want string
	}{
		// strings
		{"LABELSST", nil, [][]byte{labelSST(0, 0, 0, 0)}, "共有"},
		{"LABELSST past the table", nil, [][]byte{labelSST(0, 0, 0, 9), label(0, 1, "b")}, "\tb"},
		{"LABEL compressed and UTF-16", nil, [][]byte{label(0, 0, "abc"), label(0, 1, "日本語")}, "abc\t日本語"},
		{"RSTRING", nil, [][]byte{rec(recRString, cellHead(0, 0, 0), ustr("rich", 2), []byte{0})}, "rich"},
		{"line breaks and tabs in a cell", nil, [][]byte{label(0, 0, "a\nb\tc\r\nd")}, "a b c  d"},
		{"formula-like string neutralised", nil, [][]byte{labelSST(0, 0, 0, 1), label(0, 1, "-1,000"), label(0, 2, "@SUM(A1)")},
			"'=HYPERLINK(\"http://x\")\t-1,000\t'@SUM(A1)"},
		// numbers
		{"NUMBER", nil, [][]byte{number(0, 0, 0, 1234.5), number(0, 1, 0, -0.25), number(0, 2, 0, 0.1+0.2)}, "1234.5\t-0.25\t0.3"},
		{"RK integer", nil, [][]byte{rkRec(0, 0, 0, rkInt(42, false)), rkRec(0, 1, 0, rkInt(-7, false))}, "42\t-7"},
		{"RK integer x100", nil, [][]byte{rkRec(0, 0, 0, rkInt(12345, true))}, "123.45"},
		{"RK float", nil, [][]byte{rkRec(0, 0, 0, rkFloat(2.5, false)), rkRec(0, 1, 0, rkFloat(-1024.75, false))}, "2.5\t-1024.75"},
		{"RK float x100", nil, [][]byte{rkRec(0, 0, 0, rkFloat(150, true))}, "1.5"},
		{"MULRK", nil, [][]byte{rec(recMulRK, u16(0), u16(1), u16(0), u32(rkInt(1, false)), u16(0), u32(rkInt(2, false)),
			u16(0), u32(rkFloat(0.5, false)), u16(3))}, "\t1\t2\t0.5"},
		// bools, errors, blanks
		{"BOOLERR", nil, [][]byte{rec(recBoolErr, cellHead(0, 0, 0), []byte{1, 0}), rec(recBoolErr, cellHead(0, 1, 0), []byte{0, 0}),
			rec(recBoolErr, cellHead(0, 2, 0), []byte{0x07, 1}), rec(recBoolErr, cellHead(0, 3, 0), []byte{0x2A, 1})},
			"TRUE\tFALSE\t#DIV/0!\t#N/A"},
		{"BLANK and MULBLANK", nil, [][]byte{rec(recBlank, cellHead(0, 0, 0)), rec(recMulBlank, u16(0), u16(1), u16(0), u16(0), u16(2)),
			label(0, 3, "x")}, "\t\t\tx"},
		// formulas: the cached result only
		{"FORMULA number", [][]byte{xf(10)}, [][]byte{formulaRec(0, 0, 1, f64(0.1234), []byte{0x1E, 1, 0})}, "12.34%"},
		{"FORMULA string through STRING", nil, [][]byte{formulaRec(0, 0, 0, special(0, 0), []byte{0x17, 3, 0, 'c', 'm', 'd'}),
			rec(0x04BC, make([]byte, 10)), rec(recString, ustr("結果", 2))}, "結果"},
		{"FORMULA string continued", nil, [][]byte{formulaRec(0, 0, 0, special(0, 0), nil),
			rec(recString, u16(6), []byte{0}, []byte("abc")), rec(recContinue, []byte{1}, u16(0x65E5), u16(0x672C), u16(0x8A9E))}, "abc日本語"},
		{"STRING without a formula", nil, [][]byte{rec(recString, ustr("stray", 2)), label(0, 0, "a")}, "a"},
		{"FORMULA bool, error, empty", nil, [][]byte{formulaRec(0, 0, 0, special(1, 1), nil), formulaRec(0, 1, 0, special(2, 0x17), nil),
			formulaRec(0, 2, 0, special(3, 0), nil), label(0, 3, "d")}, "TRUE\t#REF!\t\td"},
		{"DDE formula: only its cached value", nil, [][]byte{formulaRec(0, 0, 0, special(2, 0x2A),
			cat([]byte{0x02}, ustr("cmd", 2), ustr("/c calc", 2)))}, "#N/A"},
		// layout
		{"rows in order, columns in place", nil, [][]byte{label(5, 2, "c"), label(1, 0, "a"), label(5, 0, "b")}, "a\nb\t\tc"},
		{"same cell twice: the last", nil, [][]byte{label(0, 0, "old"), label(0, 0, "new")}, "new"},
		{"column past IV", nil, [][]byte{label(0, 256, "far"), label(0, 0, "near")}, "near"},
		{"chart inside the sheet", nil, [][]byte{label(0, 0, "a"), bof(biff8, 0x0020), label(0, 1, "CHART"), eof(), label(0, 2, "b")},
			"a\t\tb"},
	}
	for _, tc := range tests {
		stream := oneSheet(tc.head, [][]byte{sst}, tc.body)
		got := strings.TrimSuffix(strings.TrimPrefix(textOf(t, stream), "## S\n"), "\n")
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestShortCellRecord(t *testing.T) {
	for _, typ := range []uint16{recNumber, recRK, recMulRK, recLabelSST, recLabel, recBoolErr, recFormula} {
		stream := oneSheet(nil, nil, [][]byte{rec(typ, u16(0), u16(0))})
		if _, err := extract(context.Background(), stream, Limits{}.withDefaults(), nil); err == nil {
			t.Errorf("record %#04x of 4 bytes: no error", typ)
		}
	}
}

func TestSheets(t *testing.T) {
	cells := func(s string) [][]byte { return [][]byte{label(0, 0, s)} }
	b := book{
		head: [][]byte{xf(0)},
		sheets: []bsheet{
			{name: "表", body: cells("visible")},
			{name: "隠し", hidden: 1, body: cells("hidden")},
			{name: "VeryHidden", hidden: 2, body: cells("very hidden")},
			{name: "Macro1", kind: sheetMacro, bofDT: 0x0040, body: cells("=EXEC(\"calc\")")},
			{name: "Chart1", kind: sheetChart, bofDT: 0x0020, body: cells("CHART")},
			{name: "Module1", kind: sheetVBA, bofDT: 0x0006, body: cells("VBA")},
			{name: "Disguised", kind: sheetWorksheet, bofDT: 0x0040, body: cells("=HALT()")},
			{name: "Line\nbreak", body: cells("x")},
		},
	}
	res, err := extract(context.Background(), b.bytes(), Limits{}.withDefaults(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(res.text.String(), "\r\n", "\n")
	want := "## 表\nvisible\n## 隠し" + hiddenMark + "\nhidden\n## VeryHidden" + hiddenMark + "\nvery hidden\n## Line break\nx\n"
	if got != want {
		t.Errorf("text\n got %q\nwant %q", got, want)
	}
	if res.hidden != 2 || res.skipped != 4 {
		t.Errorf("hidden %d, skipped %d; want 2, 4", res.hidden, res.skipped)
	}
	notes := res.notes()
	if len(notes) != 3 || !strings.Contains(notes[1].EN, "2 hidden sheets") || !strings.Contains(notes[2].EN, "4 sheets") ||
		!strings.Contains(notes[2].JA, "4 枚") {
		t.Errorf("notes %+v", notes)
	}
}

func TestUnreadableSheet(t *testing.T) {
	b := book{head: [][]byte{xf(0), rec(recBoundSheet, u32(1<<30), []byte{0, 0}, ustr("Lost", 1))},
		sheets: []bsheet{{name: "S", body: [][]byte{label(0, 0, "x")}}}}
	res, err := extract(context.Background(), b.bytes(), Limits{}.withDefaults(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.unreadable != 1 || !strings.Contains(res.text.String(), "## S\r\nx\r\n") {
		t.Errorf("unreadable %d, text %q", res.unreadable, res.text.String())
	}
	if n := res.notes(); len(n) != 2 || !n[1].Loss {
		t.Errorf("notes %+v", n)
	}
}

func TestBIFF5(t *testing.T) {
	sjis := []byte{0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea} // 日本語 in Shift_JIS
	b := book{vers: biff5,
		head: [][]byte{rec(recCodePage, u16(932)), xf(0), rec(recFormat, u16(164), []byte{8}, []byte("yyyy/m/d")), xf(164)},
		sheets: []bsheet{{name: "Sheet1", body: [][]byte{
			rec(recLabel, cellHead(0, 0, 0), u16(uint16(len(sjis))), sjis),
			number(0, 1, 1, 45000),
			formulaRec(0, 2, 0, special(0, 0), nil), rec(recString, u16(3), []byte("abc")),
		}}},
	}
	if got := textOf(t, b.bytes()); got != "## Sheet1\n日本語\t2023/3/15\tabc\n" {
		t.Errorf("got %q", got)
	}
}

func TestDateMode1904(t *testing.T) {
	stream := oneSheet([][]byte{rec(recDateMode, u16(1)), xf(14)}, nil, [][]byte{number(0, 0, 1, 0), number(0, 1, 1, 45000)})
	if got := textOf(t, stream); got != "## S\n1904/1/1\t2027/3/16\n" {
		t.Errorf("got %q", got)
	}
}

func TestCellLimit(t *testing.T) {
	var body [][]byte
	for i := range 10 {
		body = append(body, number(uint16(i), 0, 0, float64(i)))
	}
	res, err := extract(context.Background(), oneSheet(nil, nil, body), Limits{MaxCells: 4}.withDefaults(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.text.String(); got != "## S\r\n0\r\n1\r\n2\r\n3\r\n" || res.t.dropped != 6 {
		t.Errorf("text %q, dropped %d", got, res.t.dropped)
	}
	n := res.notes()
	if last := n[len(n)-1]; !last.Loss || !strings.Contains(last.EN, "6 cells") || !strings.Contains(last.JA, "6 個") {
		t.Errorf("notes %+v", n)
	}
}

func TestOutputLimit(t *testing.T) {
	var body [][]byte
	for i := range 100 {
		body = append(body, label(uint16(i), 0, strings.Repeat("x", 50)))
	}
	res, err := extract(context.Background(), oneSheet(nil, nil, body), Limits{MaxOutput: 1000}.withDefaults(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.cut || res.text.Len() > 1000 || res.text.Len() < 900 {
		t.Errorf("cut %v, %d bytes", res.cut, res.text.Len())
	}
	if n := res.notes(); !n[len(n)-1].Loss {
		t.Errorf("notes %+v", n)
	}
}

func TestRecordLimit(t *testing.T) {
	var body [][]byte
	for i := range 100 {
		body = append(body, rec(recBlank, cellHead(uint16(i), 0, 0)))
	}
	if _, err := extract(context.Background(), oneSheet(nil, nil, body), Limits{MaxRecords: 50}.withDefaults(), nil); err == nil {
		t.Error("no error past MaxRecords")
	}
	// Sheets pointing at the same records share the one limit.
	b := book{head: [][]byte{xf(0)}}
	for range 20 {
		b.sheets = append(b.sheets, bsheet{name: "S", body: body})
	}
	stream := b.bytes()
	if _, err := extract(context.Background(), stream, Limits{MaxRecords: 1000}.withDefaults(), nil); err == nil {
		t.Error("no error past MaxRecords over several sheets")
	}
}

func TestTooManySheets(t *testing.T) {
	b := book{}
	for range 5 {
		b.sheets = append(b.sheets, bsheet{name: "S"})
	}
	if _, err := extract(context.Background(), b.bytes(), Limits{MaxSheets: 4}.withDefaults(), nil); err == nil {
		t.Error("no error past MaxSheets")
	}
}
