package sanitizetest

import (
	"encoding/binary"
	"unicode/utf16"
)

// TNEF writes a TNEF stream (winmail.dat, MS-OXTNEF) attribute by
// attribute.
type TNEF struct {
	B []byte // the stream so far
}

// NewTNEF starts a stream: the signature and a key.
func NewTNEF() *TNEF {
	t := &TNEF{}
	t.B = binary.LittleEndian.AppendUint32(t.B, 0x223E9F78)
	t.B = binary.LittleEndian.AppendUint16(t.B, 1)
	return t
}

// Attr appends one attribute: level 1 (message) or 2 (attachment), the
// attribute id (type in the high word), its data and its checksum.
func (t *TNEF) Attr(level byte, id uint32, data []byte) *TNEF {
	t.B = append(t.B, level)
	t.B = binary.LittleEndian.AppendUint32(t.B, id)
	t.B = binary.LittleEndian.AppendUint32(t.B, uint32(len(data)))
	t.B = append(t.B, data...)
	sum := uint16(0)
	for _, c := range data {
		sum += uint16(c)
	}
	t.B = binary.LittleEndian.AppendUint16(t.B, sum)
	return t
}

// Prop is one variable-length MAPI property: its tag (id in the high
// word, type in the low one) and its value.
type Prop struct {
	Tag  uint32
	Data []byte
}

// Props encodes attMsgProps with one value per property, after a
// fixed-size one and a named one to exercise the reader.
func Props(props ...Prop) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, uint32(len(props)+2))
	b = binary.LittleEndian.AppendUint32(b, 0x00170003) // PR_IMPORTANCE, long
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, 0x8001000B) // named boolean
	b = append(b, make([]byte, 16)...)                  // GUID
	b = binary.LittleEndian.AppendUint32(b, 0)          // kind: id
	b = binary.LittleEndian.AppendUint32(b, 0x8501)
	b = binary.LittleEndian.AppendUint32(b, 1)
	for _, p := range props {
		b = binary.LittleEndian.AppendUint32(b, p.Tag)
		b = binary.LittleEndian.AppendUint32(b, 1) // one value
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p.Data)))
		b = append(b, p.Data...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return b
}

// UTF16 is s in UTF-16LE with a terminating NUL, as MAPI strings are.
func UTF16(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s + "\x00")) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}
