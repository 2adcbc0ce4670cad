package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzDecodeHeader(f *testing.F) {
	for _, s := range []string{"=?ISO-2022-JP?B?GyRCMnE1RBsoQg==?=", "=?utf-8?q?a_b?= =?utf-8?q?c?=", "\x82\xa0", "\"=?UTF-8?B?5Lya?=\" <a@b.jp>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := DecodeHeader(in)
		if !utf8.ValidString(out) || strings.ContainsAny(out, "\r\n\x00") {
			t.Fatalf("DecodeHeader(%q) = %q", in, out)
		}
		ParseAddressList(in)
	})
}

func FuzzParseParams(f *testing.F) {
	for _, s := range []string{`attachment; filename*0*=utf-8''%E4%BC; filename*1*=%9A`, `text/plain; charset="a;b"`, `x; a*=''; b*5=`, `"unterminated`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p := ParseParams(in)
		for k, v := range p.Map {
			if !utf8.ValidString(v) || strings.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("param %q = %q", k, v)
			}
		}
	})
}
