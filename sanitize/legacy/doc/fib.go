package doc

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"mugai/sanitize/format"
	"mugai/sanitize/legacy/internal/ole"
)

var le = binary.LittleEndian

// FibBase flags ([MS-DOC] 2.5.2).
const (
	fibMagic      = 0xA5EC
	fibMagic95    = 0xA5DC // Word 6 and Word 95
	fEncrypted    = 0x0100
	fWhichTblStm  = 0x0200
	fObfuscated   = 0x8000
	minFibVersion = 0x00C1 // Word 97; earlier versions have another FIB
)

// fib holds what the File Information Block says about the text.
type fib struct {
	flags uint16
	// ccp are the stories' lengths in characters, in CP order: main text,
	// footnotes, headers, (macros, reserved), comments, endnotes, text
	// boxes, header text boxes ([MS-DOC] 2.5.7 FibRgLw97).
	ccp                  [8]uint32
	fcClx, lcbClx        uint32
	fcBtePapx, lcbBtePap uint32
}

// story indices into fib.ccp.
const (
	storyMain = iota
	storyFootnote
	storyHeader
	storyMacro
	storyComment
	storyEndnote
	storyTextbox
	storyHeaderTextbox
)

// parseFIB reads the FibBase, FibRgLw97 and FibRgFcLcb97 of the
// WordDocument stream, taking each section's length from its count.
func parseFIB(wd []byte) (fib, error) {
	var f fib
	if len(wd) >= 2 && le.Uint16(wd) == fibMagic95 {
		return f, errOld
	}
	if len(wd) < 34 || le.Uint16(wd) != fibMagic {
		return f, errNotWord
	}
	if le.Uint16(wd[2:]) < minFibVersion {
		return f, errOld
	}
	f.flags = le.Uint16(wd[0x0A:])
	if f.flags&(fEncrypted|fObfuscated) != 0 {
		return f, ErrEncrypted
	}
	off := 32
	csw := int(le.Uint16(wd[off:]))
	off += 2 + 2*csw
	if off+2 > len(wd) {
		return f, errNotWord
	}
	cslw := int(le.Uint16(wd[off:]))
	lw := off + 2
	off = lw + 4*cslw
	if cslw < 11 || off+2 > len(wd) {
		return f, errNotWord
	}
	for i, k := range []int{3, 4, 5, 6, 7, 8, 9, 10} { // ccpText … ccpHdrTxbx
		f.ccp[i] = le.Uint32(wd[lw+4*k:])
	}
	cb := int(le.Uint16(wd[off:]))
	pairs := off + 2
	if cb < 34 || pairs+8*cb > len(wd) {
		return f, errNotWord
	}
	pair := func(i int) (uint32, uint32) {
		return le.Uint32(wd[pairs+8*i:]), le.Uint32(wd[pairs+8*i+4:])
	}
	f.fcClx, f.lcbClx = pair(33)
	f.fcBtePapx, f.lcbBtePap = pair(13)
	return f, nil
}

// piece is a run of characters [cpStart, cpEnd) stored at fc in the
// WordDocument stream: CP1252 bytes at fc/2 when compressed, else UTF-16LE.
type piece struct {
	cpStart, cpEnd uint32
	fc             uint32
	compressed     bool
}

// parseCLX reads the piece table: Prc entries (formatting) are skipped,
// then the Pcdt holds the PlcPcd ([MS-DOC] 2.9.38).
func parseCLX(clx []byte, maxPieces int) ([]piece, error) {
	off := 0
	for n := 0; off < len(clx) && clx[off] == 0x01; n++ {
		if off+3 > len(clx) || n > maxPieces {
			return nil, fmt.Errorf("doc: malformed piece table")
		}
		cb := int(int16(le.Uint16(clx[off+1:])))
		if cb < 0 {
			return nil, fmt.Errorf("doc: malformed piece table")
		}
		off += 3 + cb
	}
	if off+5 > len(clx) || clx[off] != 0x02 {
		return nil, fmt.Errorf("doc: no piece table")
	}
	lcb := int64(le.Uint32(clx[off+1:]))
	plc := clx[off+5:]
	if lcb < 4 || lcb > int64(len(plc)) || (lcb-4)%12 != 0 {
		return nil, fmt.Errorf("doc: malformed piece table")
	}
	n := int((lcb - 4) / 12)
	if n > maxPieces {
		return nil, fmt.Errorf("%w: %d pieces", errLimit, n)
	}
	pieces := make([]piece, 0, n)
	for i := 0; i < n; i++ {
		start, end := le.Uint32(plc[4*i:]), le.Uint32(plc[4*i+4:])
		if end < start || (i > 0 && start < pieces[i-1].cpEnd) {
			return nil, fmt.Errorf("doc: piece table out of order")
		}
		fc := le.Uint32(plc[4*(n+1)+8*i+2:])
		pieces = append(pieces, piece{cpStart: start, cpEnd: end, fc: fc & 0x3FFFFFFF, compressed: fc&(1<<30) != 0})
	}
	return pieces, nil
}

// result is what extract read.
type result struct {
	text string
	cut  bool // text cut at max characters
	max  int
}

// stories are written in this order, under these headings.
var stories = []struct {
	idx  int
	head string
}{
	{storyMain, ""},
	{storyTextbox, "テキスト ボックス / text boxes"},
	{storyHeader, "ヘッダーとフッター / headers and footers"},
	{storyFootnote, "脚注 / footnotes"},
	{storyEndnote, "文末脚注 / endnotes"},
}

// extract reads the document's text.
func (e *Extractor) extract(ctx context.Context, data []byte, budget *format.Budget) (result, error) {
	st, err := ole.Streams(data, budget, "WordDocument", "0Table", "1Table")
	if err != nil {
		return result{}, err
	}
	return e.fromStreams(ctx, st)
}

// fromStreams reads the text from the WordDocument and table streams.
func (e *Extractor) fromStreams(ctx context.Context, st map[string][]byte) (result, error) {
	wd := st["WordDocument"]
	if wd == nil {
		return result{}, errNotWord
	}
	f, err := parseFIB(wd)
	if err != nil {
		return result{}, err
	}
	table := st["0Table"]
	if f.flags&fWhichTblStm != 0 {
		table = st["1Table"]
	}
	clx, ok := slice(table, f.fcClx, f.lcbClx)
	if !ok {
		return result{}, fmt.Errorf("doc: piece table outside the table stream")
	}
	pieces, err := parseCLX(clx, orDefault(e.MaxPieces, DefaultMaxPieces))
	if err != nil {
		return result{}, err
	}
	w := &writer{rows: rowEnds(table, wd, f), max: orDefault(e.MaxText, DefaultMaxText)}
	var cp uint32
	var out strings.Builder
	starts := [8]uint32{}
	for i, n := range f.ccp {
		starts[i] = cp
		cp += n
	}
	for _, s := range stories {
		if f.ccp[s.idx] == 0 {
			continue
		}
		w.reset()
		if err := w.story(ctx, wd, pieces, starts[s.idx], starts[s.idx]+f.ccp[s.idx]); err != nil {
			return result{}, err
		}
		body := strings.TrimSpace(w.b.String())
		if body == "" {
			continue
		}
		if s.head != "" {
			out.WriteString("\n--- " + s.head + " ---\n")
		}
		out.WriteString(body + "\n")
		if w.cut {
			break
		}
	}
	return result{text: tidy(out.String()), cut: w.cut, max: w.max}, nil
}

// slice returns b[off:off+n] when it lies within b.
func slice(b []byte, off, n uint32) ([]byte, bool) {
	end := uint64(off) + uint64(n)
	if end > uint64(len(b)) {
		return nil, false
	}
	return b[off:end], true
}

// tidy trims spaces at line ends and keeps at most one blank line in a row.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if blank++; blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
