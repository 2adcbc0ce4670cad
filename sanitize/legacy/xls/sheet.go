package xls

import (
	"context"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxCol is the last column of a BIFF5/BIFF8 sheet (IV).
const maxCol = 255

// grid is the values of one sheet, by row.
type grid struct {
	rows map[uint16][]cellText
}

type cellText struct {
	col  uint16
	text string
}

// tally counts over the whole workbook: cells kept and dropped at the
// cell limit, strings neutralised because a spreadsheet would run them.
type tally struct {
	cells, max, dropped, neutralised int
}

// pending is a formula whose string result is in the next STRING record.
type pending struct {
	set      bool
	row, col uint16
}

// readSheet reads the worksheet substream at c: its cell records, up to
// its EOF. A chart or other substream embedded in it (BOF … EOF) is
// skipped. ok is false when the substream is not a worksheet (a macro
// sheet, a chart, a VBA module, whatever BOUNDSHEET8 said); err is
// errNoSheet when no substream starts at c.
func (w *workbook) readSheet(ctx context.Context, c *cursor, t *tally) (g *grid, ok bool, err error) {
	r, ok, err := c.next()
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, errNoSheet
	}
	if r.typ != recBOF || len(r.data) < 4 {
		return nil, false, errNoSheet
	}
	if binary.LittleEndian.Uint16(r.data[2:]) != bofWorksheet {
		return nil, false, nil
	}
	g = &grid{rows: map[uint16][]cellText{}}
	var p pending
	depth := 0
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, false, err
			}
		}
		r, ok, err := c.next()
		if err != nil {
			return nil, false, err
		}
		switch {
		case !ok:
			return g, true, nil // no EOF: the stream ends the sheet
		case r.typ == recBOF:
			depth++
		case r.typ == recEOF && depth == 0:
			return g, true, nil
		case r.typ == recEOF:
			depth--
		case depth == 0:
			if err := w.cell(c, r, g, &p, t); err != nil {
				return nil, false, err
			}
		}
	}
}

// cellSize is the least size of each cell record.
var cellSize = map[uint16]int{recNumber: 14, recRK: 10, recMulRK: 6, recLabelSST: 10, recLabel: 6,
	recRString: 6, recBoolErr: 8, recFormula: 20}

// cell takes one record of a worksheet: the cell records give values,
// everything else (formats of blank cells, formulas' parsed expressions,
// shared formulas, objects, notes, hyperlinks) is passed over.
func (w *workbook) cell(c *cursor, r record, g *grid, p *pending, t *tally) error {
	d := r.data
	u16 := func(i int) uint16 { return binary.LittleEndian.Uint16(d[i:]) }
	need := cellSize[r.typ]
	if len(d) < need {
		return errShort
	}
	if need > 0 {
		p.set = false // a STRING record belongs to the formula just before it
	}
	switch r.typ {
	case recNumber:
		g.put(t, u16(0), u16(2), w.number(u16(4), math.Float64frombits(binary.LittleEndian.Uint64(d[6:]))), false)
	case recRK:
		g.put(t, u16(0), u16(2), w.number(u16(4), rkValue(binary.LittleEndian.Uint32(d[6:]))), false)
	case recMulRK:
		for i := 0; 4+6*i+6 <= len(d); i++ {
			off := 4 + 6*i
			g.put(t, u16(0), u16(2)+uint16(i), w.number(u16(off), rkValue(binary.LittleEndian.Uint32(d[off+2:]))), false)
		}
	case recLabelSST:
		if i := binary.LittleEndian.Uint32(d[6:]); int64(i) < int64(len(w.sst)) {
			g.put(t, u16(0), u16(2), w.sst[i], true)
		}
	case recLabel, recRString:
		s, err := w.strs.str(one(d[6:]), 2)
		if err != nil {
			return err
		}
		g.put(t, u16(0), u16(2), s, true)
	case recBoolErr:
		g.put(t, u16(0), u16(2), boolErr(d[6], d[7]), false)
	case recFormula:
		w.formula(d, g, p, t)
	case recString:
		conts, err := c.continues()
		if err != nil || !p.set {
			return err
		}
		p.set = false
		s, err := w.strs.str(newFrags(append([][]byte{d}, conts...)...), 2)
		if err != nil {
			return err
		}
		g.put(t, p.row, p.col, s, true)
	}
	return nil
}

// formula writes a FORMULA record's cached result, never the formula: a
// number (with the cell's format), a bool, an error, or a string that
// the STRING record after it holds ([MS-XLS] 2.5.133 FormulaValue).
func (w *workbook) formula(d []byte, g *grid, p *pending, t *tally) {
	row, col := binary.LittleEndian.Uint16(d), binary.LittleEndian.Uint16(d[2:])
	if d[12] != 0xFF || d[13] != 0xFF {
		g.put(t, row, col, w.number(binary.LittleEndian.Uint16(d[4:]), math.Float64frombits(binary.LittleEndian.Uint64(d[6:]))), false)
		return
	}
	switch d[6] {
	case 0:
		*p = pending{set: true, row: row, col: col}
	case 1:
		g.put(t, row, col, boolErr(d[8], 0), false)
	case 2:
		g.put(t, row, col, boolErr(d[8], 1), false)
	}
}

// rkValue decodes an RK number ([MS-XLS] 2.5.217): a 30-bit integer or
// the high 30 bits of a double, divided by 100 when fX100 is set.
func rkValue(rk uint32) float64 {
	var v float64
	if rk&0x02 != 0 {
		v = float64(int32(rk) >> 2)
	} else {
		v = math.Float64frombits(uint64(rk&0xFFFFFFFC) << 32)
	}
	if rk&0x01 != 0 {
		v /= 100
	}
	return v
}

// errorValues are the error codes of BOOLERR and FORMULA records.
var errorValues = map[byte]string{0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!",
	0x1D: "#NAME?", 0x24: "#NUM!", 0x2A: "#N/A", 0x2B: "#GETTING_DATA"}

func boolErr(v, isErr byte) string {
	switch {
	case isErr != 0:
		return errorValues[v]
	case v != 0:
		return "TRUE"
	}
	return "FALSE"
}

// number writes v with the format of the cell's XF.
func (w *workbook) number(ixfe uint16, v float64) string {
	code := ""
	if int(ixfe) < len(w.xfs) {
		id := w.xfs[ixfe]
		var ok bool
		if code, ok = w.formats[id]; !ok {
			code = builtinFormats[id]
		}
	}
	return formatNumber(code, v, w.date1904)
}

// put keeps one cell's text: on one line, and with an apostrophe before
// a string a spreadsheet opening the text would run as a formula. Past
// the workbook's cell limit cells are counted, not kept.
func (g *grid) put(t *tally, row, col uint16, s string, isString bool) {
	if col > maxCol {
		return
	}
	s = oneLine(s)
	if s == "" {
		return
	}
	if isString && isFormula(s) {
		s = "'" + s
		t.neutralised++
	}
	if t.cells >= t.max {
		t.dropped++
		return
	}
	t.cells++
	g.rows[row] = append(g.rows[row], cellText{col, s})
}

// oneLine puts a cell's text on one line: line breaks, tabs and other
// control characters become spaces.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return strings.TrimRight(s, " ")
	}
	return strings.TrimRight(strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s), " ")
}

func isControl(r rune) bool {
	return r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) || r == 0x2028 || r == 0x2029 || r == utf8.RuneError
}

// isFormula reports text a spreadsheet would take as a formula (=, +, -,
// @ first, ASCII or full-width) that is not just a number.
func isFormula(s string) bool {
	c := strings.TrimLeft(s, " \u3000")
	r, _ := utf8.DecodeRuneInString(c)
	switch r {
	case '=', '+', '-', '@', '＝', '＋', '－', '＠':
	default:
		return false
	}
	for _, r := range c {
		if (r < '0' || r > '9') && !strings.ContainsRune(".,+- ", r) {
			return true
		}
	}
	return false
}

// lines writes the grid's rows in order, cells at their columns, tabs
// between them.
func (g *grid) lines(fn func(line string) error) error {
	rows := make([]uint16, 0, len(g.rows))
	for r := range g.rows {
		rows = append(rows, r)
	}
	slices.Sort(rows)
	var b strings.Builder
	for _, r := range rows {
		cells := g.rows[r]
		slices.SortStableFunc(cells, func(a, b cellText) int { return int(a.col) - int(b.col) })
		b.Reset()
		col := 0
		for i, c := range cells {
			if i+1 < len(cells) && cells[i+1].col == c.col {
				continue // written twice: the last one counts
			}
			for ; col < int(c.col); col++ {
				b.WriteByte('\t')
			}
			b.WriteString(c.text)
		}
		if err := fn(b.String()); err != nil {
			return err
		}
	}
	return nil
}
