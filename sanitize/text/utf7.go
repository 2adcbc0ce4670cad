package text

import (
	"errors"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/transform"
)

var errUTF7 = errors.New("text: invalid UTF-7")

// utf7Encoding decodes UTF-7 (RFC 2152). It only decodes: we never write
// UTF-7. The decoder needs the whole input at once (bodies and header words
// are decoded whole).
type utf7Encoding struct{}

func (utf7Encoding) NewDecoder() *encoding.Decoder {
	return &encoding.Decoder{Transformer: &utf7Decoder{}}
}

func (utf7Encoding) NewEncoder() *encoding.Encoder {
	return &encoding.Encoder{Transformer: errTransformer{}}
}

type errTransformer struct{ transform.NopResetter }

func (errTransformer) Transform(_, _ []byte, _ bool) (int, int, error) { return 0, 0, errUTF7 }

type utf7Decoder struct{ transform.NopResetter }

func (d *utf7Decoder) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	if !atEOF {
		return 0, 0, transform.ErrShortSrc
	}
	out, err := decodeUTF7(src)
	if err != nil {
		return 0, 0, err
	}
	if len(out) > len(dst) {
		return 0, 0, transform.ErrShortDst
	}
	return copy(dst, out), len(src), nil
}

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// decodeUTF7 decodes a whole UTF-7 text.
func decodeUTF7(src []byte) ([]byte, error) {
	var out []byte
	for i := 0; i < len(src); {
		c := src[i]
		if c >= 0x80 {
			return nil, errUTF7
		}
		if c != '+' {
			out = append(out, c)
			i++
			continue
		}
		i++
		if i < len(src) && src[i] == '-' { // "+-" is a literal plus
			out = append(out, '+')
			i++
			continue
		}
		var bits, nbits uint32
		var units []uint16
		for i < len(src) {
			v := indexB64(src[i])
			if v < 0 {
				break
			}
			bits = bits<<6 | uint32(v)
			nbits += 6
			if nbits >= 16 {
				nbits -= 16
				units = append(units, uint16(bits>>nbits))
				bits &= 1<<nbits - 1
			}
			i++
		}
		if bits != 0 { // leftover bits must be zero padding
			return nil, errUTF7
		}
		for _, r := range utf16.Decode(units) {
			if r == utf8.RuneError {
				return nil, errUTF7
			}
			out = utf8.AppendRune(out, r)
		}
		if i < len(src) && src[i] == '-' { // the terminating '-' is absorbed
			i++
		}
	}
	return out, nil
}

func indexB64(c byte) int {
	for i := 0; i < len(b64Alphabet); i++ {
		if b64Alphabet[i] == c {
			return i
		}
	}
	return -1
}
