package jpdoc

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"mugai/sanitize/format"
	"mugai/sanitize/jpdoc/jptest"
)

func extract(t *testing.T, b []byte) (string, format.Verdict, error) {
	t.Helper()
	var out bytes.Buffer
	v, err := Extractor{}.Sanitize(context.Background(), format.Part{Filename: "通知.jtd"}, bytes.NewReader(b), &out)
	return out.String(), v, err
}

func TestIchitaroText(t *testing.T) {
	cat := func(parts ...[]uint16) []uint16 { return slices.Concat(parts...) }
	u := jptest.Units
	tests := []struct {
		name  string
		units []uint16
		want  string
	}{
		// Plain paragraphs, as a 一太郎 2016 file holds them.
		{"paragraphs", u("令和7年度 予算説明会\n\n会場：市民会館\n"), "令和7年度 予算説明会\r\n\r\n会場：市民会館\r\n"},
		// Records are skipped whole, whatever their payload holds.
		{"paragraph header", cat(jptest.Record(0x10, 0, 0x24, 1, 1, 0xFFFF, 0), u("中央揃え\n")), "中央揃え\r\n"},
		{"record payload looks like text", cat(jptest.Record(0x30, 'A', 'B', 'C'), u("表\x0e")), "表\r\n"},
		// Inline records: visible text, ruby in parentheses, instructions hidden.
		{"inline text", cat(u("第"), jptest.Inline(0, 3, "一"), u("条\n")), "第一条\r\n"},
		{"ruby", cat(jptest.Inline(0, 3, "斎藤"), jptest.Inline(1, 0x82, "さいとう"), u("様\n")), "斎藤（さいとう）様\r\n"},
		{"template instruction", cat(jptest.Inline(1, 0, "ここに氏名を入力"), u("氏名\n")), "氏名\r\n"},
		// Controls: tab kept, other controls dropped, surrogate pairs joined.
		{"controls", u("a\tb\x00\x1fc\x0cd 𠮷\n"), "a\tbc\r\nd 𠮷\r\n"},
	}
	for _, tc := range tests {
		got, v, err := extract(t, jptest.Ichitaro(tc.units))
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
			continue
		}
		if v.Filename != "通知.txt" || v.Type != "text/plain; charset=utf-8" || len(v.Notes) != 1 || v.Notes[0].JA == "" || v.Notes[0].EN == "" {
			t.Errorf("%s: verdict %+v", tc.name, v)
		}
	}
}

func TestIchitaroPieces(t *testing.T) {
	doc := jptest.CFB(jptest.IchitaroClass,
		jptest.Entry{Path: "DocumentText", Data: jptest.Pieces(jptest.Units("前半の"), jptest.Units("後半\n"))})
	if got, _, err := extract(t, doc); err != nil || got != "前半の後半\r\n" {
		t.Errorf("pieces: %q, %v", got, err)
	}
}

// TestNotReadable: what is not a 一太郎 8+ document of the known structure
// fails, with ErrNotReadable where it is a 一太郎 file.
func TestNotReadable(t *testing.T) {
	good := jptest.DocumentText(jptest.Units("本文"))
	truncated := slices.Clone(good)
	truncated = truncated[:len(truncated)-8]
	lying := slices.Clone(good)
	copy(lying[20+8:], []byte{0, 0, 0x10, 0}) // claims 4096 units in a 256-byte block
	tests := []struct {
		name string
		data []byte
	}{
		{"一太郎 7 class", jptest.CFB("{78597000-1D84-11CF-9713-0020AFD806F4}", jptest.Entry{Path: "DocumentText", Data: good})},
		{"no DocumentText", jptest.CFB(jptest.IchitaroClass, jptest.Entry{Path: "Font", Data: []byte("FontV.01")})},
		{"not a block store", jptest.CFB(jptest.IchitaroClass, jptest.Entry{Path: "DocumentText", Data: []byte("TextV.01\x00\x00\x00\x01\x00A")})},
		{"truncated directory", jptest.CFB(jptest.IchitaroClass, jptest.Entry{Path: "DocumentText", Data: truncated})},
		{"unit count beyond the text", jptest.CFB(jptest.IchitaroClass, jptest.Entry{Path: "DocumentText", Data: lying})},
	}
	for _, tc := range tests {
		if got, _, err := extract(t, tc.data); !errors.Is(err, ErrNotReadable) || got != "" {
			t.Errorf("%s: %q, %v", tc.name, got, err)
		}
	}
	if _, _, err := extract(t, []byte("JwwData.")); err == nil {
		t.Error("a JW-CAD file was read as 一太郎")
	}
}

func FuzzIchitaroText(f *testing.F) {
	f.Add(jptest.DocumentText(jptest.Units("本文\n")))
	f.Add(jptest.Pieces(jptest.Units("a"), jptest.Units("b")))
	f.Add(jptest.DocumentText(slices.Concat(jptest.Record(0x10, 1, 2), jptest.Inline(1, 0x82, "よみ"))))
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := textUnits(b)
		if err != nil {
			return
		}
		if len(u) > maxUnits {
			t.Fatalf("%d units", len(u))
		}
		render(u)
	})
}
