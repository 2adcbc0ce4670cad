package xls

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// BIFF record types read here ([MS-XLS] 2.3).
const (
	recFormula    = 0x0006
	recEOF        = 0x000A
	recDateMode   = 0x0022
	recFilePass   = 0x002F
	recContinue   = 0x003C
	recCodePage   = 0x0042
	recBoundSheet = 0x0085
	recMulRK      = 0x00BD
	recMulBlank   = 0x00BE
	recRString    = 0x00D6
	recXF         = 0x00E0
	recSST        = 0x00FC
	recLabelSST   = 0x00FD
	recBlank      = 0x0201
	recNumber     = 0x0203
	recLabel      = 0x0204
	recBoolErr    = 0x0205
	recString     = 0x0207
	recRK         = 0x027E
	recFormat     = 0x041E
	recBOF        = 0x0809
)

var (
	errTruncated = errors.New("xls: a record runs past the end of the workbook stream")
	errShort     = errors.New("xls: a record is shorter than its kind requires")
)

// record is one BIFF record: its type, its data (without the CONTINUE
// records after it) and the stream offset of its header.
type record struct {
	typ  uint16
	data []byte
	off  int
}

// cursor walks the records of a workbook stream. Every record read counts
// against a budget shared by all walks over the stream, so sheets that
// point at the same records cannot multiply the work.
type cursor struct {
	b    []byte
	off  int
	left *int // records that may still be read
}

// next returns the record at the cursor and moves past it; ok is false at
// the end of the stream.
func (c *cursor) next() (r record, ok bool, err error) {
	if c.off+4 > len(c.b) {
		return record{}, false, nil
	}
	if *c.left <= 0 {
		return record{}, false, fmt.Errorf("xls: more records than the limit")
	}
	*c.left--
	typ := binary.LittleEndian.Uint16(c.b[c.off:])
	n := int(binary.LittleEndian.Uint16(c.b[c.off+2:]))
	if c.off+4+n > len(c.b) {
		return record{}, false, errTruncated
	}
	r = record{typ: typ, data: c.b[c.off+4 : c.off+4+n], off: c.off}
	c.off += 4 + n
	return r, true, nil
}

// continues returns the data of the CONTINUE records that follow the
// cursor, and moves past them.
func (c *cursor) continues() ([][]byte, error) {
	var frags [][]byte
	for c.off+4 <= len(c.b) && binary.LittleEndian.Uint16(c.b[c.off:]) == recContinue {
		r, _, err := c.next()
		if err != nil {
			return nil, err
		}
		frags = append(frags, r.data)
	}
	return frags, nil
}

// frags reads a record's data and the CONTINUE records after it as one
// sequence of bytes, except for characters: a string whose characters
// cross into a CONTINUE record starts that record with an option byte
// saying whether the rest is compressed (one byte per character) or
// UTF-16 ([MS-XLS] 2.1.7.20.4).
type frags struct {
	parts [][]byte
	i     int // current part
	off   int // offset in it
	rest  int // bytes not read yet
}

func newFrags(parts ...[]byte) *frags {
	f := &frags{parts: parts}
	for _, p := range parts {
		f.rest += len(p)
	}
	return f
}

func (f *frags) avail() int { return f.rest }

// settle moves to the next part when the current one is used up.
func (f *frags) settle() bool {
	for f.i < len(f.parts) && f.off >= len(f.parts[f.i]) {
		f.i++
		f.off = 0
	}
	return f.i < len(f.parts)
}

func (f *frags) byte() (byte, error) {
	if !f.settle() {
		return 0, errShort
	}
	b := f.parts[f.i][f.off]
	f.off++
	f.rest--
	return b, nil
}

func (f *frags) u16() (uint16, error) {
	lo, err := f.byte()
	if err != nil {
		return 0, err
	}
	hi, err := f.byte()
	return uint16(lo) | uint16(hi)<<8, err
}

func (f *frags) u32() (uint32, error) {
	lo, err := f.u16()
	if err != nil {
		return 0, err
	}
	hi, err := f.u16()
	return uint32(lo) | uint32(hi)<<16, err
}

// skip passes n bytes (rich-text runs, phonetic blocks): no option byte.
func (f *frags) skip(n int) error {
	if n > f.avail() {
		return errShort
	}
	for n > 0 {
		f.settle()
		k := min(n, len(f.parts[f.i])-f.off)
		f.off += k
		f.rest -= k
		n -= k
	}
	return nil
}

// chars reads n characters, compressed (Latin-1) or UTF-16LE as high says,
// re-reading the option byte at the start of each CONTINUE record the
// characters cross into.
func (f *frags) chars(n int, high bool) (string, error) {
	if n > f.avail() { // one byte per character at the least
		return "", errShort
	}
	u := make([]uint16, 0, n)
	for len(u) < n {
		if f.off >= len(f.parts[f.i]) {
			if f.i+1 >= len(f.parts) {
				return "", errShort
			}
			f.i, f.off = f.i+1, 0
			opt, err := f.byte() // the option byte re-emitted at the record's start
			if err != nil {
				return "", err
			}
			high = opt&0x01 != 0
			continue
		}
		p := f.parts[f.i]
		if !high {
			u = append(u, uint16(p[f.off]))
			f.off++
			f.rest--
			continue
		}
		if f.off+2 > len(p) { // a character split across records: malformed
			return "", errShort
		}
		u = append(u, binary.LittleEndian.Uint16(p[f.off:]))
		f.off += 2
		f.rest -= 2
	}
	return string(utf16.Decode(u)), nil
}

// bytesIn reads n bytes of an 8-bit string (BIFF5) in the code page.
func (f *frags) bytesIn(n int, cp encoding.Encoding) (string, error) {
	if n > f.avail() {
		return "", errShort
	}
	b := make([]byte, 0, n)
	for len(b) < n {
		f.settle()
		k := min(n-len(b), len(f.parts[f.i])-f.off)
		b = append(b, f.parts[f.i][f.off:f.off+k]...)
		f.off += k
		f.rest -= k
	}
	return decode8(b, cp), nil
}

// decode8 decodes an 8-bit string; Latin-1 when the code page is unknown.
func decode8(b []byte, cp encoding.Encoding) string {
	if cp != nil {
		if s, err := cp.NewDecoder().Bytes(b); err == nil {
			return string(s)
		}
	}
	u := make([]rune, len(b))
	for i, c := range b {
		u[i] = rune(c)
	}
	return string(u)
}

// codePage maps a CODEPAGE record's value to the encoding of 8-bit
// strings. BIFF8 strings are UTF-16 whatever it says (their compressed
// form is Latin-1); the code page matters for BIFF5 workbooks ("Book").
func codePage(cv uint16) encoding.Encoding {
	switch cv {
	case 932:
		return japanese.ShiftJIS
	case 936:
		return simplifiedchinese.GBK
	case 949:
		return korean.EUCKR
	case 950:
		return traditionalchinese.Big5
	case 874:
		return charmap.Windows874
	case 1250:
		return charmap.Windows1250
	case 1251:
		return charmap.Windows1251
	case 1252, 0x8001: // 0x8001: Windows 1252 as BIFF5 spells it
		return charmap.Windows1252
	case 1253:
		return charmap.Windows1253
	case 1254:
		return charmap.Windows1254
	case 1255:
		return charmap.Windows1255
	case 1256:
		return charmap.Windows1256
	case 1257:
		return charmap.Windows1257
	case 1258:
		return charmap.Windows1258
	case 10000, 0x8000: // Mac Roman
		return charmap.Macintosh
	}
	return nil
}

// strReader reads the strings of one workbook: BIFF8 Unicode strings, or
// BIFF5 8-bit strings in the workbook's code page.
type strReader struct {
	biff8 bool
	cp    encoding.Encoding
}

// str reads a string whose length field is lenBytes (1 or 2) wide:
// XLUnicodeString / ShortXLUnicodeString in BIFF8 (length, option byte,
// characters), length and bytes in BIFF5.
func (s strReader) str(f *frags, lenBytes int) (string, error) {
	var n int
	if lenBytes == 1 {
		b, err := f.byte()
		if err != nil {
			return "", err
		}
		n = int(b)
	} else {
		v, err := f.u16()
		if err != nil {
			return "", err
		}
		n = int(v)
	}
	if !s.biff8 {
		return f.bytesIn(n, s.cp)
	}
	opt, err := f.byte()
	if err != nil {
		return "", err
	}
	return f.chars(n, opt&0x01 != 0)
}

// one returns a frags over a single record's data.
func one(b []byte) *frags { return newFrags(b) }
