package text

import (
	"encoding/base64"
	"strings"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/unicode/norm"
)

// EncodeJIS encodes s as ISO-2022-JP for legacy clients. Half-width katakana
// are first folded to full width (ISO-2022-JP proper has no ESC ( I). ok is
// false when s holds a character ISO-2022-JP cannot represent; the caller
// then writes UTF-8.
func EncodeJIS(s string) ([]byte, bool) {
	s = foldHalfwidthKana(s)
	out, err := japanese.ISO2022JP.NewEncoder().String(s)
	if err != nil || strings.Contains(out, "\x1b(I") {
		return nil, false
	}
	return []byte(out), true
}

// foldHalfwidthKana applies NFKC to runs of half-width katakana only, so
// that ｶﾞ becomes ガ while everything else stays exactly as written.
func foldHalfwidthKana(s string) string {
	if !strings.ContainsFunc(s, isHalfwidthKana) {
		return s
	}
	var b strings.Builder
	start := -1
	for i, r := range s {
		switch {
		case isHalfwidthKana(r) && start < 0:
			start = i
		case !isHalfwidthKana(r) && start >= 0:
			b.WriteString(norm.NFKC.String(s[start:i]))
			start = -1
			b.WriteRune(r)
		case start < 0:
			b.WriteRune(r)
		}
	}
	if start >= 0 {
		b.WriteString(norm.NFKC.String(s[start:]))
	}
	return b.String()
}

func isHalfwidthKana(r rune) bool { return r >= 0xFF61 && r <= 0xFF9F }

// EncodeJISWords writes s as ISO-2022-JP B words, each one self-contained
// (ending in ESC ( B) and at most 75 characters long.
func EncodeJISWords(s string) string {
	s = foldHalfwidthKana(s)
	const max = 75 - len("=?ISO-2022-JP?B??=")
	var words []string
	runes := []rune(s)
	for len(runes) > 0 {
		n := len(runes)
		for ; n > 1; n-- {
			if enc, ok := EncodeJIS(string(runes[:n])); ok && base64.StdEncoding.EncodedLen(len(enc)) <= max {
				break
			}
		}
		enc, _ := EncodeJIS(string(runes[:n]))
		words = append(words, "=?ISO-2022-JP?B?"+base64.StdEncoding.EncodeToString(enc)+"?=")
		runes = runes[n:]
	}
	return strings.Join(words, " ")
}
