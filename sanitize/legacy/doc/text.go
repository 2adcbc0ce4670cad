package doc

import (
	"context"
	"sort"
	"strings"
	"unicode/utf16"
)

// Special characters in a document's text ([MS-DOC] 2.8.25 and 2.4.1).
const (
	chObject     = 0x01 // an object or picture anchor
	chFootnote   = 0x02 // an auto-numbered footnote reference
	chCell       = 0x07 // end of a table cell, or of a row (TTP)
	chDrawing    = 0x08 // a drawn object's anchor
	chTab        = 0x09
	chLineBreak  = 0x0B
	chPageBreak  = 0x0C
	chParagraph  = 0x0D
	chFieldBegin = 0x13
	chFieldSep   = 0x14
	chFieldEnd   = 0x15
	chNBHyphen   = 0x1E
	chSoftHyphen = 0x1F
	maxFieldNest = 64
)

// compressed maps the bytes of a compressed piece that are not Latin-1
// ([MS-DOC] 2.4.1: the CP1252 characters in 0x82–0x9F).
var compressed = [256]rune{
	0x82: 0x201A, 0x83: 0x0192, 0x84: 0x201E, 0x85: 0x2026, 0x86: 0x2020, 0x87: 0x2021,
	0x88: 0x02C6, 0x89: 0x2030, 0x8A: 0x0160, 0x8B: 0x2039, 0x8C: 0x0152, 0x91: 0x2018,
	0x92: 0x2019, 0x93: 0x201C, 0x94: 0x201D, 0x95: 0x2022, 0x96: 0x2013, 0x97: 0x2014,
	0x98: 0x02DC, 0x99: 0x2122, 0x9A: 0x0161, 0x9B: 0x203A, 0x9C: 0x0153, 0x9F: 0x0178,
}

func cp1252(c byte) rune {
	if r := compressed[c]; r != 0 {
		return r
	}
	return rune(c)
}

// writer turns a story's characters into plain text: field codes are
// dropped and their results kept, table marks become tabs and line ends,
// anchors and other control characters go.
type writer struct {
	b      strings.Builder
	fields []bool // open fields, innermost last: true once past the separator
	deeper int    // fields open past maxFieldNest: all of them hidden
	rows   spans  // FCs of paragraphs that end a table row
	high   uint16 // a pending high surrogate
	n, max int    // characters written, at most
	cut    bool
	// visits counts the characters read, written or not (a field code
	// is read and hidden): at most maxVisits, ctx checked as it goes.
	visits int
}

// maxVisits bounds the characters read from the pieces over all stories:
// each takes at least a byte of the WordDocument stream, and a piece table
// whose pieces share bytes must not make more of them (field codes are
// read but not written, so the text limit does not bound them).
func maxVisits(wd []byte) int { return 2*len(wd) + 1<<20 }

// visit counts one more character read.
func (w *writer) visit(ctx context.Context, wd []byte) error {
	if w.visits++; w.visits&0xFFFF == 0 {
		if w.visits > maxVisits(wd) {
			return errLimit
		}
		return ctx.Err()
	}
	return nil
}

func (w *writer) reset() {
	w.b.Reset()
	w.fields, w.deeper, w.high = w.fields[:0], 0, 0
}

// story writes the characters [from, to) of the piece table.
func (w *writer) story(ctx context.Context, wd []byte, pieces []piece, from, to uint32) error {
	for i, p := range pieces {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s, e := max(from, p.cpStart), min(to, p.cpEnd)
		if s >= e {
			continue
		}
		k, n := uint64(s-p.cpStart), uint64(e-s)
		if p.compressed {
			off := uint64(p.fc/2) + k
			if off+n > uint64(len(wd)) {
				return errPiece
			}
			for j := uint64(0); j < n && !w.cut; j++ {
				if err := w.visit(ctx, wd); err != nil {
					return err
				}
				w.char(cp1252(wd[off+j]), off+j)
			}
			continue
		}
		off := uint64(p.fc) + 2*k
		if off+2*n > uint64(len(wd)) {
			return errPiece
		}
		for j := uint64(0); j < n && !w.cut; j++ {
			if err := w.visit(ctx, wd); err != nil {
				return err
			}
			w.unit(le.Uint16(wd[off+2*j:]), off+2*j)
		}
	}
	return nil
}

// unit takes one UTF-16 code unit, pairing surrogates.
func (w *writer) unit(u uint16, fc uint64) {
	switch {
	case utf16.IsSurrogate(rune(u)) && u < 0xDC00:
		w.high = u
	case utf16.IsSurrogate(rune(u)):
		if w.high != 0 {
			w.char(utf16.DecodeRune(rune(w.high), rune(u)), fc)
		}
		w.high = 0
	default:
		w.high = 0
		w.char(rune(u), fc)
	}
}

// char writes one character found at fc in the WordDocument stream.
func (w *writer) char(r rune, fc uint64) {
	switch r {
	case chFieldBegin:
		if len(w.fields) < maxFieldNest {
			w.fields = append(w.fields, false)
		} else {
			w.deeper++
		}
		return
	case chFieldSep:
		if w.deeper == 0 && len(w.fields) > 0 {
			w.fields[len(w.fields)-1] = true
		}
		return
	case chFieldEnd:
		switch {
		case w.deeper > 0:
			w.deeper--
		case len(w.fields) > 0:
			w.fields = w.fields[:len(w.fields)-1]
		}
		return
	}
	if w.deeper > 0 {
		return // too deep to tell code from result: nothing is written
	}
	for _, result := range w.fields {
		if !result {
			return // inside a field's code: never written
		}
	}
	switch {
	case r == chCell && w.rows.has(fc):
		r = '\n'
	case r == chCell || r == chTab:
		r = '\t'
	case r == chParagraph || r == chLineBreak || r == chPageBreak:
		r = '\n'
	case r == chNBHyphen:
		r = '-'
	case r < 0x20 || r == 0x7F: // anchors, soft hyphens, other controls
		return
	}
	if w.n >= w.max {
		w.cut = true
		return
	}
	w.n++
	w.b.WriteRune(r)
}

// spans are sorted, disjoint [start, end) ranges of FCs.
type spans [][2]uint64

func (s spans) has(fc uint64) bool {
	i := sort.Search(len(s), func(i int) bool { return s[i][1] > fc })
	return i < len(s) && s[i][0] <= fc
}

// rowEnds finds the paragraphs that end a table row (sprmPFTtp or
// sprmPFInnerTtp set): their 0x07 ends a row, any other 0x07 a cell. It
// reads the paragraph properties through PlcBtePapx and its FKP pages
// ([MS-DOC] 2.8.6, 2.9.175); what it cannot read counts as cells.
func rowEnds(table, wd []byte, f fib) spans {
	plc, ok := slice(table, f.fcBtePapx, f.lcbBtePap)
	if !ok || len(plc) < 4 || (len(plc)-4)%8 != 0 {
		return nil
	}
	n := (len(plc) - 4) / 8
	var out spans
	for i := 0; i < n && i < 1<<16; i++ {
		pn := uint64(le.Uint32(plc[4*(n+1)+4*i:]) & 0x3FFFFF)
		if (pn+1)*512 > uint64(len(wd)) {
			continue
		}
		page := wd[pn*512 : (pn+1)*512]
		crun := int(page[511])
		if 4*(crun+1)+13*crun > 511 {
			continue
		}
		for k := 0; k < crun; k++ {
			if ttp(page, int(page[4*(crun+1)+13*k])*2) {
				out = append(out, [2]uint64{uint64(le.Uint32(page[4*k:])), uint64(le.Uint32(page[4*k+4:]))})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// ttp reports a PapxInFkp at off whose properties mark a row end.
func ttp(page []byte, off int) bool {
	if off == 0 || off+2 > 511 {
		return false
	}
	cb := 2*int(page[off]) - 1
	start := off + 1
	if page[off] == 0 {
		cb, start = 2*int(page[off+1]), off+2
	}
	if start+cb > 511 || cb < 2 {
		return false
	}
	grp := page[start+2 : start+cb] // after the istd
	for len(grp) >= 2 {
		sprm := le.Uint16(grp)
		grp = grp[2:]
		size := sprmSize(sprm, grp)
		if size < 0 || size > len(grp) {
			return false
		}
		if (sprm == 0x2417 || sprm == 0x244C) && size == 1 && grp[0] == 1 {
			return true
		}
		grp = grp[size:]
	}
	return false
}

// sprmSize is the length of a Prl's operand ([MS-DOC] 2.2.5.1), or -1.
func sprmSize(sprm uint16, op []byte) int {
	switch sprm >> 13 {
	case 0, 1:
		return 1
	case 2, 4, 5:
		return 2
	case 3:
		return 4
	case 7:
		return 3
	}
	switch {
	case len(op) < 1:
		return -1
	case sprm == 0xD608 || sprm == 0xD606: // sprmTDefTable(10): a 2-byte size, plus one
		if len(op) < 2 {
			return -1
		}
		return 2 + int(le.Uint16(op)) - 1
	case sprm == 0xC615 && op[0] == 255: // sprmPChgTabs in its long form
		return -1
	}
	return 1 + int(op[0])
}
