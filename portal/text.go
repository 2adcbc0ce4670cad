package portal

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds on text from the mail or a form shown on a page (in runes).
const (
	maxShown  = 200  // a subject, filename, address, type
	maxReason = 1000 // a requester's reason, an approver's comment
)

// shown makes hostile text (a subject, a filename, an address) safe to
// put on a page before html/template escapes it: one line, every control,
// format (bidi overrides such as RLO, zero-width characters, tags),
// separator, private-use, surrogate and invalid character replaced by
// U+FFFD (a tab by a space), and at most max runes (then "…"). The page
// then shows the same characters a reader's eyes see, in order.
func shown(s string, max int) string {
	if len(s) > max*utf8.UTFMax+utf8.UTFMax {
		s = s[:max*utf8.UTFMax+utf8.UTFMax] // bound the work; cut again below
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case r == utf8.RuneError, unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co, unicode.Cs),
			r >= 0xe0000 && r <= 0xe007f, r&0xfffe == 0xfffe, r >= 0xfdd0 && r <= 0xfdef:
			return '\ufffd'
		}
		return r
	}, s)
	return truncate(s, max)
}

// truncate keeps at most max runes of s, the last one "…" when cut.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// oneLine reduces free text typed into a form (a reason, a comment) to
// what is stored, audited and mailed: valid UTF-8, every run of spaces,
// controls, format characters and separators one space, trimmed, at most
// maxReason runes. "" means nothing was said.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\ufffd")
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		if b.Len() > maxReason*utf8.UTFMax {
			break
		}
	}
	return truncate(b.String(), maxReason)
}

// size formats a byte count for people.
func size(n int64) string {
	switch {
	case n < 0:
		return "?"
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// when formats a time in the server's zone; the zero time is "".
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05 MST")
}
