package archive

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"mugai/sanitize/format"
)

// The limits of Read hold inside encrypted archives, checked on the
// declared sizes before any key is derived or anything decrypted.
func TestReadEncryptedLimits(t *testing.T) {
	zeros := make([]byte, 2<<20)
	kib := bytes.Repeat([]byte("0123456789abcdef"), 64)
	many := make([]testMember, 1001)
	for i := range many {
		many[i] = testMember{name: fmt.Sprintf("m%04d.txt", i), data: []byte("x"), method: zip.Store, declared: -1}
	}
	lying := func(declared int64) testMember {
		m := member("zeros.bin", make([]byte, 1<<20))
		m.declared = declared
		return m
	}
	tests := []struct {
		name string
		z    []byte
		lim  Limits
		want error
	}{
		// Bombs: ratio, a member over MaxMember, members over MaxTotal.
		{"AES ratio bomb", aesZip(t, 32, 2, testPassword, member("zeros.bin", zeros)), Limits{}, ErrRatio},
		{"ZipCrypto ratio bomb", zipCryptoZip(t, testPassword, member("zeros.bin", zeros)), Limits{}, ErrRatio},
		{"AES member over MaxMember", aesZip(t, 16, 1, testPassword, member("k.txt", kib)), Limits{MaxMember: 512}, ErrTooLarge},
		{"ZipCrypto members over MaxTotal", zipCryptoZip(t, testPassword, member("a", kib), member("b", kib)), Limits{MaxTotal: 1500}, ErrTooLarge},
		// Members that hold more than they declare: AES (the MAC holds,
		// the password's holder wrote it) says so; ZipCrypto cannot tell
		// it from a wrong key.
		{"AES member larger than declared", aesZip(t, 32, 2, testPassword, lying(1<<10)), Limits{}, ErrTooLarge},
		{"ZipCrypto member larger than declared", zipCryptoZip(t, testPassword, lying(1<<10)), Limits{}, ErrPassword},
		{"AES member smaller than declared", aesZip(t, 32, 2, testPassword, testMember{name: "k", data: kib, method: zip.Deflate, declared: 4096}), Limits{}, ErrUnreadable},
		// Counts and overlaps.
		{"too many AES members", aesZip(t, 16, 2, testPassword, many...), Limits{}, ErrTooMany},
		{"encrypted overlapping entries", encryptedOverlap(t), Limits{}, ErrOverlap},
	}
	for _, tc := range tests {
		var err error
		start := time.Now()
		n := allocated(func() { _, err = ReadEncrypted(tc.z, []byte(testPassword), tc.lim) })
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if n > 4*uint64(len(tc.z))+2<<20 {
			t.Errorf("%s: a %d-byte archive allocated %d bytes", tc.name, len(tc.z), n)
		}
		if d := time.Since(start); tc.want == ErrTooMany && d > time.Second {
			t.Errorf("%s: refused after %v (keys derived?)", tc.name, d)
		}
	}
}

// encryptedOverlap is overlapBomb with every member marked encrypted.
func encryptedOverlap(t testing.TB) []byte {
	z := overlapBomb(3, []byte("twelve bytes of header, then data"))
	for _, sig := range []struct {
		magic string
		flags int
	}{{"PK\x03\x04", 6}, {"PK\x01\x02", 8}} {
		for i := 0; ; i += 4 {
			j := bytes.Index(z[i:], []byte(sig.magic))
			if j < 0 {
				break
			}
			i += j
			z[i+sig.flags] |= flagEncrypted
		}
	}
	return z
}

// The message's budget is taken on the declared sizes before anything is
// decrypted; an archive it cannot hold is refused.
func TestReadEncryptedBudget(t *testing.T) {
	z := aesZip(t, 32, 2, testPassword, member("a", make([]byte, 1<<20)), member("b", make([]byte, 1<<20)))
	b := format.NewBudget(1<<20, nil)
	if _, err := ReadEncrypted(z, []byte(testPassword), Limits{Budget: b}); !errors.Is(err, format.ErrBudget) || b.Used() != 0 {
		t.Errorf("over the budget: %v, %d taken", err, b.Used())
	}
	b = format.NewBudget(4<<20, nil)
	if ms, err := ReadEncrypted(z, []byte(testPassword), Limits{Budget: b}); err != nil || len(ms) != 2 || b.Used() != 2<<20 {
		t.Errorf("within the budget: %d members, %v, %d taken", len(ms), err, b.Used())
	}
}

// What cannot be decrypted is refused by name, never read as something
// else, never a panic.
func TestReadEncryptedUnsupported(t *testing.T) {
	aes := aesZip(t, 32, 2, testPassword, member("a.txt", []byte("hello")))
	zc := zipCryptoZip(t, testPassword, member("a.txt", []byte("hello")))
	tests := []struct {
		name string
		z    []byte
		want error
	}{
		{"strong encryption (bit 6)", setCentral(zc, 8, 0x41), ErrUnsupported},
		{"central directory encryption (bit 13)", setCentral(zc, 9, 0x20), ErrUnsupported},
		{"ZipCrypto with bzip2 (method 12)", setCentral(zc, 10, 12), ErrUnsupported},
		{"AES strength 4", setAESField(aes, 4, 4), ErrUnsupported},
		{"AES version 3", setAESField(aes, 0, 3), ErrUnsupported},
		{"AES with LZMA inside (method 14)", setAESField(aes, 5, 14), ErrUnsupported},
		{"AES without its extra field", setAESField(aes, 2, 'X'), ErrUnsupported},
		{"method 99 not marked encrypted", setCentral(aes, 8, 0), ErrUnreadable},
	}
	for _, tc := range tests {
		if _, err := ReadEncrypted(tc.z, []byte(testPassword), Limits{}); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// AE-1 checks the CRC-32 after the MAC: a CRC that differs is refused
// (ErrPassword: nothing says which of the two is wrong). AE-2 writes no
// CRC and none is checked.
func TestReadEncryptedAE1CRC(t *testing.T) {
	m := member("a.txt", []byte("hello, AE-1"))
	for _, tc := range []struct {
		version uint16
		want    error
	}{{1, ErrPassword}, {2, nil}} {
		z := aesZip(t, 24, tc.version, testPassword, m)
		cd := bytes.Index(z, []byte("PK\x01\x02"))
		z[cd+16] ^= 0x55
		if _, err := ReadEncrypted(z, []byte(testPassword), Limits{}); !errors.Is(err, tc.want) && (tc.want != nil || err != nil) {
			t.Errorf("AE-%d with another CRC: %v, want %v", tc.version, err, tc.want)
		}
	}
}

// A mixed archive with a wrong password: the member in the clear is read
// as Read reads it, the encrypted one refuses.
func TestReadEncryptedMixedPlainMember(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("clear.txt")
	w.Write([]byte("in the clear"))
	zw.Close()
	ms, err := ReadEncrypted(buf.Bytes(), nil, Limits{})
	if err != nil || len(ms) != 1 || string(ms[0].Data) != "in the clear" {
		t.Errorf("an archive with nothing encrypted: %+v %v", ms, err)
	}
	z := readVector(t, "zipcrypto-mixed.zip")
	if _, err := ReadEncrypted(z, []byte("wrong"), Limits{}); !errors.Is(err, ErrPassword) {
		t.Errorf("mixed, wrong password: %v", err)
	}
}

// setCentral returns z with the byte at offset off of its first central
// directory header (and the matching local header field) set to v.
func setCentral(z []byte, off int, v byte) []byte {
	z = bytes.Clone(z)
	z[bytes.Index(z, []byte("PK\x01\x02"))+off] = v
	z[bytes.Index(z, []byte("PK\x03\x04"))+off-2] = v
	return z
}

// setAESField returns z with byte off of every 0x9901 field's data set
// to v.
func setAESField(z []byte, off int, v byte) []byte {
	z = bytes.Clone(z)
	head := binary.LittleEndian.AppendUint16(nil, aesExtraID)
	for i := 0; ; i++ {
		j := bytes.Index(z[i:], head)
		if j < 0 {
			return z
		}
		i += j
		z[i+4+off] = v
	}
}

func FuzzReadEncrypted(f *testing.F) {
	for _, v := range vectors {
		f.Add(readVector(f, v.file), []byte(testPassword))
	}
	f.Add(zipCryptoZip(f, "pw", member("a.txt", []byte(strings.Repeat("a", 100)))), []byte("pw"))
	f.Add(aesZip(f, 16, 1, "pw", member("a.txt", []byte("hello"))), []byte("pw"))
	f.Add(encryptedOverlap(f), []byte("pw"))
	f.Fuzz(func(t *testing.T, data, password []byte) {
		const limit = 1 << 20
		ms, err := ReadEncrypted(data, password, Limits{MaxTotal: limit, MaxMember: limit, MaxMembers: 50})
		if err != nil {
			if ms != nil {
				t.Fatal("members and an error")
			}
			// (Unless the archive holds it too: a member name may.)
			if len(password) > 3 && strings.Contains(err.Error(), string(password)) && !bytes.Contains(data, password) {
				t.Fatalf("the error holds the password: %v", err)
			}
			return
		}
		var total int
		for _, m := range ms {
			total += len(m.Data)
			if strings.Contains("/"+m.Name+"/", "/../") || strings.HasPrefix(m.Name, "/") {
				t.Fatalf("unsafe name %q", m.Name)
			}
		}
		if total > limit {
			t.Fatalf("limit not enforced: %d", total)
		}
	})
}

// BenchmarkReadEncryptedAES reads an archive of 1000 (Limits.MaxMembers
// by default) one-byte AES-256 members: the key derivations it costs.
func BenchmarkReadEncryptedAES(b *testing.B) {
	ms := make([]testMember, DefaultLimits.MaxMembers)
	for i := range ms {
		ms[i] = member(fmt.Sprintf("m%04d.txt", i), []byte("x"))
	}
	z := aesZip(b, 32, 2, testPassword, ms...)
	b.ResetTimer()
	for b.Loop() {
		if got, err := ReadEncrypted(z, []byte(testPassword), Limits{}); err != nil || len(got) != len(ms) {
			b.Fatal(err)
		}
	}
}
