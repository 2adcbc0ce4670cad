package sanitize

import (
	"mime"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
)

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// decodeHeader turns a raw header value into clean display text: RFC 2047
// encoded words decoded (in any charset we know), raw 8-bit bytes read as
// UTF-8 or else as Shift_JIS, control characters removed.
func decodeHeader(raw string) string {
	s := raw
	if !utf8.ValidString(s) {
		if out, err := japanese.ShiftJIS.NewDecoder().String(s); err == nil && !strings.ContainsRune(out, utf8.RuneError) {
			s = out
		} else {
			s = strings.ToValidUTF8(s, "")
		}
	}
	if strings.Contains(s, "=?") {
		if d, err := wordDecoder.DecodeHeader(s); err == nil {
			s = d
		}
	}
	return cleanLine(s)
}

// cleanLine removes control characters (CR and LF included) and trims
// surrounding space, so a value can never break out of its header line.
func cleanLine(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case unicode.IsControl(r), r == utf8.RuneError, isInvisible(r):
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// isInvisible reports zero-width characters that hide or split text.
func isInvisible(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad':
		return true
	}
	return false
}

var addressParser = &mail.AddressParser{WordDecoder: wordDecoder}

// parseAddressList decodes an address header. Entries that do not parse are
// dropped; ok is false when nothing parsed but the header was not empty.
func parseAddressList(raw string) (addrs []*mail.Address, ok bool) {
	if strings.TrimSpace(raw) == "" {
		return nil, true
	}
	if !utf8.ValidString(raw) {
		raw = decodeHeader(raw) // raw Shift_JIS names
	}
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

func cleanAddrs(list []*mail.Address) []*mail.Address {
	out := list[:0]
	for _, a := range list {
		a.Name = cleanLine(a.Name)
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
