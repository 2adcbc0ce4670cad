package text

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// textBuilder accumulates text with collapsed whitespace and at most one
// blank line in a row.
type textBuilder struct {
	b         strings.Builder
	pendNL    int  // newlines owed before the next text
	pendSp    bool // a space owed before the next word
	spNL      bool // the owed space came from a line break in the source
	atStart   bool // nothing written yet on this line
	anything  bool
	last      rune  // the last character written
	invisible int   // zero-width and bidi characters left out
	limit     int   // the most bytes the text may hold (0: no limit)
	stopped   bool  // the limit was hit: nothing more is written
	full      *bool // set when the limit is hit (shared by a renderer's builders)
}

// putRune writes r unless the limit is reached.
func (w *textBuilder) putRune(r rune) {
	if w.stopped {
		return
	}
	if w.limit > 0 && w.b.Len()+utf8.RuneLen(r) > w.limit {
		w.put(string(r))
		return
	}
	w.b.WriteRune(r)
}

// put writes s, or as much of it as the limit leaves room for.
func (w *textBuilder) put(s string) {
	if w.stopped {
		return
	}
	if w.limit > 0 && w.b.Len()+len(s) > w.limit {
		s, _ = Cut(s, w.limit-w.b.Len())
		w.stopped = true
		if w.full != nil {
			*w.full = true
		}
	}
	w.b.WriteString(s)
}

// lineBreak is <br>: a new line, even an empty one.
func (w *textBuilder) lineBreak() {
	w.block(1)
	w.flushNL()
	w.atStart = true
}

// rule is <hr>: a line of its own.
func (w *textBuilder) rule() {
	w.block(1)
	w.raw("――――――――――――――――――――")
	w.block(1)
}

func (w *textBuilder) flushNL() {
	if !w.anything {
		w.pendNL = 0
		return
	}
	for ; w.pendNL > 0; w.pendNL-- {
		w.put("\n")
		w.atStart = true
	}
}

// block asks for a line break (n=1) or a blank line (n=2) before what comes next.
func (w *textBuilder) block(n int) {
	if n > w.pendNL {
		w.pendNL = n
	}
	w.pendSp = false
}

// inline writes flowing text, collapsing whitespace as a browser would.
func (w *textBuilder) inline(s string) {
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f':
			if !w.pendSp {
				w.spNL = false
			}
			w.pendSp = true
			w.spNL = w.spNL || r == '\n' || r == '\r'
		case IsInvisible(r), IsBidiControl(r):
			w.invisible++
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0: // other controls: nothing to show
		default:
			if w.pendNL > 0 {
				w.flushNL()
				w.pendSp = false
			}
			// A source line break between two CJK characters is not a
			// space (CSS Text 3 segment break rules).
			cjkJoin := w.spNL && isWide(w.last) && isWide(r)
			if w.pendSp && w.anything && !w.atStart && !cjkJoin {
				w.put(" ")
			}
			w.pendSp, w.spNL = false, false
			w.putRune(r)
			w.last = r
			w.atStart = false
			w.anything = true
		}
	}
}

// raw writes preformatted text (lines kept as they are).
func (w *textBuilder) raw(s string) {
	if s == "" {
		return
	}
	w.flushNL()
	if w.pendSp && !w.atStart {
		w.put(" ")
	}
	w.pendSp = false
	w.put(s)
	w.anything = true
	w.atStart = strings.HasSuffix(s, "\n")
}

// lines writes an already rendered block, prefixing its first line with
// first and the others with rest (list bullets, quote marks).
func (w *textBuilder) lines(s, first, rest string) {
	if s == "" {
		return
	}
	w.flushNL()
	for i := 0; len(s) > 0 || i == 0; i++ {
		l := s
		if nl := strings.IndexByte(s, '\n'); nl >= 0 {
			l, s = s[:nl], s[nl+1:]
		} else {
			s = ""
		}
		if i > 0 {
			w.put("\n")
		}
		p := rest
		if i == 0 {
			p = first
		}
		if l == "" {
			p = strings.TrimRight(p, " ")
		}
		w.put(p)
		w.put(l)
		if w.stopped {
			break
		}
	}
	w.anything = true
	w.atStart = false
	w.pendSp = false
}

func (w *textBuilder) String() string {
	lines := strings.Split(w.b.String(), "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.Trim(strings.Join(out, "\n"), "\n")
}

// isWide reports East Asian wide and fullwidth characters.
func isWide(r rune) bool {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return true
	}
	return false
}
