package archive

import (
	"archive/zip"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
)

// WinZip AES (AE-1 and AE-2, as WinZip describes them and 7-Zip writes
// them): method 99, the real method in extra field 0x9901. The member's
// data is a salt (8, 12 or 16 bytes for AES-128, -192, -256), a 2-byte
// password verifier, the ciphertext (AES in CTR mode, the counter a
// little-endian number starting at 1), and the first 10 bytes of an
// HMAC-SHA1 of the ciphertext. The AES key, the HMAC key and the verifier
// come from PBKDF2-HMAC-SHA1 (1000 rounds) of the password and the salt.
// AE-1 keeps the plaintext's CRC-32; AE-2 writes 0 there (the MAC is the
// check).

const (
	aesExtraID    = 0x9901
	aesVerifyLen  = 2
	aesMACLen     = 10
	aesIterations = 1000
)

// aesParams is what the 0x9901 extra field says.
type aesParams struct {
	version uint16 // 1: AE-1, 2: AE-2
	keyLen  int    // 16, 24, 32
	method  uint16 // the real compression method
}

func (p aesParams) saltLen() int { return p.keyLen / 2 }

// parseAES reads a member's 0x9901 extra field and checks that its data
// can hold salt, verifier and MAC. Anything else is ErrUnsupported or
// ErrUnreadable.
func parseAES(f *zip.File) (aesParams, error) {
	var p aesParams
	field, ok := extraField(f.Extra, aesExtraID)
	if !ok || len(field) < 7 || string(field[2:4]) != "AE" {
		return p, fmt.Errorf("%w: %s: method 99 without a WinZip AES field", ErrUnsupported, f.Name)
	}
	p.version, p.method = binary.LittleEndian.Uint16(field[0:2]), binary.LittleEndian.Uint16(field[5:7])
	switch field[4] {
	case 1, 2, 3:
		p.keyLen = 8 + 8*int(field[4])
	default:
		return p, fmt.Errorf("%w: %s: AES strength %d", ErrUnsupported, f.Name, field[4])
	}
	switch {
	case p.version != 1 && p.version != 2:
		return p, fmt.Errorf("%w: %s: WinZip AES version %d", ErrUnsupported, f.Name, p.version)
	case p.method != zip.Store && p.method != zip.Deflate:
		return p, fmt.Errorf("%w: %s: method %d", ErrUnsupported, f.Name, p.method)
	case f.CompressedSize64 < uint64(p.saltLen()+aesVerifyLen+aesMACLen):
		return p, fmt.Errorf("%w: %s: shorter than its salt, verifier and MAC", ErrUnreadable, f.Name)
	}
	return p, nil
}

// extraField returns the data of the first extra field with id.
func extraField(extra []byte, id uint16) ([]byte, bool) {
	for len(extra) >= 4 {
		tag, size := binary.LittleEndian.Uint16(extra[0:2]), int(binary.LittleEndian.Uint16(extra[2:4]))
		extra = extra[4:]
		if size > len(extra) {
			return nil, false
		}
		if tag == id {
			return extra[:size], true
		}
		extra = extra[size:]
	}
	return nil, false
}

// winzipAES checks, decrypts and inflates one member. The password is
// checked by the verifier (one in 65,536 wrong passwords passes it), then
// the MAC over the whole ciphertext, before anything is decrypted or
// inflated. A MAC that fails after the verifier passed is ErrPassword: a
// wrong key that passed the verifier and a tampered ciphertext cannot be
// told apart, and nothing is released either way. Once the MAC holds, the
// data is what the password's holder wrote: a deflate stream that fails
// then is a defect of the archive (ErrUnreadable, ErrTooLarge), not of
// the password. AE-1's CRC-32 is checked last (a mismatch: ErrPassword,
// as for ZipCrypto).
func (d *decrypter) winzipAES(f *zip.File, raw []byte) ([]byte, error) {
	p, err := parseAES(f)
	if err != nil {
		return nil, err
	}
	salt := raw[:p.saltLen()]
	verifier := raw[p.saltLen() : p.saltLen()+aesVerifyLen]
	ciphertext := raw[p.saltLen()+aesVerifyLen : len(raw)-aesMACLen]
	mac := raw[len(raw)-aesMACLen:]

	if d.pw == "" && len(d.password) > 0 {
		d.pw = string(d.password) // once per archive: crypto/pbkdf2 takes a string
	}
	keys, err := pbkdf2.Key(sha1.New, d.pw, salt, aesIterations, 2*p.keyLen+aesVerifyLen)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: key derivation: %v", ErrUnsupported, f.Name, err)
	}
	defer clear(keys)
	aesKey, macKey := keys[:p.keyLen], keys[p.keyLen:2*p.keyLen]
	if subtle.ConstantTimeCompare(keys[2*p.keyLen:], verifier) != 1 {
		return nil, fmt.Errorf("%w: %s", ErrPassword, f.Name)
	}
	h := hmac.New(sha1.New, macKey)
	h.Write(ciphertext)
	if !hmac.Equal(h.Sum(nil)[:aesMACLen], mac) {
		return nil, fmt.Errorf("%w: %s: the authentication code differs", ErrPassword, f.Name)
	}
	block, err := aes.NewCipher(aesKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnsupported, f.Name, err)
	}
	ctr := newWinzipCTR(block)
	defer ctr.zero()
	b, crc, err := readPlain(f, p.method, cipher.StreamReader{S: ctr, R: bytes.NewReader(ciphertext)})
	if err != nil {
		return nil, err
	}
	if p.version == 1 && crc != f.CRC32 {
		clear(b)
		return nil, fmt.Errorf("%w: %s: CRC-32 differs after decryption", ErrPassword, f.Name)
	}
	return b, nil
}

// winzipCTR is AES in counter mode as WinZip uses it: the 16-byte counter
// block is a little-endian number, 1 for the first block (Go's cipher.CTR
// counts big-endian).
type winzipCTR struct {
	block   cipher.Block
	counter [aes.BlockSize]byte
	stream  [aes.BlockSize]byte
	used    int // bytes of stream used
}

func newWinzipCTR(b cipher.Block) *winzipCTR {
	return &winzipCTR{block: b, used: aes.BlockSize}
}

// XORKeyStream implements cipher.Stream.
func (c *winzipCTR) XORKeyStream(dst, src []byte) {
	for len(src) > 0 {
		if c.used == aes.BlockSize {
			for i := range c.counter { // little-endian increment
				c.counter[i]++
				if c.counter[i] != 0 {
					break
				}
			}
			c.block.Encrypt(c.stream[:], c.counter[:])
			c.used = 0
		}
		n := subtle.XORBytes(dst, src, c.stream[c.used:])
		c.used += n
		dst, src = dst[n:], src[n:]
	}
}

func (c *winzipCTR) zero() {
	clear(c.counter[:])
	clear(c.stream[:])
}
