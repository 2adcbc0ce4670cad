package text

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
)

// charsetAliases maps names that real mailers write, and that the WHATWG
// index lacks or gets wrong for mail, onto encodings. x/text's Shift_JIS is
// the WHATWG one, which is Windows-31J (CP932): it includes the NEC and IBM
// extensions (①, ㈱, 髙, 﨑). Its ISO-2022-JP decoder reads the same rows
// (ISO-2022-JP-MS) and the ESC ( I half-width kana escape.
var charsetAliases = map[string]encoding.Encoding{
	"cp932":          japanese.ShiftJIS,
	"ms932":          japanese.ShiftJIS,
	"windows-31j":    japanese.ShiftJIS,
	"sjis":           japanese.ShiftJIS,
	"x-sjis":         japanese.ShiftJIS,
	"shift-jis":      japanese.ShiftJIS,
	"x-shift_jis":    japanese.ShiftJIS,
	"csshiftjis":     japanese.ShiftJIS,
	"iso-2022-jp-2":  japanese.ISO2022JP, // the Japanese subset; other G0 sets are dropped as undecodable
	"iso-2022-jp-3":  japanese.ISO2022JP,
	"iso-2022-jp-ms": japanese.ISO2022JP,
	"cp50220":        japanese.ISO2022JP,
	"cp50221":        japanese.ISO2022JP,
	"x-euc-jp":       japanese.EUCJP,
	"eucjp-ms":       japanese.EUCJP,
	"cp51932":        japanese.EUCJP,
	// RFC 2781: "UTF-16" without a BOM is big-endian; with one, the BOM decides.
	"utf-16": unicode.UTF16(unicode.BigEndian, unicode.UseBOM),
	"utf-7":  utf7Encoding{},
}

// lookupCharset returns the encoding for a MIME charset name. ok is false
// for names we do not know. A nil encoding with ok means UTF-8 (or ASCII,
// which we read as UTF-8: mail labelled us-ascii often holds UTF-8, and the
// WHATWG index would map it to windows-1252).
func lookupCharset(name string) (enc encoding.Encoding, ok bool) {
	n := normCharset(name)
	switch n {
	case "", "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "unicode-1-1-utf-8":
		return nil, true
	}
	if e, found := charsetAliases[n]; found {
		return e, true
	}
	e, err := htmlindex.Get(n)
	if err != nil || e == encoding.Replacement {
		return nil, false
	}
	return e, true
}

// normCharset lower-cases a charset name and drops quotes and an RFC 2231
// language suffix ("iso-2022-jp*ja").
func normCharset(name string) string {
	n := strings.ToLower(strings.Trim(strings.TrimSpace(name), `"'`))
	if i := strings.IndexByte(n, '*'); i >= 0 {
		n = n[:i]
	}
	return n
}

// Decoding says how text was decoded.
type Decoding int

// How Decode decoded a text.
const (
	DecodedClean       Decoding = iota // the declared charset read every byte
	DecodedMislabelled                 // the declared charset was wrong; another one decoded cleanly
	DecodedGuessed                     // no (known) charset was declared; we found one that decodes cleanly
	DecodedLossy                       // some bytes did not decode and were dropped
	DecodedUnknown                     // unknown charset, nothing fitted: read as UTF-8, invalid bytes dropped
)

// Decode turns body bytes in the declared charset into valid UTF-8. When
// the declared charset does not fit the bytes, or none is declared, it tries
// the charsets real mail uses (UTF-8, ISO-2022-JP, Shift_JIS, EUC-JP). Bytes
// that still do not decode are dropped, never turned into runs of U+FFFD.
// used names the charset that was applied.
func Decode(b []byte, declared string) (text string, res Decoding, used string) {
	enc, known := lookupCharset(declared)
	if bytes.HasPrefix(b, []byte{0xFE, 0xFF}) || bytes.HasPrefix(b, []byte{0xFF, 0xFE}) {
		if s, ok := strictDecode(charsetAliases["utf-16"], b); ok && (!known || enc == nil) {
			return s, resultFor(declared, known), "utf-16"
		}
	}
	if known {
		if s, ok := strictDecode(enc, b); ok {
			switch {
			case enc == nil && !isASCIIBytes(b) && isASCIICharset(declared):
				return s, DecodedMislabelled, "utf-8" // us-ascii holding UTF-8
			case enc == nil && isASCIIBytes(b) && hasJISEscape(b):
				// 7-bit ISO-2022-JP labelled as ASCII or not at all: the
				// most common Japanese mail of all.
				if t, ok := strictDecode(japanese.ISO2022JP, b); ok {
					return t, resultFor(declared, declared != ""), "iso-2022-jp"
				}
			case enc != nil && !isASCIIBytes(b) && oftenMislabelled(declared):
				// These decode almost any bytes "cleanly" (Latin-1, or
				// EUC-JP read as Shift_JIS half-width kana): prefer a
				// candidate that reads clearly better.
				if cs, t, ok := guessCharset(b); ok && cs != normCharset(declared) &&
					(cs == "utf-8" && multibyteRunes(t) >= 4 || readsAsJapanese(t) && japaneseScore(t) > japaneseScore(s)+4) {
					return t, DecodedMislabelled, cs
				}
			}
			return s, DecodedClean, orUTF8(declared)
		}
	}
	if cs, s, ok := guessCharset(b); ok {
		return s, resultFor(declared, known), cs
	}
	if !known {
		return strings.ToValidUTF8(string(b), ""), DecodedUnknown, "utf-8"
	}
	return lossyDecode(enc, b), DecodedLossy, orUTF8(declared)
}

// oftenMislabelled reports the labels Japanese text is wrongly sent under:
// the Japanese charsets themselves (one for another) and the Western
// defaults of mailers and gateways. Text labelled Korean, Chinese or
// Cyrillic is trusted: those bytes also decode as Japanese.
func oftenMislabelled(cs string) bool {
	switch normCharset(cs) {
	case "iso-8859-1", "latin1", "iso-8859-15", "windows-1252", "cp1252",
		"shift_jis", "shift-jis", "sjis", "x-sjis", "cp932", "ms932", "windows-31j",
		"euc-jp", "x-euc-jp", "iso-2022-jp":
		return true
	}
	return false
}

func hasJISEscape(b []byte) bool {
	return bytes.Contains(b, []byte("\x1b$B")) || bytes.Contains(b, []byte("\x1b$@")) || bytes.Contains(b, []byte("\x1b(I"))
}

func resultFor(declared string, known bool) Decoding {
	if declared == "" || !known {
		return DecodedGuessed
	}
	return DecodedMislabelled
}

func orUTF8(cs string) string {
	if cs == "" {
		return "utf-8"
	}
	return normCharset(cs)
}

func isASCIICharset(cs string) bool {
	switch normCharset(cs) {
	case "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us":
		return true
	}
	return false
}

func isASCIIBytes(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// strictDecode decodes b and reports whether every byte decoded. A nil enc
// is UTF-8.
func strictDecode(enc encoding.Encoding, b []byte) (string, bool) {
	if enc == nil {
		return string(b), utf8.Valid(b)
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return "", false
	}
	// Decoders mark undecodable input with U+FFFD; only a Unicode source
	// can hold a genuine one.
	if bytes.ContainsRune(out, utf8.RuneError) && !bytes.Contains(b, []byte("\xef\xbf\xbd")) {
		return "", false
	}
	return string(out), utf8.Valid(out)
}

// lossyDecode decodes what it can and drops the rest.
func lossyDecode(enc encoding.Encoding, b []byte) string {
	if enc == nil {
		return strings.ToValidUTF8(string(b), "")
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "")
	}
	return strings.ReplaceAll(strings.ToValidUTF8(string(out), ""), string(utf8.RuneError), "")
}

// guessCharset finds the charset that decodes b cleanly and reads most like
// text: 7-bit data with ISO-2022-JP escapes is ISO-2022-JP; valid UTF-8 is
// UTF-8; otherwise Shift_JIS and EUC-JP compete on how Japanese the result
// looks (kana and kanji score, half-width katakana and private-use
// characters, the usual signs of the wrong one, count against).
func guessCharset(b []byte) (charset, text string, ok bool) {
	if isASCIIBytes(b) {
		if hasJISEscape(b) {
			if s, ok := strictDecode(japanese.ISO2022JP, b); ok {
				return "iso-2022-jp", s, true
			}
		}
		if bytes.Contains(b, []byte("+")) && bytes.Contains(b, []byte("-")) {
			if s, ok := strictDecode(utf7Encoding{}, b); ok && s != string(b) && japaneseScore(s) > 0 {
				return "utf-7", s, true
			}
		}
		return "", "", false
	}
	if utf8.Valid(b) {
		return "utf-8", string(b), true
	}
	best, bestText, bestScore := "", "", 0
	for _, c := range []struct {
		name string
		enc  encoding.Encoding
	}{{"shift_jis", japanese.ShiftJIS}, {"euc-jp", japanese.EUCJP}} {
		s, ok := strictDecode(c.enc, b)
		if !ok {
			continue
		}
		if score := japaneseScore(s); score > bestScore {
			best, bestText, bestScore = c.name, s, score
		}
	}
	return best, bestText, best != ""
}

// multibyteRunes counts non-ASCII characters: valid UTF-8 by coincidence
// rarely has more than one or two.
func multibyteRunes(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x80 {
			n++
		}
	}
	return n
}

// readsAsJapanese asks for real evidence before a clean decode in the
// declared charset is overruled: several characters, a fifth of them kana
// (Japanese prose is 40–60% kana; text misread in the wrong Japanese
// charset comes out as kanji soup or half-width kana).
func readsAsJapanese(s string) bool {
	kana, wide := 0, 0
	for _, r := range s {
		if r >= 0x3040 && r <= 0x30FF {
			kana++
		}
		if r >= 0x3000 {
			wide++
		}
	}
	return wide >= 4 && kana*5 >= wide
}

// japaneseScore rates how much s reads like Japanese text.
func japaneseScore(s string) int {
	score := 0
	for _, r := range s {
		switch {
		case r >= 0x3040 && r <= 0x30FF: // hiragana, katakana
			score += 3
		case r >= 0x4E00 && r <= 0x9FFF: // common kanji
			score += 2
		case r >= 0x3000 && r <= 0x303F, r >= 0xFF01 && r <= 0xFF5E: // punctuation, full-width forms
			score++
		case r >= 0xFF61 && r <= 0xFF9F: // half-width katakana: rare in real text
			score -= 2
		case r >= 0xE000 && r <= 0xF8FF: // private use: user-defined characters, or a misreading
			score -= 3
		}
	}
	return score
}
