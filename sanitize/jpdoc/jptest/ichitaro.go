package jptest

import (
	"encoding/binary"
	"unicode/utf16"
)

// IchitaroClass is the root class of 一太郎 8 and later documents.
const IchitaroClass = "{78597001-1D84-11CF-9713-0020AFD806F4}"

// Ichitaro is a 一太郎 8+ document whose body is units (see Units,
// Record, Inline): the streams every such file has, the text in
// DocumentText, and an empty macro storage as 一太郎 writes it.
func Ichitaro(units []uint16) []byte {
	return CFB(IchitaroClass,
		Entry{Path: "DocumentText", Data: DocumentText(units)},
		Entry{Path: "DocumentMacro/Macros/BaseStorage0/MacrosStream", Data: []byte{0, 0}},
		Entry{Path: "JSRV_SummaryInformation", Data: make([]byte, 64)},
	)
}

// Units is s as 一太郎 text units: UTF-16, "\n" ending a paragraph.
func Units(s string) []uint16 { return utf16.Encode([]rune(s)) }

// Record is an ordinary record: 001C class len payload… len 0000 class 001F.
func Record(class uint16, payload ...uint16) []uint16 {
	n := uint16(len(payload) + 7)
	out := append([]uint16{0x1C, class, n}, payload...)
	return append(out, n, 0, class, 0x1F)
}

// Inline is an inline record of kind (a, b) around text.
func Inline(a, b uint16, text string) []uint16 {
	out := append([]uint16{0x1C, 1, 7, 0, a, b, 0x1D}, Units(text)...)
	return append(out, 0x1E, 5, 0, 1, 0x1F)
}

// DocumentText is the DocumentText stream holding units in one piece
// (TextV.01) of an SsmgV.01 block store of 256-byte blocks.
func DocumentText(units []uint16) []byte {
	sub := []byte("TextV.01")
	sub = binary.BigEndian.AppendUint32(sub, uint32(len(units)))
	for _, u := range units {
		sub = binary.BigEndian.AppendUint16(sub, u)
	}
	sub = append(sub, 0)
	sub = binary.BigEndian.AppendUint32(sub, uint32(len(units))) // one style run
	return BlockStore(sub)
}

// Pieces is the DocumentText stream holding the text in pieces (QLSTV.01),
// each piece in a sub-stream of its own.
func Pieces(pieces ...[]uint16) []byte {
	list := []byte("QLSTV.01")
	list = binary.BigEndian.AppendUint32(list, uint32(len(pieces)))
	subs := [][]byte{list}
	for i, p := range pieces {
		list = binary.BigEndian.AppendUint32(list, uint32(len(p)))
		list = binary.BigEndian.AppendUint32(list, uint32(i+1))
		var b []byte
		for _, u := range p {
			b = binary.BigEndian.AppendUint16(b, u)
		}
		subs = append(subs, append(b, 0xFF))
	}
	subs[0] = list
	return BlockStore(subs...)
}

// BlockStore is an SsmgV.01 block store holding the sub-streams, their
// blocks written last first (a reader must follow the directory).
func BlockStore(subs ...[]byte) []byte {
	const size = 256
	var blocks [][]byte
	var ids [][]uint32
	for _, s := range subs {
		var own []uint32
		for off := 0; off < len(s) || off == 0; off += size {
			blk := make([]byte, size)
			copy(blk, s[min(off, len(s)):min(off+size, len(s))])
			own = append(own, uint32(len(blocks)))
			blocks = append(blocks, blk)
		}
		ids = append(ids, own)
	}
	// Written in reverse: block id i is at position len-1-i.
	out := []byte("SsmgV.01")
	out = binary.BigEndian.AppendUint32(out, uint32(len(subs)))
	out = binary.BigEndian.AppendUint32(out, size)
	out = binary.BigEndian.AppendUint32(out, uint32(len(blocks)))
	for i := len(blocks) - 1; i >= 0; i-- {
		out = append(out, blocks[i]...)
	}
	for k, s := range subs {
		out = binary.BigEndian.AppendUint32(out, uint32(k))
		out = binary.BigEndian.AppendUint32(out, 0)
		out = binary.BigEndian.AppendUint32(out, uint32(len(s)))
		out = binary.BigEndian.AppendUint32(out, uint32(len(ids[k])))
		out = binary.BigEndian.AppendUint32(out, uint32(len(ids[k])))
		for _, id := range ids[k] {
			out = binary.BigEndian.AppendUint32(out, uint32(len(blocks)-1)-id)
		}
	}
	return binary.BigEndian.AppendUint32(out, 0)
}
