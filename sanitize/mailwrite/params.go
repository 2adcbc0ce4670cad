package mailwrite

import (
	"fmt"
	"strings"
)

// Param is one parameter of a Content-Type or Content-Disposition value.
type Param struct{ Name, Value string }

// maxParamValue is the longest a parameter's value is written in one
// piece; a longer one is cut into RFC 2231 sections of at most
// sectionLen characters, each on its own line when folded, so that no
// line passes 998 octets.
const (
	maxParamValue = 900
	sectionLen    = 64
)

// MediaType writes a Content-Type or Content-Disposition value, "type;
// name=value; …", parameters in the order given. A value is written as a
// token when it is one, else as a quoted string, else (see needsEncoding)
// in RFC 2231's extended form (utf-8, percent-encoded): as
// mime.FormatMediaType writes it, except that the order is kept, a tab,
// a run of spaces or "=?" also take the extended form, and a value too
// long for a line is cut into sections.
// Names are lower-cased; a name or type that is not a token is the
// caller's mistake and is written as it is.
func MediaType(typ string, params ...Param) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(typ))
	for _, p := range params {
		writeParam(&b, strings.ToLower(p.Name), p.Value)
	}
	return b.String()
}

// writeParam writes "; name=value" (see MediaType).
func writeParam(b *strings.Builder, name, value string) {
	extended := needsEncoding(value)
	if extended {
		value = percentEncode(value)
	}
	if len(value) <= maxParamValue {
		b.WriteString("; " + name)
		if extended {
			b.WriteString("*=utf-8''" + value)
			return
		}
		b.WriteString("=" + quoteIfNeeded(value))
		return
	}
	for i, s := range sections(value, extended) {
		switch {
		case extended && i == 0:
			fmt.Fprintf(b, "; %s*0*=utf-8''%s", name, s)
		case extended:
			fmt.Fprintf(b, "; %s*%d*=%s", name, i, s)
		default:
			fmt.Fprintf(b, "; %s*%d=%s", name, i, quoteIfNeeded(s))
		}
	}
}

// sections cuts v into pieces of at most sectionLen characters, never
// inside a %XX escape of an extended value.
func sections(v string, extended bool) []string {
	var out []string
	for len(v) > sectionLen {
		n := sectionLen
		if extended {
			if i := strings.LastIndexByte(v[:n], '%'); i > n-3 {
				n = i
			}
		}
		out = append(out, v[:n])
		v = v[n:]
	}
	return append(out, v)
}

// needsEncoding reports whether a value needs RFC 2231's extended form:
// it holds a control character (tab included) or a byte outside ASCII;
// or folding could change it (spaces at its ends or in a run: Fold makes
// each run one space); or it looks like an RFC 2047 encoded word, which
// some clients decode even inside a quoted parameter.
func needsEncoding(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' {
			return true
		}
	}
	return strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") || strings.Contains(s, "  ") || strings.Contains(s, "=?")
}

// percentEncode escapes every byte of s that is not an RFC 2231
// attribute-char as %XX.
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '*' || c == '\'' || c == '%' || isTSpecial(c) {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0x0f])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// quoteIfNeeded returns v as a token when it is one, else as a quoted
// string with '"' and '\' escaped.
func quoteIfNeeded(v string) string {
	if isToken(v) {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// isToken reports whether s is an RFC 2045 token: printable ASCII without
// space or tspecials, not empty.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || isTSpecial(c) {
			return false
		}
	}
	return true
}

func isTSpecial(c byte) bool { return strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 }

// Attachment returns the Content-Type and Content-Disposition of a file
// of type ctype named name: the name in the disposition's filename
// parameter (RFC 2231 when it is not plain ASCII, see MediaType), and
// again in the type's name parameter for clients that read only that
// (Outlook before 2007, some Becky! versions), there as RFC 2047 encoded
// words inside quotes unless it is plain ASCII that folding leaves as it
// is, with no quote, backslash or "=?".
func Attachment(ctype, name string) (contentType, disposition string) {
	contentType = ctype + `; name="` + name + `"`
	if !plainASCII(name) || strings.ContainsAny(name, `"\`) || needsEncoding(name) {
		contentType = ctype + `; name="` + EncodedWords(name) + `"`
	}
	return contentType, MediaType("attachment", Param{"filename", name})
}
