// Package mailwrite writes the messages mugai makes: the rebuilt message
// (sanitize), delivery status notifications (gateway/delivery) and release
// notices (gateway). It owns their header fields (folding, RFC 2047
// encoded words for text that is not plain ASCII, no CR, LF or other
// control character inside a value), Content-Type and Content-Disposition
// parameters (RFC 2231 for values that are not plain ASCII), base64
// bodies (76 columns, CRLF) and multipart bodies (a boundary that occurs
// in none of the parts). It parses nothing and knows nothing of the MIME
// walker or the gateway.
package mailwrite

import (
	"encoding/base64"
	"net/mail"
	"strings"
)

// lineLen is the length a folded line keeps within where its words allow
// (RFC 5322 2.1.1: 78 characters); maxPlainWord is the longest word an
// unstructured value is written as it is, so that even after a field name
// of 76 characters its line stays within 998 octets.
const (
	lineLen      = 78
	maxPlainWord = 998 - 76 - 2
)

// Header is a header block, written in the order its fields were added
// (go-message writes fields in reverse and canonicalises names such as
// Message-ID; we do neither).
type Header struct{ fields []field }

type field struct{ name, value string }

// Add adds a field whose value is in its wire form already: a structured
// value (addresses, ids, dates, a media type), or text encoded with Text.
// It is folded when written (see Fold).
func (h *Header) Add(name, value string) { h.fields = append(h.fields, field{name, value}) }

// AddText adds an unstructured field (Subject, X-…) holding text: as it
// is when it is plain ASCII, else as UTF-8 encoded words (see Text).
func (h *Header) AddText(name, text string) { h.Add(name, Text(text, EncodedWords)) }

// Bytes returns the header block: every field folded, then the blank line
// that ends it.
func (h *Header) Bytes() []byte { return append(h.Fields(), '\r', '\n') }

// Fields returns the fields folded, without the blank line: to put before
// another header block.
func (h *Header) Fields() []byte {
	var b strings.Builder
	for _, f := range h.fields {
		b.WriteString(Fold(f.name, f.value))
	}
	return []byte(b.String())
}

// Fold writes the field "name: value" and its CRLF, folded at spaces so
// that lines stay within 78 characters where the value's words allow. Any
// run of white space in value (CR and LF included) is one fold or one
// space, and other control characters are dropped: nothing in a value can
// end the field or start another. Words are never split, so a value's
// words must each fit a line of 998 octets.
func Fold(name, value string) string {
	var b strings.Builder
	line := name + ":"
	for _, word := range strings.Fields(value) {
		word = dropControls(word)
		if len(line)+1+len(word) > lineLen && len(line) > len(name)+1 {
			b.WriteString(line + "\r\n")
			line = " " + word
			continue
		}
		line += " " + word
	}
	b.WriteString(line + "\r\n")
	return b.String()
}

// dropControls removes the ASCII control characters (and DEL) that
// strings.Fields does not treat as space.
func dropControls(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return strings.Map(func(r rune) rune {
				if r < 0x20 || r == 0x7f {
					return -1
				}
				return r
			}, s)
		}
	}
	return s
}

// Words encodes text as RFC 2047 encoded words in some charset (UTF-8:
// EncodedWords; sanitize has one for ISO-2022-JP).
type Words func(text string) string

// Text writes an unstructured value: as it is when it is plain printable
// ASCII whose words fit a line, else as encoded words made by words. ASCII
// that itself looks like an encoded word ("=?") is encoded too, so that a
// reader shows it literally and no client decodes a forged one. Line
// breaks, tabs and other white space controls in s become spaces, and the
// other control characters are dropped, encoded or not.
func Text(s string, words Words) string {
	s = oneLine(s)
	if plainASCII(s) && !strings.Contains(s, "=?") {
		return s
	}
	return words(s)
}

// oneLine maps CR, LF, tab, vertical tab and form feed to spaces and drops
// the other ASCII control characters and DEL.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '\t' && r <= '\r':
			return ' '
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s)
}

// plainASCII reports whether s is printable ASCII (spaces included) whose
// words are at most maxPlainWord long.
func plainASCII(s string) bool {
	word := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			word = 0
		case c < 0x20 || c > 0x7e:
			return false
		default:
			if word++; word > maxPlainWord {
				return false
			}
		}
	}
	return true
}

// EncodedWords writes s as UTF-8 B encoded words of at most 75 characters
// each, separated by spaces, never splitting a character.
func EncodedWords(s string) string {
	var words []string
	for len(s) > 0 {
		n := 0
		for _, r := range s { // 45 bytes of input → 60 of base64, + 12 of framing
			l := len(string(r))
			if n+l > 45 {
				break
			}
			n += l
		}
		words = append(words, "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, " ")
}

// Phrase writes a display name: bare atoms when it can, a quoted string
// for ASCII with specials, encoded words made by words otherwise.
func Phrase(s string, words Words) string {
	if !plainASCII(s) || strings.Contains(s, "=?") {
		return words(s)
	}
	for _, r := range s {
		if !(r == ' ' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)) {
			return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
		}
	}
	return s
}

// Addresses writes an address list: each address in angle brackets
// (quoted as RFC 5322 needs), after its display name as Phrase writes it.
func Addresses(list []*mail.Address, words Words) string {
	out := make([]string, len(list))
	for i, a := range list {
		addr := (&mail.Address{Address: a.Address}).String()
		if a.Name != "" {
			addr = Phrase(a.Name, words) + " " + addr
		}
		out[i] = addr
	}
	return strings.Join(out, ", ")
}
