package gateway

import (
	"errors"
	"fmt"
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
		if !operatorRune(r) {
			return fmt.Errorf("%w %q: %s", ErrBadOperator, name, OperatorRule)
		}
	}
	return nil
}

// operatorRune says whether r may stand in an operator name (OperatorRule).
func operatorRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-+", r)
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
