package archive

import (
	"archive/zip"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Errors of ReadEncrypted, for errors.Is.
var (
	// ErrPassword: the password does not open an encrypted member. It
	// is also what a member whose password check passed but whose
	// content then failed its check (CRC, HMAC) gives: see decrypt.
	ErrPassword = errors.New("archive: wrong password")
	// ErrUnsupported: an encryption or compression this package does
	// not read (PKWARE strong encryption, central directory encryption,
	// methods other than stored and deflated).
	ErrUnsupported = errors.New("archive: unsupported encryption or compression")
)

// General purpose flags and methods of APPNOTE 4.4.4 and 4.4.5.
const (
	flagEncrypted  = 0x0001 // bit 0: the member is encrypted
	flagDescriptor = 0x0008 // bit 3: sizes and CRC follow the data
	flagStrong     = 0x0040 // bit 6: PKWARE strong encryption
	flagMaskedHdr  = 0x2000 // bit 13: central directory encryption masks the local header
	methodAES      = 99     // WinZip AES: the real method is in the 0x9901 extra field
)

// ReadEncrypted returns the file members of a ZIP as Read does, under the
// same limits (all checked on the declared sizes before anything is
// decrypted or inflated), decrypting encrypted members with password:
// PKWARE traditional encryption ("ZipCrypto", APPNOTE 6.1) and WinZip AES
// (AE-1 and AE-2, AES-128/192/256). Members that are not encrypted are
// read as Read reads them.
//
// A password that does not open a member gives ErrPassword; PKWARE strong
// encryption, central directory encryption and methods other than stored
// and deflated give ErrUnsupported. The password is never put into an
// error, and the keys derived from it are zeroed after each member (what
// crypto/aes and crypto/hmac copy of them cannot be). The caller zeroes
// password itself.
//
// Cost: each WinZip AES member derives its keys with PBKDF2 (1000
// rounds of HMAC-SHA1) from its own salt, so an archive costs up to
// Limits.MaxMembers derivations (see BenchmarkReadEncryptedAES).
func ReadEncrypted(data []byte, password []byte, lim Limits) ([]Member, error) {
	d := &decrypter{data: data, password: password}
	defer clear(d.ks[:])
	return read(data, lim, d)
}

// decrypter reads the members of one archive with one password.
type decrypter struct {
	data     []byte
	password []byte
	pw       string        // password as crypto/pbkdf2 takes it, made once (WinZip AES)
	ks       zipCryptoKeys // ZipCrypto's keys after the password, made once
	ksSet    bool
}

// screen refuses, before any limit is checked or any key derived, what
// cannot be decrypted: unknown encryption, unknown methods, members too
// short to hold their encryption header.
func (d *decrypter) screen(f *zip.File) error {
	if f.Flags&flagEncrypted == 0 {
		return nil // read as Read does
	}
	switch {
	case f.Flags&flagStrong != 0:
		return fmt.Errorf("%w: %s: PKWARE strong encryption", ErrUnsupported, f.Name)
	case f.Flags&flagMaskedHdr != 0:
		return fmt.Errorf("%w: %s: central directory encryption", ErrUnsupported, f.Name)
	case f.Method == methodAES:
		_, err := parseAES(f)
		return err
	case f.Method != zip.Store && f.Method != zip.Deflate:
		return fmt.Errorf("%w: %s: method %d", ErrUnsupported, f.Name, f.Method)
	case f.CompressedSize64 < zipCryptoHeaderLen:
		return fmt.Errorf("%w: %s: shorter than its encryption header", ErrUnreadable, f.Name)
	}
	return nil
}

// contents reads one member: decrypted when it is encrypted.
func (d *decrypter) contents(f *zip.File) ([]byte, error) {
	if f.Flags&flagEncrypted == 0 {
		return inflate(f)
	}
	raw, err := d.raw(f)
	if err != nil {
		return nil, err
	}
	if f.Method == methodAES {
		return d.winzipAES(f, raw)
	}
	return d.zipCrypto(f, raw)
}

// raw is a member's stored bytes (encryption header, data, trailer), in
// place: checkOverlap checked they lie within the archive.
func (d *decrypter) raw(f *zip.File) ([]byte, error) {
	off, err := f.DataOffset()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnreadable, f.Name, err)
	}
	return d.data[off : off+int64(f.CompressedSize64)], nil
}

// decompressor is the reader of a member's plaintext stored with method.
func decompressor(f *zip.File, method uint16, r io.Reader) (io.ReadCloser, error) {
	switch method {
	case zip.Store:
		return io.NopCloser(r), nil
	case zip.Deflate:
		return flate.NewReader(r), nil
	}
	return nil, fmt.Errorf("%w: %s: method %d", ErrUnsupported, f.Name, method)
}

// readPlain decompresses a member's decrypted stream into a buffer of its
// declared size (readExact) and returns it with its CRC-32.
func readPlain(f *zip.File, method uint16, r io.Reader) ([]byte, uint32, error) {
	rc, err := decompressor(f, method, r)
	if err != nil {
		return nil, 0, err
	}
	defer rc.Close()
	b, err := readExact(f, rc)
	if err != nil {
		return nil, 0, err
	}
	return b, crc32.ChecksumIEEE(b), nil
}
