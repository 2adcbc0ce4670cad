package text

import (
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

var errUnknownCharset = errors.New("text: unknown charset")

// encodedWord matches an RFC 2047 encoded word. Real mailers put them
// inside quoted strings and glue them to other text, so we find them
// anywhere, not only between spaces.
var encodedWord = regexp.MustCompile(`=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]*)\?=`)

// wordRun is a run of adjacent encoded words (separated by white space
// only) in one charset, with their payload bytes joined.
type wordRun struct {
	start, end int // byte offsets of the run in the header value
	charset    string
	raw        []byte
	words      int
}

// wordRuns finds the encoded words in s and groups adjacent ones of the
// same charset. Joining bytes before decoding is what keeps a character
// split across two words (common with ISO-2022-JP and UTF-8) whole. A word
// whose payload is corrupt is left out (it stays as text).
func wordRuns(s string) []wordRun {
	var runs []wordRun
	for _, m := range encodedWord.FindAllStringSubmatchIndex(s, -1) {
		raw, ok := wordBytes(s[m[4]:m[5]], s[m[6]:m[7]])
		if !ok {
			continue
		}
		cs := s[m[2]:m[3]]
		if n := len(runs); n > 0 && strings.Trim(s[runs[n-1].end:m[0]], " \t\r\n") == "" &&
			normCharset(runs[n-1].charset) == normCharset(cs) {
			runs[n-1].raw = append(runs[n-1].raw, raw...)
			runs[n-1].end = m[1]
			runs[n-1].words++
			continue
		}
		runs = append(runs, wordRun{start: m[0], end: m[1], charset: cs, raw: raw, words: 1})
	}
	return runs
}

// decodeWords decodes the encoded words in s; white space between adjacent
// encoded words is dropped, as RFC 2047 says. A run in a charset we cannot
// read stays as it was.
func decodeWords(s string) string {
	runs := wordRuns(s)
	if runs == nil {
		return s
	}
	var out strings.Builder
	last, prevDecoded := 0, false
	for _, r := range runs {
		gap := s[last:r.start]
		text, res, _ := Decode(r.raw, r.charset)
		decoded := res != DecodedUnknown
		if !(prevDecoded && decoded && strings.Trim(gap, " \t\r\n") == "") {
			out.WriteString(gap)
		}
		if decoded {
			out.WriteString(text)
		} else {
			out.WriteString(s[r.start:r.end])
		}
		last, prevDecoded = r.end, decoded
	}
	out.WriteString(s[last:])
	return out.String()
}

// wordBytes decodes the payload of one encoded word.
func wordBytes(enc, text string) ([]byte, bool) {
	if strings.EqualFold(enc, "b") {
		b, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(text, "="))
		}
		return b, err == nil
	}
	var b []byte
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '_':
			b = append(b, ' ')
		case c == '=' && i+2 < len(text) && isHex(text[i+1]) && isHex(text[i+2]):
			b = append(b, unhex(text[i+1])<<4|unhex(text[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return b, true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// fix8bit turns a raw header value holding 8-bit bytes (no encoding at all)
// into UTF-8: as it is when valid UTF-8, else as Shift_JIS or EUC-JP when
// one of them reads cleanly, else with the invalid bytes dropped.
func fix8bit(raw string) string {
	if utf8.ValidString(raw) {
		return raw
	}
	if _, s, ok := guessCharset([]byte(raw)); ok {
		return s
	}
	return strings.ToValidUTF8(raw, "")
}

// DecodeHeader turns a raw header value into clean display text.
func DecodeHeader(raw string) string {
	return CleanLine(decodeWords(fix8bit(raw)))
}

// CleanLine removes control characters (CR and LF included), invisible
// characters and bidi overrides, and trims surrounding space, so a value can
// never break out of its line or disguise itself.
func CleanLine(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case unicode.IsControl(r), r == utf8.RuneError, IsInvisible(r), IsBidiControl(r):
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// IsInvisible reports zero-width characters that hide or split text.
func IsInvisible(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u180e':
		return true
	}
	return false
}

// IsBidiControl reports the characters that reorder text (the RLO trick
// that makes "exe.pdf" read as "fdp.exe").
func IsBidiControl(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' || r == '\u200e' || r == '\u200f'
}

// addressParser decodes encoded words with our charsets. ParseAddressList
// joins split words before parsing, and names get decodeWords afterwards
// for the words real mailers put inside quoted strings.
var addressParser = &mail.AddressParser{WordDecoder: &mime.WordDecoder{CharsetReader: wordCharsetReader}}

func wordCharsetReader(charset string, input io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(input)
	if err != nil {
		return nil, err
	}
	s, res, _ := Decode(b, charset)
	if res == DecodedUnknown {
		return nil, errUnknownCharset
	}
	return strings.NewReader(s), nil
}

// ParseAddressList decodes an address header. Entries that do not parse are
// dropped; ok is false when nothing parsed but the header was not empty.
func ParseAddressList(raw string) (addrs []*mail.Address, ok bool) {
	if strings.TrimSpace(raw) == "" {
		return nil, true
	}
	raw = joinWordRuns(fix8bit(raw))
	if list, err := addressParser.ParseList(raw); err == nil {
		return cleanAddrs(list), true
	}
	// Parse one by one so that one bad entry does not lose the rest.
	for _, part := range splitAddressList(raw) {
		if a, err := addressParser.Parse(part); err == nil {
			addrs = append(addrs, a)
		}
	}
	addrs = cleanAddrs(addrs)
	return addrs, len(addrs) > 0
}

// joinWordRuns rewrites each run of several encoded words as one B word,
// so that the address parser sees one atom and the name decodes whole.
func joinWordRuns(s string) string {
	var out strings.Builder
	last := 0
	for _, r := range wordRuns(s) {
		if r.words < 2 {
			continue
		}
		out.WriteString(s[last:r.start])
		out.WriteString("=?" + r.charset + "?B?" + base64.StdEncoding.EncodeToString(r.raw) + "?=")
		last = r.end
	}
	out.WriteString(s[last:])
	return out.String()
}

func cleanAddrs(list []*mail.Address) []*mail.Address {
	out := list[:0]
	for _, a := range list {
		a.Name = CleanLine(decodeWords(a.Name))
		if a.Address == "" || strings.ContainsAny(a.Address, "\r\n<>") {
			continue
		}
		out = append(out, a)
	}
	return out
}

// splitAddressList splits on commas outside quotes, angle brackets and
// comments.
func splitAddressList(s string) []string {
	var parts []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<' || c == '(':
			depth++
		case (c == '>' || c == ')') && depth > 0:
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
