package text

import (
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

func mustEncode(t testing.TB, enc encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return b
}

// TestCharsets: every charset the issue names decodes cleanly under each of
// its labels.
func TestCharsets(t *testing.T) {
	const jp = "会議のお知らせ：第３会議室、カタカナ、ｶﾀｶﾅ、①㈱㌔髙﨑"
	tests := []struct {
		labels []string
		enc    encoding.Encoding
		text   string
	}{
		// Japanese, with CP932 (NEC/IBM) extensions
		{[]string{"Shift_JIS", "sjis", "x-sjis", "cp932", "ms932", "windows-31j", "SHIFT-JIS"}, japanese.ShiftJIS, jp},
		{[]string{"ISO-2022-JP", "iso-2022-jp-ms", "ISO-2022-JP-2", "iso-2022-jp-3", "cp50220"}, japanese.ISO2022JP, jp},
		{[]string{"EUC-JP", "x-euc-jp"}, japanese.EUCJP, "会議のお知らせ：第３会議室、カタカナ"},
		// Unicode
		{[]string{"utf-16"}, unicode.UTF16(unicode.BigEndian, unicode.UseBOM), jp},
		{[]string{"utf-16"}, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), jp},
		{[]string{"utf-16le"}, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), jp},
		// Western and Cyrillic
		{[]string{"iso-8859-1", "latin1"}, charmap.ISO8859_1, "Café déjà vu"},
		{[]string{"iso-8859-15"}, charmap.ISO8859_15, "Prix : 10 €"},
		{[]string{"windows-1252"}, charmap.Windows1252, "“quotes” — dash"},
		{[]string{"windows-1251", "koi8-r"}, nil, "Привет"},
		// Chinese and Korean
		{[]string{"gb2312", "gbk"}, simplifiedchinese.GBK, "会议通知"},
		{[]string{"gb18030"}, simplifiedchinese.GB18030, "会议通知"},
		{[]string{"big5"}, traditionalchinese.Big5, "會議通知"},
		{[]string{"euc-kr", "ks_c_5601-1987"}, korean.EUCKR, "회의 안내"},
	}
	for _, tc := range tests {
		for _, label := range tc.labels {
			enc := tc.enc
			if enc == nil {
				enc, _ = lookupCharset(label)
			}
			b := mustEncode(t, enc, tc.text)
			got, res, _ := Decode(b, label)
			if got != tc.text || res != DecodedClean {
				t.Errorf("%s: got %q (result %d), want %q", label, got, res, tc.text)
			}
		}
	}
}

func TestISO2022JPEscapes(t *testing.T) {
	// half-width katakana by ESC ( I, and NEC row 13 (①) inside ESC $ B
	got, res, _ := Decode([]byte("\x1b$B-!\x1b(B \x1b(I12\x1b(B ok"), "iso-2022-jp")
	if got != "① ｱｲ ok" || res != DecodedClean {
		t.Errorf("got %q (%d)", got, res)
	}
}

func TestUTF7(t *testing.T) {
	tests := []struct{ in, want string }{
		// RFC 2152 examples
		{"Hi Mom -+Jjo--!", "Hi Mom -☺-!"},
		{"+ZeVnLIqe-", "日本語"},
		{"A+ImIDkQ.", "A≢Α."},
		{"1 +- 1 = 2", "1 + 1 = 2"},
	}
	for _, tc := range tests {
		got, res, _ := Decode([]byte(tc.in), "utf-7")
		if got != tc.want || res != DecodedClean {
			t.Errorf("utf-7 %q = %q (%d), want %q", tc.in, got, res, tc.want)
		}
	}
	if _, err := decodeUTF7([]byte("+ZeV")); err == nil { // leftover non-zero bits
		t.Error("truncated UTF-7 accepted")
	}
}

// TestMislabelled: the bytes win over the label, and the decision says so.
func TestMislabelled(t *testing.T) {
	const jp = "本日の会議資料をお送りします。よろしくお願いいたします。"
	sjis := mustEncode(t, japanese.ShiftJIS, jp)
	euc := mustEncode(t, japanese.EUCJP, jp)
	jis := mustEncode(t, japanese.ISO2022JP, jp)
	tests := []struct {
		name     string
		b        []byte
		declared string
		want     Decoding
		used     string
	}{
		// wrong labels
		{"iso-2022-jp label, Shift_JIS bytes", sjis, "iso-2022-jp", DecodedMislabelled, "shift_jis"},
		{"shift_jis label, EUC-JP bytes", euc, "shift_jis", DecodedMislabelled, "euc-jp"},
		{"euc-jp label, Shift_JIS bytes", sjis, "euc-jp", DecodedMislabelled, "shift_jis"},
		{"us-ascii label, UTF-8 bytes", []byte(jp), "us-ascii", DecodedMislabelled, "utf-8"},
		{"latin-1 label, Shift_JIS bytes", sjis, "iso-8859-1", DecodedMislabelled, "shift_jis"},
		{"latin-1 label, UTF-8 bytes", []byte(jp), "iso-8859-1", DecodedMislabelled, "utf-8"},
		// no label, or an unknown one
		{"no label, Shift_JIS", sjis, "", DecodedGuessed, "shift_jis"},
		{"no label, EUC-JP", euc, "", DecodedGuessed, "euc-jp"},
		{"no label, ISO-2022-JP", jis, "", DecodedGuessed, "iso-2022-jp"},
		{"unknown label, Shift_JIS", sjis, "x-unknown", DecodedGuessed, "shift_jis"},
		// right labels stay clean
		{"shift_jis label, Shift_JIS", sjis, "shift_jis", DecodedClean, "shift_jis"},
		{"cp932 label, Shift_JIS", sjis, "cp932", DecodedClean, "cp932"},
		{"utf-8 label, UTF-8", []byte(jp), "utf-8", DecodedClean, "utf-8"},
	}
	for _, tc := range tests {
		got, res, used := Decode(tc.b, tc.declared)
		if got != jp || res != tc.want || used != tc.used {
			t.Errorf("%s: got %q, result %d via %s; want result %d via %s", tc.name, got, res, used, tc.want, tc.used)
		}
	}
	// A correct label is not overruled on thin evidence.
	for _, tc := range []struct{ name, b, want string }{
		{"half-width kana only", "\xba\xde\xd8\xd6\xb3\xb1\xd8\xb6\xde\xc4\xb3", "ｺﾞﾘﾖｳｱﾘｶﾞﾄｳ"},
		{"bytes that happen to be UTF-8", "?\xed\x95\xb2X", "?﨑ｲX"},
	} {
		if got, res, _ := Decode([]byte(tc.b), "shift_jis"); got != tc.want || res != DecodedClean {
			t.Errorf("%s: got %q (%d), want %q", tc.name, got, res, tc.want)
		}
	}
}

// TestUndecodable: what does not decode is dropped, never shown as U+FFFD.
func TestUndecodable(t *testing.T) {
	b := append(mustEncode(t, japanese.ShiftJIS, "前半"), 0x81, 0x20) // 0x81 0x20: bad trail byte
	b = append(b, mustEncode(t, japanese.ShiftJIS, "後半")...)
	got, res, _ := Decode(b, "shift_jis")
	if strings.ContainsRune(got, utf8.RuneError) || !strings.Contains(got, "前半") || !strings.Contains(got, "後半") || res != DecodedLossy {
		t.Errorf("got %q (%d)", got, res)
	}
}

// TestRoundTripProperty: for random valid text in each supported charset,
// decoding gives back exactly the characters that were encoded, with no
// U+FFFD.
func TestRoundTripProperty(t *testing.T) {
	alphabet := []rune("あいうえおかがきぎアイウエオヴー漢字会議資料髙﨑①㈱ｱｲｳﾞ、。「」ＡＢ１２ abcXYZ019.,!?-\n")
	charsets := []struct {
		name string
		enc  encoding.Encoding
	}{
		{"shift_jis", japanese.ShiftJIS}, {"iso-2022-jp", japanese.ISO2022JP}, {"utf-8", nil},
		{"utf-16", unicode.UTF16(unicode.BigEndian, unicode.UseBOM)},
	}
	eucAlphabet := []rune("あいうえおかがきぎアイウエオヴー漢字会議資料、。「」ＡＢ１２ abcXYZ019.,!?-\n")
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		for _, c := range charsets {
			name, enc := c.name, c.enc
			s := randomText(rng, alphabet)
			var b []byte
			if enc == nil {
				b = []byte(s)
			} else {
				b = mustEncode(t, enc, s)
			}
			if got, _, _ := Decode(b, name); got != s {
				t.Fatalf("%s: %q → %q", name, s, got)
			}
		}
		s := randomText(rng, eucAlphabet)
		if got, _, _ := Decode(mustEncode(t, japanese.EUCJP, s), "euc-jp"); got != s {
			t.Fatalf("euc-jp: %q → %q", s, got)
		}
	}
}

func randomText(rng *rand.Rand, alphabet []rune) string {
	n := 1 + rng.IntN(40)
	r := make([]rune, n)
	for i := range r {
		r[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(r)
}

// TestDecodeHeader covers the header forms Japanese mail uses.
func TestDecodeHeader(t *testing.T) {
	jis := mustEncode(t, japanese.ISO2022JP, "会議")
	// Split inside the first character: ESC $ B + one byte | one byte + rest.
	split := "=?ISO-2022-JP?B?" + base64.StdEncoding.EncodeToString(jis[:4]) + "?= =?ISO-2022-JP?B?" + base64.StdEncoding.EncodeToString(jis[4:]) + "?="
	utf8Split := "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte("会議")[:2]) + "?=\r\n =?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte("会議")[2:]) + "?="
	sjisRaw := string(mustEncode(t, japanese.ShiftJIS, "見積書の送付"))
	tests := []struct{ in, want string }{
		{split, "会議"},
		{utf8Split, "会議"},
		{"=?iso-2022-jp?Q?=1B$B2q5D=1B(B?=", "会議"},
		{"=?UTF-8?Q?caf=C3=A9_au_lait?=", "café au lait"},
		{"Re: =?UTF-8?B?5Lya6K2w?= =?ISO-2022-JP?B?GyRCO3FOQRsoQg==?= end", "Re: 会議資料 end"},
		{`"=?ISO-2022-JP?B?GyRCOzNFRBsoQg==?=" <a@example.jp>`, `"山田" <a@example.jp>`},
		{"=?UTF-8?B?5Lya6K2w?=<a@example.jp>", "会議<a@example.jp>"},
		{sjisRaw, "見積書の送付"},
		{"生のUTF-8件名", "生のUTF-8件名"},
		{"=?x-unknown?B?5Lya?= ok", "会 ok"},                    // unknown label, but the bytes are UTF-8
		{"=?x-unknown?B?//8=?= ok", "=?x-unknown?B?//8=?= ok"}, // nothing fits: left as written
		{"=?UTF-8?B?!!!?=", "=?UTF-8?B?!!!?="},
		{"a\r\n\tb\x00c\u202ed", "a bcd"},
	}
	for _, tc := range tests {
		if got := DecodeHeader(tc.in); got != tc.want {
			t.Errorf("DecodeHeader(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAddressNames(t *testing.T) {
	jis := mustEncode(t, japanese.ISO2022JP, "山田太郎")
	split := "=?ISO-2022-JP?B?" + base64.StdEncoding.EncodeToString(jis[:5]) + "?= =?ISO-2022-JP?B?" + base64.StdEncoding.EncodeToString(jis[5:]) + "?="
	tests := []struct{ in, want string }{
		{split + " <yamada@example.jp>", "山田太郎 <yamada@example.jp>"},
		{`"=?ISO-2022-JP?B?GyRCOzNFRBsoQg==?=" <a@example.jp>, b@example.jp`, "山田 <a@example.jp>|<b@example.jp>"},
		{string(mustEncode(t, japanese.ShiftJIS, "佐藤")) + " <sato@example.jp>", "佐藤 <sato@example.jp>"},
		{"good <g@example.jp>, bad <<>>, other@example.jp", "good <g@example.jp>|<other@example.jp>"},
	}
	for _, tc := range tests {
		list, _ := ParseAddressList(tc.in)
		var got []string
		for _, a := range list {
			s := "<" + a.Address + ">"
			if a.Name != "" {
				s = a.Name + " " + s
			}
			got = append(got, s)
		}
		if strings.Join(got, "|") != tc.want {
			t.Errorf("ParseAddressList(%q) = %q, want %q", tc.in, strings.Join(got, "|"), tc.want)
		}
	}
}

// TestFilenameParams: every way Japanese mailers write a filename.
func TestFilenameParams(t *testing.T) {
	const name = "見積書（第2版）.pdf"
	pct := func(b []byte) string {
		var s strings.Builder
		for _, c := range b {
			s.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		}
		return s.String()
	}
	sj := mustEncode(t, japanese.ShiftJIS, name)
	jis := mustEncode(t, japanese.ISO2022JP, name)
	u := []byte(name)
	tests := []struct{ desc, in string }{
		{"RFC 2231 utf-8", "attachment; filename*=UTF-8''" + pct(u)},
		{"RFC 2231 shift_jis", "attachment; filename*=shift_jis''" + pct(sj)},
		{"RFC 2231 iso-2022-jp with language", "attachment; filename*=iso-2022-jp'ja'" + pct(jis)},
		{"continuations", "attachment; filename*0*=UTF-8''" + pct(u[:7]) + "; filename*1*=" + pct(u[7:14]) + "; filename*2*=" + pct(u[14:])},
		{"continuations out of order", "attachment; filename*2*=" + pct(u[14:]) + "; filename*0*=UTF-8''" + pct(u[:7]) + "; filename*1*=" + pct(u[7:14])},
		{"continuation mixing plain", "attachment; filename*0*=UTF-8''" + pct(u[:len(u)-4]) + "; filename*1=\".pdf\""},
		{"RFC 2047 in quotes", `attachment; filename="=?ISO-2022-JP?B?` + base64.StdEncoding.EncodeToString(jis) + `?="`},
		{"raw Shift_JIS", "attachment; filename=\"" + string(sj) + "\""},
		{"raw UTF-8 unquoted", "attachment; filename=" + name},
		{"2231 wins over plain", "attachment; filename=\"old.pdf\"; filename*=UTF-8''" + pct(u)},
	}
	for _, tc := range tests {
		if got := ParseParams(tc.in).Map["filename"]; got != name {
			t.Errorf("%s: filename = %q, want %q", tc.desc, got, name)
		}
	}
	p := ParseParams(`multipart/mixed; boundary="a;b"; BOUNDARY=c`)
	if p.Value != "multipart/mixed" || len(p.Dups) != 1 || p.Dups[0] != "boundary" {
		t.Errorf("dups = %+v", p)
	}
}
