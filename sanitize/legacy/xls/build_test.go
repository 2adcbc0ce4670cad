package xls

import (
	"encoding/binary"
	"math"
	"testing"
	"unicode/utf16"
)

// This file builds the test inputs: compound files (after buildCFB in
// sanitize/detect/cfb_test.go, with storages and more sectors) and BIFF8
// workbook streams record by record.

// cfbEntry is a stream (data != nil) or a storage, under the root or
// under the storage at index parent.
type cfbEntry struct {
	name   string
	data   []byte
	parent int // -1: the root
}

// buildCFB writes a version 3 compound file (512-byte sectors). Streams
// are padded to 4096 bytes so that none goes into the mini stream.
func buildCFB(t testing.TB, entries ...cfbEntry) []byte {
	t.Helper()
	const sector, endChain, fatSect, free, noStream = 512, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF, 0xFFFFFFFF
	dirSectors := (len(entries) + 1 + 3) / 4
	var streamSectors []int
	total := dirSectors
	for i := range entries {
		if d := entries[i].data; d != nil {
			n := max(4096, len(d))
			n = (n + sector - 1) / sector * sector
			entries[i].data = append(d, make([]byte, n-len(d))...)
			streamSectors = append(streamSectors, n/sector)
			total += n / sector
		} else {
			streamSectors = append(streamSectors, 0)
		}
	}
	fatSectors := 1
	for (total+fatSectors+127)/128 > fatSectors {
		fatSectors++
	}
	if fatSectors > 109 {
		t.Fatal("buildCFB: the header's DIFAT holds 109 FAT sectors")
	}
	var fat []uint32
	for range fatSectors {
		fat = append(fat, fatSect)
	}
	chain := func(n int) uint32 {
		start := uint32(len(fat))
		for k := 0; k < n; k++ {
			next := uint32(len(fat) + 1)
			if k == n-1 {
				next = endChain
			}
			fat = append(fat, next)
		}
		return start
	}
	dirStart := chain(dirSectors)
	starts := make([]uint32, len(entries))
	for i, n := range streamSectors {
		if n > 0 {
			starts[i] = chain(n)
		}
	}
	for len(fat)%128 != 0 {
		fat = append(fat, free)
	}
	hdr := make([]byte, sector)
	copy(hdr, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})
	binary.LittleEndian.PutUint16(hdr[24:], 0x3E)
	binary.LittleEndian.PutUint16(hdr[26:], 3)
	binary.LittleEndian.PutUint16(hdr[28:], 0xFFFE)
	binary.LittleEndian.PutUint16(hdr[30:], 9)
	binary.LittleEndian.PutUint16(hdr[32:], 6)
	binary.LittleEndian.PutUint32(hdr[44:], uint32(fatSectors))
	binary.LittleEndian.PutUint32(hdr[48:], dirStart)
	binary.LittleEndian.PutUint32(hdr[56:], 4096)
	binary.LittleEndian.PutUint32(hdr[60:], endChain)
	binary.LittleEndian.PutUint32(hdr[68:], endChain)
	for i := 0; i < 109; i++ {
		v := uint32(free)
		if i < fatSectors {
			v = uint32(i)
		}
		binary.LittleEndian.PutUint32(hdr[76+4*i:], v)
	}
	dir := make([]byte, dirSectors*sector)
	// Children of each storage are chained through their right siblings.
	child := map[int]uint32{}
	right := make([]uint32, len(entries))
	for i := len(entries) - 1; i >= 0; i-- {
		p := entries[i].parent
		right[i] = noStream
		if c, ok := child[p]; ok {
			right[i] = c
		}
		child[p] = uint32(i + 1)
	}
	put := func(i int, name string, typ byte, right, child, start uint32, size uint64) {
		e := dir[i*128 : (i+1)*128]
		u := utf16.Encode([]rune(name))
		for k, c := range u {
			binary.LittleEndian.PutUint16(e[2*k:], c)
		}
		binary.LittleEndian.PutUint16(e[64:], uint16(2*len(u)+2))
		e[66], e[67] = typ, 1
		binary.LittleEndian.PutUint32(e[68:], noStream)
		binary.LittleEndian.PutUint32(e[72:], right)
		binary.LittleEndian.PutUint32(e[76:], child)
		binary.LittleEndian.PutUint32(e[116:], start)
		binary.LittleEndian.PutUint64(e[120:], size)
	}
	rootChild, ok := child[-1]
	if !ok {
		rootChild = noStream
	}
	put(0, "Root Entry", 5, noStream, rootChild, endChain, 0)
	for i, e := range entries {
		c, ok := child[i]
		if !ok {
			c = noStream
		}
		if e.data == nil {
			put(i+1, e.name, 1, right[i], c, 0, 0)
		} else {
			put(i+1, e.name, 2, right[i], noStream, starts[i], uint64(len(e.data)))
		}
	}
	for i := len(entries) + 1; i < dirSectors*4; i++ { // unused entries
		binary.LittleEndian.PutUint32(dir[i*128+68:], noStream)
		binary.LittleEndian.PutUint32(dir[i*128+72:], noStream)
		binary.LittleEndian.PutUint32(dir[i*128+76:], noStream)
	}
	out := hdr
	for _, v := range fat {
		out = binary.LittleEndian.AppendUint32(out, v)
	}
	out = append(out, dir...)
	for _, e := range entries {
		out = append(out, e.data...)
	}
	return out
}

// Record bytes.

func u16(v uint16) []byte  { return binary.LittleEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte  { return binary.LittleEndian.AppendUint32(nil, v) }
func f64(v float64) []byte { return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// rec is a record: type, size, data.
func rec(typ uint16, data ...[]byte) []byte {
	d := cat(data...)
	return cat(u16(typ), u16(uint16(len(d))), d)
}

func bof(vers, dt uint16) []byte {
	if vers == biff5 {
		return rec(recBOF, u16(vers), u16(dt), u16(0), u16(0))
	}
	return rec(recBOF, u16(vers), u16(dt), u16(0), u16(0), u32(0), u32(0))
}

func eof() []byte { return rec(recEOF) }

// ustr is a BIFF8 string: length (lenBytes wide), option byte, characters
// compressed when every one fits a byte, UTF-16 otherwise.
func ustr(s string, lenBytes int) []byte {
	u := utf16.Encode([]rune(s))
	var b []byte
	if lenBytes == 1 {
		b = []byte{byte(len(u))}
	} else {
		b = u16(uint16(len(u)))
	}
	if !wide(u) {
		b = append(b, 0)
		for _, c := range u {
			b = append(b, byte(c))
		}
		return b
	}
	b = append(b, 1)
	for _, c := range u {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

func wide(u []uint16) bool {
	for _, c := range u {
		if c > 0xFF {
			return true
		}
	}
	return false
}

func cellHead(row, col, ixfe uint16) []byte { return cat(u16(row), u16(col), u16(ixfe)) }

func number(row, col, ixfe uint16, v float64) []byte {
	return rec(recNumber, cellHead(row, col, ixfe), f64(v))
}
func labelSST(row, col, ixfe uint16, i uint32) []byte {
	return rec(recLabelSST, cellHead(row, col, ixfe), u32(i))
}
func label(row, col uint16, s string) []byte { return rec(recLabel, cellHead(row, col, 0), ustr(s, 2)) }
func xf(ifmt uint16) []byte                  { return rec(recXF, u16(0), u16(ifmt), make([]byte, 16)) }
func numFormat(id uint16, code string) []byte {
	return rec(recFormat, u16(id), ustr(code, 2))
}

// formulaRec is a FORMULA record with the cached value bytes given and
// a parsed formula (rgce) after the fixed part.
func formulaRec(row, col, ixfe uint16, value []byte, rgce []byte) []byte {
	return rec(recFormula, cellHead(row, col, ixfe), value, u16(0), u32(0), u16(uint16(len(rgce))), rgce)
}

// special is a FormulaValue for a non-number result.
func special(kind, v byte) []byte { return []byte{kind, 0, v, 0, 0, 0, 0xFF, 0xFF} }

// bsheet is one sheet of a built workbook.
type bsheet struct {
	name   string
	hidden byte
	kind   byte   // BOUNDSHEET8 type
	bofDT  uint16 // BOF type of the substream; 0: worksheet
	body   [][]byte
}

// book builds a workbook stream: globals (head records, BOUNDSHEET8s, tail
// records such as the SST), then each sheet's substream.
type book struct {
	vers       uint16 // 0: BIFF8
	head, tail [][]byte
	sheets     []bsheet
}

func (b book) bytes() []byte {
	vers := b.vers
	if vers == 0 {
		vers = biff8
	}
	lenStr := func(s string) []byte {
		if vers == biff5 {
			return append([]byte{byte(len(s))}, s...)
		}
		return ustr(s, 1)
	}
	bound := func(pos uint32, s bsheet) []byte {
		return rec(recBoundSheet, u32(pos), []byte{s.hidden, s.kind}, lenStr(s.name))
	}
	globals := cat(bof(vers, bofGlobals), cat(b.head...))
	size := len(globals) + len(cat(b.tail...)) + len(eof())
	for _, s := range b.sheets {
		size += len(bound(0, s))
	}
	pos := size
	var bounds, subs []byte
	for _, s := range b.sheets {
		bounds = append(bounds, bound(uint32(pos), s)...)
		dt := s.bofDT
		if dt == 0 {
			dt = bofWorksheet
		}
		sub := cat(bof(vers, dt), cat(s.body...), eof())
		subs = append(subs, sub...)
		pos += len(sub)
	}
	return cat(globals, bounds, cat(b.tail...), eof(), subs)
}

// xlsFile is a compound file holding the stream as "Workbook".
func xlsFile(t testing.TB, stream []byte, more ...cfbEntry) []byte {
	return buildCFB(t, append([]cfbEntry{{"Workbook", stream, -1}}, more...)...)
}

// sstString is a shared string with rich-text runs and a phonetic block.
type sstString struct {
	s    string
	runs int
	ext  []byte // ExtRst bytes
}

// sstRecords writes an SST record and CONTINUE records of at most max
// data bytes each, split as Excel splits them: a string's header is never
// split; its characters may be, and the CONTINUE record then starts with
// an option byte, compressed or not as the characters in that record
// allow (so the form may change at the boundary); runs and phonetic
// blocks are split anywhere, with no option byte.
func sstRecords(strs []sstString, declared uint32, max int) []byte {
	var recs [][]byte
	cur := cat(u32(declared), u32(declared))
	flush := func() { recs = append(recs, cur); cur = nil }
	raw := func(b []byte) {
		for _, c := range b {
			if len(cur) >= max {
				flush()
			}
			cur = append(cur, c)
		}
	}
	for _, s := range strs {
		rem := utf16.Encode([]rune(s.s))
		hdr := 3
		if s.runs > 0 {
			hdr += 2
		}
		if s.ext != nil {
			hdr += 4
		}
		if max-len(cur) < hdr+2 {
			flush()
		}
		first := true
		for first || len(rem) > 0 {
			avail := max - len(cur)
			if !first {
				flush()
				avail = max - 1
			}
			n, high := min(len(rem), avail-hdrIf(first, hdr)), false
			if wide(rem[:n]) {
				n, high = min(len(rem), (avail-hdrIf(first, hdr))/2), true
			}
			opt := byte(0)
			if high {
				opt = 1
			}
			if first {
				if s.runs > 0 {
					opt |= 0x08
				}
				if s.ext != nil {
					opt |= 0x04
				}
				cur = append(cur, u16(uint16(len(utf16.Encode([]rune(s.s)))))...)
				cur = append(cur, opt)
				if s.runs > 0 {
					cur = append(cur, u16(uint16(s.runs))...)
				}
				if s.ext != nil {
					cur = append(cur, u32(uint32(len(s.ext)))...)
				}
			} else {
				cur = append(cur, opt)
			}
			for _, c := range rem[:n] {
				if high {
					cur = binary.LittleEndian.AppendUint16(cur, c)
				} else {
					cur = append(cur, byte(c))
				}
			}
			rem, first = rem[n:], false
		}
		for range s.runs {
			raw([]byte{0x11, 0x00, 0x01, 0x00}) // ich, ifnt
		}
		raw(s.ext)
	}
	if len(cur) > 0 {
		flush()
	}
	out := rec(recSST, recs[0])
	for _, r := range recs[1:] {
		out = append(out, rec(recContinue, r)...)
	}
	return out
}

func hdrIf(first bool, hdr int) int {
	if first {
		return hdr
	}
	return 0
}
