package gateway

import (
	"errors"
	"fmt"
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrBadOperator is an operator name outside OperatorRule.
var ErrBadOperator = errors.New("bad operator name")

// OperatorRule is what an operator name (-operator) may be. Names are
// written into the audit log and into headers of released mail
// (X-Mugai-Released), so they are plain ASCII words: no spaces, line
// breaks, control or format characters, no ':' that could start a header,
// and no look-alike letters from other scripts.
const OperatorRule = "1 to 64 characters, each an ASCII letter, a digit or one of . _ @ - +"

// MaxReason is the most characters of an admin's reason kept (audit log,
// release notice and header); a longer one is cut, marked with "…".
const MaxReason = 200

// CheckOperator returns an error wrapping ErrBadOperator, naming the
// rule, unless name follows OperatorRule.
func CheckOperator(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("%w %q: %s", ErrBadOperator, name, OperatorRule)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-+", r)) {
			return fmt.Errorf("%w %q: %s", ErrBadOperator, name, OperatorRule)
		}
	}
	return nil
}

// CleanReason reduces an admin's free text (a release or delete reason)
// to one line fit for the audit log and a header: invalid UTF-8, control
// and format characters (bidi overrides, zero-width characters), line and
// paragraph separators and every other kind of space become one space;
// the ends are trimmed; at most MaxReason characters are kept. An empty
// result means there was no reason.
func CleanReason(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Zs) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	out := b.String()
	if utf8.RuneCountInString(out) > MaxReason {
		rs := []rune(out)
		out = strings.TrimRight(string(rs[:MaxReason-1]), " ") + "…"
	}
	return out
}

// headerField writes one unstructured header field, "name: value\r\n",
// with value reduced by CleanReason: printable ASCII as it is (with "=?"
// broken up, so that no client decodes a forged encoded word), anything
// else as RFC 2047 encoded words; folded between words so that lines stay
// under 78 characters where the words allow. No bare CR or LF can get in.
func headerField(name, value string) string {
	v := CleanReason(value)
	ascii := true
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		v = strings.ReplaceAll(v, "=?", "= ?")
	} else {
		v = mime.BEncoding.Encode("utf-8", v) // words of at most 75 characters, separated by spaces
	}
	var b strings.Builder
	b.WriteString(name + ":")
	line := len(name) + 1
	for _, w := range strings.Fields(v) {
		if line+1+len(w) > 76 && line > len(name)+1 {
			b.WriteString("\r\n")
			line = 0
		}
		b.WriteString(" " + w)
		line += 1 + len(w)
	}
	b.WriteString("\r\n")
	return b.String()
}
