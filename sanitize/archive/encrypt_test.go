package archive

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// The encrypting side, for tests only: archives the vectors cannot be
// (bombs, thousands of members, lying sizes). The writers were checked
// once against 7-Zip (`7z t -p…` opens what they write).

const testPassword = "ppap-Test#2026"

// testMember is one member to encrypt. declared < 0: its true size.
type testMember struct {
	name     string
	data     []byte
	method   uint16
	declared int64
}

func member(name string, data []byte) testMember {
	return testMember{name: name, data: data, method: zip.Deflate, declared: -1}
}

func compress(t testing.TB, m testMember) []byte {
	if m.method == zip.Store {
		return m.data
	}
	var c bytes.Buffer
	fw, _ := flate.NewWriter(&c, flate.BestSpeed) // fast under -race too
	fw.Write(m.data)
	fw.Close()
	return c.Bytes()
}

func (m testMember) size() uint64 {
	if m.declared >= 0 {
		return uint64(m.declared)
	}
	return uint64(len(m.data))
}

// aesZip writes members encrypted with WinZip AES (keyLen 16, 24, 32;
// version 1 or 2).
func aesZip(t testing.TB, keyLen int, version uint16, pw string, members ...testMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	// One salt for all members (valid, if not what WinZip does): the
	// writer derives its keys once, the reader still once per member.
	salt := make([]byte, keyLen/2)
	rand.Read(salt)
	keys, err := pbkdf2.Key(sha1.New, pw, salt, aesIterations, 2*keyLen+2)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		block, _ := aes.NewCipher(keys[:keyLen])
		plain := compress(t, m)
		ct := make([]byte, len(plain))
		newWinzipCTR(block).XORKeyStream(ct, plain)
		h := hmac.New(sha1.New, keys[keyLen:2*keyLen])
		h.Write(ct)
		raw := append(append(append(bytes.Clone(salt), keys[2*keyLen:]...), ct...), h.Sum(nil)[:aesMACLen]...)
		extra := binary.LittleEndian.AppendUint16(nil, aesExtraID)
		extra = binary.LittleEndian.AppendUint16(extra, 7)
		extra = binary.LittleEndian.AppendUint16(extra, version)
		extra = append(extra, 'A', 'E', byte(keyLen/8-1))
		extra = binary.LittleEndian.AppendUint16(extra, m.method)
		fh := &zip.FileHeader{Name: m.name, Method: methodAES, Flags: flagEncrypted, Extra: extra,
			CompressedSize64: uint64(len(raw)), UncompressedSize64: m.size()}
		if version == 1 {
			fh.CRC32 = crc32.ChecksumIEEE(m.data)
		}
		w, err := zw.CreateRaw(fh)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(raw)
	}
	zw.Close()
	return buf.Bytes()
}

// zipCryptoZip writes members with PKWARE traditional encryption, the
// check byte from the CRC (no data descriptor).
func zipCryptoZip(t testing.TB, pw string, members ...testMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		crc := crc32.ChecksumIEEE(m.data)
		hdr := make([]byte, zipCryptoHeaderLen)
		rand.Read(hdr)
		hdr[zipCryptoHeaderLen-1] = byte(crc >> 24)
		raw := zipCryptoEncrypt([]byte(pw), append(hdr, compress(t, m)...))
		w, err := zw.CreateRaw(&zip.FileHeader{Name: m.name, Method: m.method, Flags: flagEncrypted, CRC32: crc,
			CompressedSize64: uint64(len(raw)), UncompressedSize64: m.size()})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(raw)
	}
	zw.Close()
	return buf.Bytes()
}

func zipCryptoEncrypt(pw, plain []byte) []byte {
	k := zipCryptoKeysFor(pw)
	out := make([]byte, len(plain))
	for i, p := range plain {
		out[i] = p ^ k.streamByte()
		k.update(p)
	}
	return out
}

// The writers' archives read back (and 7-Zip's `7z t` opened them when
// they were written).
func TestWritersReadBack(t *testing.T) {
	ms := []testMember{member("a.txt", []byte("hello hello hello")), {name: "b.bin", data: []byte("stored"), method: zip.Store, declared: -1}}
	for name, z := range map[string][]byte{
		"AES-128 AE-1": aesZip(t, 16, 1, testPassword, ms...), "AES-256 AE-2": aesZip(t, 32, 2, testPassword, ms...),
		"ZipCrypto": zipCryptoZip(t, testPassword, ms...),
	} {
		got, err := ReadEncrypted(z, []byte(testPassword), Limits{})
		if err != nil || len(got) != 2 || string(got[0].Data) != "hello hello hello" || string(got[1].Data) != "stored" {
			t.Errorf("%s: %v %+v", name, err, got)
		}
	}
}

// ae1 turns a 7-Zip AE-2 archive into the AE-1 form WinZip writes for
// most files: version 1 in every 0x9901 field and the plaintext's CRC-32
// in the headers. The MAC covers the ciphertext only, so it still holds.
func ae1(t testing.TB, z []byte, plain map[string][]byte) []byte {
	t.Helper()
	out := bytes.Clone(z)
	marker := []byte{0x01, 0x99, 0x07, 0x00, 0x02, 0x00, 'A', 'E'}
	for i := bytes.Index(out, marker); i >= 0; {
		out[i+4] = 1
		j := bytes.Index(out[i+1:], marker)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	for _, sig := range []struct {
		magic            string
		crcAt, nameLenAt int
		nameAt           int
	}{{"PK\x03\x04", 14, 26, 30}, {"PK\x01\x02", 16, 28, 46}} {
		for i := 0; ; {
			j := bytes.Index(out[i:], []byte(sig.magic))
			if j < 0 {
				break
			}
			i += j
			n := int(binary.LittleEndian.Uint16(out[i+sig.nameLenAt:]))
			name := string(out[i+sig.nameAt : i+sig.nameAt+n])
			data, ok := plain[name]
			if !ok {
				t.Fatalf("no plain file for %q", name)
			}
			binary.LittleEndian.PutUint32(out[i+sig.crcAt:], crc32.ChecksumIEEE(data))
			i += 4
		}
	}
	return out
}

var _ cipher.Stream = (*winzipCTR)(nil)
