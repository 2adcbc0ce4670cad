package text

import (
	"encoding/binary"
	"errors"
	"strconv"
	"unicode/utf16"

	"golang.org/x/text/encoding/htmlindex"

	"mugai/policy"
)

// TNEF (winmail.dat, MS-OXTNEF) is Outlook's container for a message in
// rich text. When it carries the only body of a mail we extract that text:
// the plain body (PR_BODY), else the HTML body (PR_BODY_HTML) rendered, else
// the compressed RTF body (PR_RTF_COMPRESSED, MS-OXRTFCP) rendered, else
// the legacy attBody. Everything else in it (attachments, properties) is
// dropped with the part.

var errTNEF = errors.New("text: malformed TNEF")

const (
	tnefSignature  = 0x223E9F78
	attBodyID      = 0x800C
	attMsgPropsID  = 0x9003
	attCodepageID  = 0x9007
	propBody       = 0x1000
	propRTF        = 0x1009
	propBodyHTML   = 0x1013
	ptString8      = 0x001E
	ptUnicode      = 0x001F
	ptBinary       = 0x0102
	ptObject       = 0x000D
	maxTNEFProps   = 10000
	maxRTFExpanded = 16 << 20
)

// IsTNEF reports whether a part of the declared media type with body b is
// a TNEF container: declared as one, or starting with its signature.
func IsTNEF(mediaType string, b []byte) bool {
	switch mediaType {
	case "application/ms-tnef", "application/vnd.ms-tnef":
		return true
	}
	return len(b) >= 4 && binary.LittleEndian.Uint32(b) == tnefSignature
}

// TNEFText extracts the text body of a TNEF stream; ok is false when it
// has none or cannot be read.
func TNEFText(b []byte) (text string, ok bool) {
	body, err := tnefBodies(b)
	if err != nil {
		return "", false
	}
	switch {
	case body.plain != "":
		return body.plain, true
	case body.html != nil:
		s, _, _ := Decode(body.html, "")
		return HTMLToText([]byte(s), policy.LinksKeep).Text, true
	case body.rtf != nil:
		if raw, err := decompressRTF(body.rtf); err == nil {
			return RTFToText(raw), true
		}
	}
	if body.legacy != nil {
		return decodeCodepage(body.legacy, body.codepage), true
	}
	return "", false
}

type tnefBody struct {
	plain    string
	html     []byte
	rtf      []byte
	legacy   []byte // attBody, in the OEM code page
	codepage int
}

func tnefBodies(b []byte) (tnefBody, error) {
	var out tnefBody
	if len(b) < 6 || binary.LittleEndian.Uint32(b) != tnefSignature {
		return out, errTNEF
	}
	r := &byteReader{b: b[6:]}
	for r.left() > 0 {
		level, _ := r.u8()
		id, _ := r.u32()
		n, err := r.u32()
		if err != nil {
			return out, err
		}
		data, err := r.bytes(int(n))
		if err != nil {
			return out, err
		}
		if _, err := r.u16(); err != nil { // checksum; not trusted, not needed
			return out, err
		}
		if level != 1 { // attachment attributes: not the body
			continue
		}
		switch id & 0xFFFF {
		case attBodyID:
			out.legacy = data
		case attCodepageID:
			if len(data) >= 4 {
				out.codepage = int(binary.LittleEndian.Uint32(data))
			}
		case attMsgPropsID:
			if err := readMsgProps(data, &out); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// readMsgProps reads the encapsulated MAPI properties we care about.
func readMsgProps(data []byte, out *tnefBody) error {
	r := &byteReader{b: data}
	count, err := r.u32()
	if err != nil || count > maxTNEFProps {
		return errTNEF
	}
	for i := uint32(0); i < count; i++ {
		tag, err := r.u32()
		if err != nil {
			return err
		}
		typ, id := tag&0xFFFF, tag>>16
		if id >= 0x8000 { // named property: GUID, kind, id or name
			if _, err := r.bytes(16); err != nil {
				return err
			}
			kind, err := r.u32()
			if err != nil {
				return err
			}
			if kind == 0 {
				_, err = r.u32()
			} else {
				var n uint32
				if n, err = r.u32(); err == nil {
					_, err = r.padded(int(n))
				}
			}
			if err != nil {
				return err
			}
		}
		multi := typ&0x1000 != 0
		typ &^= 0x1000
		values := uint32(1)
		if multi || typ == ptString8 || typ == ptUnicode || typ == ptBinary || typ == ptObject {
			if values, err = r.u32(); err != nil || values > maxTNEFProps {
				return errTNEF
			}
		}
		for v := uint32(0); v < values; v++ {
			val, err := readPropValue(r, typ)
			if err != nil {
				return err
			}
			switch {
			case id == propBody && typ == ptUnicode:
				out.plain = utf16le(val)
			case id == propBody && typ == ptString8 && out.plain == "":
				out.plain = decodeCodepage(trimNUL(val), out.codepage)
			case id == propBodyHTML && (typ == ptBinary || typ == ptString8):
				out.html = trimNUL(val)
			case id == propRTF && typ == ptBinary:
				out.rtf = val
			}
		}
	}
	return nil
}

// readPropValue reads one value of a MAPI property type.
func readPropValue(r *byteReader, typ uint32) ([]byte, error) {
	switch typ {
	case 0x0002, 0x0003, 0x0004, 0x000A, 0x000B: // short, long, float, error, boolean: 4 bytes
		return r.bytes(4)
	case 0x0005, 0x0006, 0x0007, 0x0014, 0x0040: // double, currency, apptime, int64, systime
		return r.bytes(8)
	case 0x0048: // CLSID
		return r.bytes(16)
	case ptString8, ptUnicode, ptBinary, ptObject:
		n, err := r.u32()
		if err != nil {
			return nil, err
		}
		return r.padded(int(n))
	}
	return nil, errTNEF // a type we cannot size: stop rather than misread
}

// decompressRTF expands a PR_RTF_COMPRESSED stream (MS-OXRTFCP).
func decompressRTF(b []byte) ([]byte, error) {
	const preset = "{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx"
	if len(b) < 16 {
		return nil, errTNEF
	}
	rawSize := binary.LittleEndian.Uint32(b[4:])
	magic := binary.LittleEndian.Uint32(b[8:])
	src := b[16:]
	switch magic {
	case 0x414C454D: // "MELA": stored uncompressed
		return src[:min(len(src), int(rawSize))], nil
	case 0x75465A4C: // "LZFu"
	default:
		return nil, errTNEF
	}
	if rawSize > maxRTFExpanded {
		return nil, errTNEF
	}
	var dict [4096]byte
	copy(dict[:], preset)
	wp := len(preset)
	out := make([]byte, 0, rawSize)
	for i := 0; i < len(src); {
		control := src[i]
		i++
		for bit := 0; bit < 8 && i < len(src); bit++ {
			if control&(1<<bit) == 0 {
				c := src[i]
				i++
				out = append(out, c)
				dict[wp] = c
				wp = (wp + 1) % len(dict)
				continue
			}
			if i+1 >= len(src) {
				return out, nil
			}
			token := int(src[i])<<8 | int(src[i+1])
			i += 2
			offset, length := token>>4, token&0xF+2
			if offset == wp { // end of stream
				return out, nil
			}
			for k := 0; k < length; k++ {
				c := dict[(offset+k)%len(dict)]
				out = append(out, c)
				dict[wp] = c
				wp = (wp + 1) % len(dict)
			}
			if len(out) > maxRTFExpanded {
				return nil, errTNEF
			}
		}
	}
	return out, nil
}

func utf16le(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, binary.LittleEndian.Uint16(b[i:]))
	}
	for len(u) > 0 && u[len(u)-1] == 0 {
		u = u[:len(u)-1]
	}
	s, _ := Normalize(string(utf16.Decode(u)))
	return s
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// decodeCodepage decodes text in a Windows code page (932 for Japanese).
func decodeCodepage(b []byte, cp int) string {
	name := "windows-1252"
	switch cp {
	case 932:
		name = "shift_jis"
	case 936:
		name = "gbk"
	case 949:
		name = "euc-kr"
	case 950:
		name = "big5"
	case 65001:
		name = "utf-8"
	default:
		if cp >= 1250 && cp <= 1258 {
			if _, err := htmlindex.Get("windows-" + strconv.Itoa(cp)); err == nil {
				name = "windows-" + strconv.Itoa(cp)
			}
		}
	}
	s, _, _ := Decode(b, name)
	return s
}

// byteReader reads little-endian values from a bounded buffer.
type byteReader struct {
	b   []byte
	off int
}

func (r *byteReader) left() int { return len(r.b) - r.off }

func (r *byteReader) bytes(n int) ([]byte, error) {
	if n < 0 || n > r.left() {
		return nil, errTNEF
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b, nil
}

// padded reads n bytes and skips the padding to a 4-byte boundary.
func (r *byteReader) padded(n int) ([]byte, error) {
	b, err := r.bytes(n)
	if err != nil {
		return nil, err
	}
	if pad := (4 - n%4) % 4; pad > 0 {
		if _, err := r.bytes(min(pad, r.left())); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (r *byteReader) u8() (byte, error) {
	b, err := r.bytes(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (r *byteReader) u16() (uint16, error) {
	b, err := r.bytes(2)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(b), nil
}

func (r *byteReader) u32() (uint32, error) {
	b, err := r.bytes(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}
