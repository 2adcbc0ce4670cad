// Package text is the text layer of the sanitizer: everything that turns
// the bytes of a mail into clean Unicode text and nothing else. It decodes
// charsets the way Japanese mail needs (labels that lie, none at all,
// CP932 and ISO-2022-JP extensions, UTF-7) without mojibake, decodes
// header fields, encoded words, addresses and MIME parameters (RFC 2047,
// RFC 2231, raw 8-bit), renders HTML, RTF, text/enriched and the body of a
// TNEF winmail.dat as text, defangs or removes links in any text, cuts out
// files written into a text (uuencode, yEnc, BinHex), and encodes text and
// header words as ISO-2022-JP for legacy clients.
//
// It knows nothing of MIME structure: package sanitize walks the message
// and hands this package one body or one header value at a time. Every
// function here is pure and safe for concurrent use; none fails on
// malformed input (what cannot be read is left out or reported).
package text

import (
	"strings"
	"unicode/utf8"
)

// DefaultMaxText is the most text one rendering may become when the caller
// sets no limit (the same figure as sanitize.DefaultLimits.MaxBodyText).
const DefaultMaxText = 8 << 20

// Limit is the most text one body may become: a few times its size
// (quote marks, list indents and defanged links make text longer), at
// least 64 KiB, at most maxText (DefaultMaxText when maxText ≤ 0).
func Limit(maxText, inputSize int) int {
	if maxText <= 0 {
		maxText = DefaultMaxText
	}
	return min(maxText, max(64<<10, 4*inputSize))
}

// Cut cuts s to at most n bytes at a rune boundary, preferring the end of
// a line in the last 1 KiB, and reports whether it cut.
func Cut(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	i := max(n, 0)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	if nl := strings.LastIndexByte(s[:i], '\n'); nl >= 0 && i-nl < 1024 {
		i = nl
	}
	return s[:i], true
}

// Normalize normalises text: LF line ends, no control characters but tab,
// no zero-width or bidi-override characters (counted: hidden), no trailing
// blank lines.
func Normalize(s string) (text string, hidden int) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case IsInvisible(r), IsBidiControl(r):
			hidden++
			return -1
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError:
			return -1
		}
		return r
	}, s)
	return strings.TrimRight(s, "\n "), hidden
}
