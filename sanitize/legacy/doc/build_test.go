package doc

import (
	"encoding/binary"
	"unicode/utf16"

	"mugai/sanitize/legacy/internal/cfbwrite"
)

// rowMark in a test piece is written as 0x07 and marked as the end of a
// table row in the paragraph properties; a plain "\a" is a cell mark.
const rowMark = '\uE000'

// testPiece is a run of text stored compressed (CP1252) or as UTF-16.
type testPiece struct {
	text       string
	compressed bool
}

// testDoc describes a minimal Word 97 document.
type testDoc struct {
	pieces []testPiece
	ccp    [8]uint32 // story lengths; ccp[0] = 0 means all the text is main text
	flags  uint16    // extra FibBase flags (fEncrypted …)
	nFib   uint16    // 0: Word 97
	table0 bool      // the piece table in 0Table instead of 1Table
}

var toCP1252 = map[rune]byte{}

func init() {
	for b, r := range compressed {
		if r != 0 {
			toCP1252[r] = byte(b)
		}
	}
}

// build writes the document as a compound file.
func (d testDoc) build() []byte {
	wd := make([]byte, 1024) // the FIB, then text from 1024
	type pcd struct{ cpStart, cpEnd, fc uint32 }
	var pcds []pcd
	var rows [][2]uint32 // FC ranges of row marks
	var cp uint32
	for _, p := range d.pieces {
		start := cp
		off := uint32(len(wd))
		for _, r := range p.text {
			mark := r == rowMark
			if mark {
				r = 0x07
			}
			fc := uint32(len(wd))
			switch {
			case p.compressed:
				b, ok := toCP1252[r]
				if !ok {
					b = byte(r)
				}
				wd = append(wd, b)
				cp++
			default:
				for _, u := range utf16.Encode([]rune{r}) {
					wd = binary.LittleEndian.AppendUint16(wd, u)
					cp++
				}
			}
			if mark {
				rows = append(rows, [2]uint32{fc, uint32(len(wd))})
			}
		}
		fc := off
		if p.compressed {
			fc = off*2 | 1<<30
		}
		pcds = append(pcds, pcd{start, cp, fc})
	}
	// One FKP page marking the row ends.
	for len(wd)%512 != 0 {
		wd = append(wd, 0)
	}
	pn := uint32(len(wd) / 512)
	wd = append(wd, fkp(rows)...)

	table := []byte{0x01, 2, 0, 0xAA, 0xBB} // a Prc to skip
	plc := []byte{}
	for _, p := range pcds {
		plc = binary.LittleEndian.AppendUint32(plc, p.cpStart)
	}
	plc = binary.LittleEndian.AppendUint32(plc, cp)
	for _, p := range pcds {
		plc = append(plc, 0, 0)
		plc = binary.LittleEndian.AppendUint32(plc, p.fc)
		plc = append(plc, 0, 0)
	}
	table = append(table, 0x02)
	table = binary.LittleEndian.AppendUint32(table, uint32(len(plc)))
	table = append(table, plc...)
	fcBte := uint32(len(table))
	if len(rows) > 0 {
		table = binary.LittleEndian.AppendUint32(table, rows[0][0])
		table = binary.LittleEndian.AppendUint32(table, rows[len(rows)-1][1])
		table = binary.LittleEndian.AppendUint32(table, pn)
	}

	ccp := d.ccp
	if ccp == [8]uint32{} {
		ccp[0] = cp
	}
	d.fib(wd, ccp, fcBte, fcBte, uint32(len(table))-fcBte) // the CLX is table[:fcBte]
	name := "1Table"
	if d.table0 {
		name = "0Table"
	}
	return cfbwrite.Build(cfbwrite.Entry{Name: "WordDocument", Data: wd}, cfbwrite.Entry{Name: name, Data: table})
}

// fib writes the FIB: FibBase, FibRgW97, FibRgLw97, FibRgFcLcb97.
func (d testDoc) fib(wd []byte, ccp [8]uint32, lcbClx, fcBte, lcbBte uint32) {
	le := binary.LittleEndian
	le.PutUint16(wd[0:], fibMagic)
	nFib := d.nFib
	if nFib == 0 {
		nFib = 0x00C1
	}
	le.PutUint16(wd[2:], nFib)
	flags := d.flags | 0x0004 // fComplex
	if !d.table0 {
		flags |= fWhichTblStm
	}
	le.PutUint16(wd[0x0A:], flags)
	le.PutUint16(wd[32:], 14)
	lw := 34 + 28
	le.PutUint16(wd[lw:], 22)
	for i, n := range ccp {
		le.PutUint32(wd[lw+2+4*(3+i):], n)
	}
	rg := lw + 2 + 88
	le.PutUint16(wd[rg:], 0x5D)
	pairs := rg + 2
	le.PutUint32(wd[pairs+8*33:], 0)
	le.PutUint32(wd[pairs+8*33+4:], lcbClx)
	le.PutUint32(wd[pairs+8*13:], fcBte)
	le.PutUint32(wd[pairs+8*13+4:], lcbBte)
}

// fkp writes a PapxFkp page whose runs over rows carry sprmPFInTable and
// sprmPFTtp; the runs between them carry no properties.
func fkp(rows [][2]uint32) []byte {
	page := make([]byte, 512)
	var fcs []uint32
	var ttp []bool
	for i, r := range rows {
		if i > 0 && rows[i-1][1] < r[0] {
			fcs, ttp = append(fcs, rows[i-1][1]), append(ttp, false)
		}
		fcs, ttp = append(fcs, r[0]), append(ttp, true)
	}
	if len(rows) > 0 {
		fcs = append(fcs, rows[len(rows)-1][1])
	}
	crun := len(ttp)
	for i, fc := range fcs {
		binary.LittleEndian.PutUint32(page[4*i:], fc)
	}
	const papx = 400 // bOffset 200
	copy(page[papx:], []byte{0, 4, 0, 0, 0x16, 0x24, 1, 0x17, 0x24, 1})
	for k, t := range ttp {
		if t {
			page[4*(crun+1)+13*k] = papx / 2
		}
	}
	page[511] = byte(crun)
	return page
}
