package sanitize

import (
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// charsetAliases maps names that real Japanese mailers write, and that the
// WHATWG index does not know, onto encodings. x/text's Shift_JIS is the
// WHATWG one, which is Windows-31J (CP932): it includes the NEC and IBM
// extensions (①, ㈱, 髙).
var charsetAliases = map[string]encoding.Encoding{
	"cp932":          japanese.ShiftJIS,
	"ms932":          japanese.ShiftJIS,
	"windows-31j":    japanese.ShiftJIS,
	"sjis":           japanese.ShiftJIS,
	"x-sjis":         japanese.ShiftJIS,
	"shift-jis":      japanese.ShiftJIS,
	"x-shift_jis":    japanese.ShiftJIS,
	"iso-2022-jp-2":  japanese.ISO2022JP,
	"iso-2022-jp-3":  japanese.ISO2022JP,
	"iso-2022-jp-ms": japanese.ISO2022JP,
	"x-euc-jp":       japanese.EUCJP,
}

// lookupCharset returns the encoding for a MIME charset name. ok is false
// for names we do not know. A nil encoding with ok means UTF-8 (or ASCII,
// which we read as UTF-8: mail labelled us-ascii often holds UTF-8, and the
// WHATWG index would map it to windows-1252).
func lookupCharset(name string) (enc encoding.Encoding, ok bool) {
	n := strings.ToLower(strings.Trim(strings.TrimSpace(name), `"'`))
	switch n {
	case "", "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "unicode-1-1-utf-8":
		return nil, true
	}
	if e, found := charsetAliases[n]; found {
		return e, true
	}
	e, err := htmlindex.Get(n)
	if err != nil {
		return nil, false
	}
	if e == encoding.Replacement {
		return nil, false
	}
	return e, true
}

// decodeResult says how well text decoded.
type decodeResult int

const (
	decodedClean   decodeResult = iota
	decodedLossy                // some bytes did not decode and were dropped
	decodedUnknown              // the charset is unknown; read as UTF-8, invalid bytes dropped
)

// decodeText turns body bytes in the given charset into valid UTF-8. Bytes
// that do not decode are dropped, never turned into runs of U+FFFD.
func decodeText(b []byte, charset string) (string, decodeResult) {
	enc, ok := lookupCharset(charset)
	if !ok {
		s, _ := validUTF8(b)
		return s, decodedUnknown
	}
	if enc == nil {
		s, lossy := validUTF8(b)
		if lossy {
			return s, decodedLossy
		}
		return s, decodedClean
	}
	// Count the replacement characters the source already held (only
	// possible in Unicode encodings), so we drop only those we introduced.
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		s, _ := validUTF8(b)
		return s, decodedLossy
	}
	s := string(out)
	if strings.ContainsRune(s, utf8.RuneError) {
		return strings.ReplaceAll(s, string(utf8.RuneError), ""), decodedLossy
	}
	return s, decodedClean
}

// validUTF8 drops invalid UTF-8 bytes. lossy reports whether any were.
func validUTF8(b []byte) (string, bool) {
	if utf8.Valid(b) {
		return string(b), false
	}
	return strings.ToValidUTF8(string(b), ""), true
}

// charsetReader adapts lookupCharset for mime.WordDecoder.
func charsetReader(name string, input io.Reader) (io.Reader, error) {
	enc, ok := lookupCharset(name)
	if !ok {
		return nil, errUnknownCharset
	}
	if enc == nil {
		return input, nil
	}
	return transform.NewReader(input, enc.NewDecoder()), nil
}
