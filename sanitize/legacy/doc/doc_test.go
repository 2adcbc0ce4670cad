package doc

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"mugai/sanitize/format"
	"mugai/sanitize/legacy/internal/ole"
)

func extract(t *testing.T, data []byte) (string, format.Verdict, error) {
	t.Helper()
	var out bytes.Buffer
	v, err := (&Extractor{}).Sanitize(context.Background(), format.Part{Filename: "報告書.doc"}, bytes.NewReader(data), &out)
	return out.String(), v, err
}

// sample is a document with a compressed and a UTF-16 piece, a table,
// fields (a hyperlink, a DDE field, nested fields) and anchors.
var sample = testDoc{pieces: []testPiece{
	{"Hello “world” … café\r", true},
	{"日本語の本文です。\x01\x08\r", false},
	{"氏名\a住所\a" + string(rowMark) + "山田\a東京都\a" + string(rowMark), false},
	{"See \x13 HYPERLINK \"http://evil.example/\" \x14the site\x15.\r", true},
	{"\x13DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe \"/k calc\"\x15after dde\r", true},
	{"date: \x13 IF \x13 DATE \x14 2024\x15 = 1 \"yes\" \x14結果\x15 end\vnext line\x0cpage 2\r", false},
}}

func TestExtract(t *testing.T) {
	got, v, err := extract(t, sample.build())
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"Hello “world” … café",
		"日本語の本文です。",
		"氏名\t住所",
		"山田\t東京都",
		"See the site.",
		"after dde",
		"date: 結果 end",
		"next line",
		"page 2",
	}, "\r\n") + "\r\n"
	if got != want {
		t.Errorf("text:\n%q\nwant\n%q", got, want)
	}
	for _, bad := range []string{"DDE", "cmd.exe", "HYPERLINK", "evil", "DATE", "2024", "\x01", "\x08"} {
		if strings.Contains(got, bad) {
			t.Errorf("field code or anchor %q came through", bad)
		}
	}
	if v.Type != "text/plain; charset=utf-8" || v.Filename != "報告書.txt" || len(v.Notes) != 1 || v.Notes[0].JA == "" || v.Notes[0].EN == "" {
		t.Errorf("verdict %+v", v)
	}
}

func TestStories(t *testing.T) {
	d := testDoc{pieces: []testPiece{{"Main text\rFootnote one\rHeader text\r", true}}}
	d.ccp = [8]uint32{storyMain: 10, storyFootnote: 13, storyHeader: 12}
	got, _, err := extract(t, d.build())
	if err != nil {
		t.Fatal(err)
	}
	want := "Main text\r\n\r\n--- ヘッダーとフッター / headers and footers ---\r\nHeader text\r\n\r\n--- 脚注 / footnotes ---\r\nFootnote one\r\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestTable0AndCut(t *testing.T) {
	d := testDoc{table0: true, pieces: []testPiece{{"0123456789\r", true}}}
	var out bytes.Buffer
	v, err := (&Extractor{MaxText: 4}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(d.build()), &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != "0123\r\n" || len(v.Notes) != 2 || !v.Notes[1].Loss || v.Filename != "document.txt" {
		t.Errorf("got %q, %+v", out.String(), v)
	}
}

func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"encrypted", testDoc{flags: fEncrypted, pieces: sample.pieces}.build(), ErrEncrypted},
		{"obfuscated", testDoc{flags: fEncrypted | fObfuscated, pieces: sample.pieces}.build(), ErrEncrypted},
		{"word 95", testDoc{nFib: 0x0065, pieces: sample.pieces}.build(), errOld},
		{"not a compound file", []byte("plain text, not OLE2"), nil},
	} {
		_, _, err := extract(t, tc.data)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestBudget(t *testing.T) {
	var out bytes.Buffer
	b := format.NewBudget(100, nil)
	_, err := (&Extractor{}).Sanitize(context.Background(), format.Part{Budget: b}, bytes.NewReader(sample.build()), &out)
	if !errors.Is(err, format.ErrBudget) {
		t.Errorf("err %v, want ErrBudget", err)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if _, err := (&Extractor{}).Sanitize(ctx, format.Part{}, bytes.NewReader(sample.build()), &out); !errors.Is(err, context.Canceled) {
		t.Errorf("err %v", err)
	}
}

// TestDeepFields: fields nested past the limit in a field's code are
// hidden with it, and do not end the outer field early.
func TestDeepFields(t *testing.T) {
	n := maxFieldNest + 6
	code := "\x13 DDEAUTO " + strings.Repeat("\x13 X ", n) + strings.Repeat("\x14res\x15", n) + " secret code \x14result\x15"
	d := testDoc{pieces: []testPiece{{"a" + code + "b\r", true}}}
	got, _, err := extract(t, d.build())
	if err != nil {
		t.Fatal(err)
	}
	if got != "aresultb\r\n" {
		t.Errorf("got %q", got)
	}
}

// TestRepeatedPieces: many pieces over the same bytes, all inside a
// field code, are bounded by maxVisits.
func TestRepeatedPieces(t *testing.T) {
	d := testDoc{pieces: []testPiece{{"\x13" + strings.Repeat("x", 1<<16), true}}}
	data := d.build()
	st, err := ole.Streams(data, nil, "WordDocument", "1Table")
	if err != nil {
		t.Fatal(err)
	}
	// Rewrite the piece table: 5,000 pieces of 65,536 characters, all at the same place.
	wd, table := st["WordDocument"], st["1Table"]
	fc := le.Uint32(table[5+1+4+8+2:]) // the one piece's FcCompressed
	var plc []byte
	const n = 5000
	for i := 0; i <= n; i++ {
		plc = le.AppendUint32(plc, uint32(i)<<16)
	}
	for i := 0; i < n; i++ {
		plc = append(le.AppendUint32(append(plc, 0, 0), fc), 0, 0)
	}
	clx := append([]byte{0x02}, le.AppendUint32(nil, uint32(len(plc)))...)
	clx = append(clx, plc...)
	le.PutUint32(wd[154+8*33+4:], uint32(len(clx)))
	le.PutUint32(wd[154+8*33:], 0)
	le.PutUint32(wd[154+8*13+4:], 0)
	le.PutUint32(wd[76:], n<<16) // ccpText
	_, err = (&Extractor{}).fromStreams(context.Background(), map[string][]byte{"WordDocument": wd, "1Table": clx})
	if !errors.Is(err, errLimit) {
		t.Errorf("err %v", err)
	}
}
