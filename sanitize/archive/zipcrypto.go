package archive

import (
	"archive/zip"
	"bytes"
	"fmt"
	"hash/crc32"
	"io"
)

// PKWARE traditional encryption ("ZipCrypto", APPNOTE 6.3.x section 6.1):
// three 32-bit keys, initialised from the password, updated with every
// plaintext byte; each member's data is preceded by a 12-byte encryption
// header whose last plaintext byte is a check byte. It is a weak cipher
// and its only integrity check is the member's CRC-32: both are checked.

// zipCryptoHeaderLen is the encryption header before each member's data.
const zipCryptoHeaderLen = 12

// zipCryptoKeys is the cipher's state.
type zipCryptoKeys [3]uint32

// zipCryptoKeysFor returns the keys after the password (6.1.5).
func zipCryptoKeysFor(password []byte) zipCryptoKeys {
	k := zipCryptoKeys{0x12345678, 0x23456789, 0x34567890}
	for _, b := range password {
		k.update(b)
	}
	return k
}

// crc32Byte is the CRC-32 step of 6.1.5 (no pre- or post-inversion).
func crc32Byte(crc uint32, b byte) uint32 {
	return crc>>8 ^ crc32.IEEETable[byte(crc)^b]
}

func (k *zipCryptoKeys) update(b byte) {
	k[0] = crc32Byte(k[0], b)
	k[1] = (k[1]+k[0]&0xff)*134775813 + 1
	k[2] = crc32Byte(k[2], byte(k[1]>>24))
}

// streamByte is the next key stream byte (decrypt_byte in 6.1.6). Bits 8
// to 15 of the product depend only on the low 16 bits of temp, which is
// 16 bits wide in the APPNOTE.
func (k *zipCryptoKeys) streamByte() byte {
	t := k[2] | 2
	return byte(t * (t ^ 1) >> 8)
}

// decrypt decrypts b in place.
func (k *zipCryptoKeys) decrypt(b []byte) {
	for i, c := range b {
		p := c ^ k.streamByte()
		k.update(p)
		b[i] = p
	}
}

// zipCryptoReader decrypts what it reads from r into the caller's buffer
// (never into the archive, which is the caller's too).
type zipCryptoReader struct {
	keys *zipCryptoKeys
	r    io.Reader
}

func (z *zipCryptoReader) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	z.keys.decrypt(p[:n])
	return n, err
}

// zipCrypto decrypts and inflates one member.
//
// A wrong password is found by the check byte (one in 256 wrong passwords
// passes it). Once it has passed, anything that goes wrong after (the
// deflate stream is corrupt, inflates to more or less than declared, the
// CRC-32 differs) is ErrPassword too: a wrong key that passed the check
// byte and a tampered or damaged member cannot be told apart here (there
// is no MAC), and nothing of the member is released either way. So a
// damaged archive opened with the right password reads as a wrong
// password; the limits were all checked on the declared sizes before.
func (d *decrypter) zipCrypto(f *zip.File, raw []byte) ([]byte, error) {
	if !d.ksSet {
		d.ks, d.ksSet = zipCryptoKeysFor(d.password), true
	}
	k := d.ks
	defer clear(k[:])
	var hdr [zipCryptoHeaderLen]byte
	copy(hdr[:], raw)
	k.decrypt(hdr[:])
	defer clear(hdr[:])
	if !zipCryptoCheck(f, hdr[zipCryptoHeaderLen-1]) {
		return nil, fmt.Errorf("%w: %s", ErrPassword, f.Name)
	}
	b, crc, err := readPlain(f, f.Method, &zipCryptoReader{keys: &k, r: bytes.NewReader(raw[zipCryptoHeaderLen:])})
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %s: the data does not decrypt (%v)", ErrPassword, f.Name, err)
	case crc != f.CRC32:
		clear(b)
		return nil, fmt.Errorf("%w: %s: CRC-32 differs after decryption", ErrPassword, f.Name)
	}
	return b, nil
}

// zipCryptoCheck tells whether the header's check byte fits the member:
// the CRC's high byte, or with a data descriptor (flag bit 3; the writer
// did not know the CRC yet) the high byte of the DOS modification time
// (6.1.6, Info-ZIP's zip -P). Some writers set bit 3 and still use the
// CRC's byte: either is taken then (the CRC-32 is checked after).
func zipCryptoCheck(f *zip.File, check byte) bool {
	if check == byte(f.CRC32>>24) {
		return true
	}
	return f.Flags&flagDescriptor != 0 && check == byte(f.ModifiedTime>>8)
}
