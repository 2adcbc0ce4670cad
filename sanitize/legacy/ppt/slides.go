package ppt

import (
	"context"
	"strings"
	"unicode/utf16"
)

// slide is one entry of the slide list: its persist id and the texts the
// list holds for it (placeholder text, referred to by index from the
// slide's drawing through an OutlineTextRefAtom).
type slide struct {
	persist uint32
	texts   []string
}

// walker reads records within the limits.
type walker struct {
	ctx     context.Context
	doc     []byte
	records int // records left to read
	depth   int // nesting allowed
	chars   int // characters left to write
	cut     bool
}

// slideList reads the SlideListWithTextContainers of the slides
// (instance 0) and of the notes (instance 2) in the DocumentContainer:
// the slides in order, and the notes pages' persist ids by notes id.
func (w *walker) slideList(docRec header) ([]slide, map[uint32]uint32, error) {
	var slides []slide
	notes := map[uint32]uint32{}
	err := children(w.doc, docRec, &w.records, func(c header) error {
		if c.typ != rtSlideListWithText || !c.container() {
			return nil
		}
		switch c.inst {
		case 0:
			return children(w.doc, c, &w.records, func(r header) error {
				return w.listEntry(&slides, r)
			})
		case 2:
			return children(w.doc, c, &w.records, func(r header) error {
				if r.typ == rtSlidePersistAtom && r.len >= 16 {
					d := r.data(w.doc)
					notes[le.Uint32(d[12:])] = le.Uint32(d)
				}
				return nil
			})
		}
		return nil
	})
	return slides, notes, err
}

// listEntry reads one record of the slides' list: a SlidePersistAtom
// starts a slide, the text records after it are its placeholders' text.
func (w *walker) listEntry(slides *[]slide, r header) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	switch {
	case r.typ == rtSlidePersistAtom && r.len >= 4:
		*slides = append(*slides, slide{persist: le.Uint32(r.data(w.doc))})
	case len(*slides) == 0:
	case r.typ == rtTextHeaderAtom:
		s := &(*slides)[len(*slides)-1]
		s.texts = append(s.texts, "")
	case r.typ == rtTextCharsAtom || r.typ == rtTextBytesAtom:
		s := &(*slides)[len(*slides)-1]
		if len(s.texts) == 0 {
			s.texts = append(s.texts, "")
		}
		s.texts[len(s.texts)-1] += w.text(r)
	}
	return nil
}

// notesID is the notes id of a slide's notes page (its SlideAtom's
// notesIdRef), or 0 for none.
func (w *walker) notesID(rec header) uint32 {
	var id uint32
	_ = children(w.doc, rec, &w.records, func(c header) error {
		if c.typ == rtSlideAtom && c.len >= 20 {
			id = le.Uint32(c.data(w.doc)[16:])
		}
		return nil
	})
	return id
}

// notesText writes the text of a notes page: its drawing's text boxes.
func (w *walker) notesText(b *strings.Builder, rec header) error {
	var lines strings.Builder
	err := w.walk(rec, func(r header) {
		if r.typ == rtTextCharsAtom || r.typ == rtTextBytesAtom {
			w.line(&lines, w.text(r))
		}
	})
	if lines.Len() > 0 {
		b.WriteString("(ノート / notes)\n" + lines.String())
	}
	return err
}

// slide writes one slide's text, then its notes page's. A slide whose
// record cannot be found still has its text in the slide list.
func (w *walker) slide(b *strings.Builder, ed edit, s slide, notes map[uint32]uint32) error {
	rec, err := ed.record(w.doc, s.persist, rtSlide)
	if err != nil {
		return w.slideText(b, header{}, s, false)
	}
	if err := w.slideText(b, rec, s, true); err != nil {
		return err
	}
	id := w.notesID(rec)
	np, ok := notes[id]
	if id == 0 || !ok {
		return nil
	}
	nr, err := ed.record(w.doc, np, rtNotes)
	if err != nil {
		return nil // a notes page that cannot be found is left out
	}
	return w.notesText(b, nr)
}

// slideText writes the text of one slide: its drawing's text boxes in
// drawing order, a placeholder's text from the slide list where the
// drawing refers to it, and the slide list's texts no shape referred to.
func (w *walker) slideText(b *strings.Builder, rec header, s slide, ok bool) error {
	used := make([]bool, len(s.texts))
	if ok {
		err := w.walk(rec, func(r header) {
			switch {
			case r.typ == rtTextCharsAtom || r.typ == rtTextBytesAtom:
				w.line(b, w.text(r))
			case r.typ == rtOutlineTextRef && r.len >= 4:
				if i := int(int32(le.Uint32(r.data(w.doc)))); i >= 0 && i < len(s.texts) && !used[i] {
					used[i] = true
					w.line(b, s.texts[i])
				}
			}
		})
		if err != nil {
			return err
		}
	}
	for i, t := range s.texts {
		if !used[i] {
			w.line(b, t)
		}
	}
	return nil
}

// walk calls fn for every atom under the container rec, depth first in
// record order.
func (w *walker) walk(rec header, fn func(header)) error {
	if w.depth--; w.depth < 0 {
		return errLimit
	}
	defer func() { w.depth++ }()
	return children(w.doc, rec, &w.records, func(c header) error {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		if c.container() {
			return w.walk(c, fn)
		}
		fn(c)
		return nil
	})
}

// text decodes a TextCharsAtom (UTF-16LE) or TextBytesAtom (the low bytes
// of UTF-16 characters): paragraph ends and vertical tabs become line
// ends, other controls but tab go.
func (w *walker) text(r header) string {
	d := r.data(w.doc)
	var runes []rune
	if r.typ == rtTextCharsAtom {
		u := make([]uint16, len(d)/2)
		for i := range u {
			u[i] = le.Uint16(d[2*i:])
		}
		runes = utf16.Decode(u)
	} else {
		runes = make([]rune, len(d))
		for i, c := range d {
			runes[i] = rune(c)
		}
	}
	var b strings.Builder
	for _, c := range runes {
		switch {
		case c == '\r' || c == '\v':
			c = '\n'
		case c == '\t' || c == '\n':
		case c < 0x20 || c == 0x7F:
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// line writes one text and a line end, within the character limit.
func (w *walker) line(b *strings.Builder, s string) {
	s = strings.TrimRight(s, "\n")
	if s == "" || w.cut {
		return
	}
	n := 0
	for i := range s {
		if n == w.chars {
			s, w.cut = s[:i], true
			break
		}
		n++
	}
	w.chars -= n
	b.WriteString(s + "\n")
}
