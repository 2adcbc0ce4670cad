package archive

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"runtime"
	"testing"

	"mugai/sanitize/format"
)

// rawBomb writes n deflated members, each the same compressed stream of
// size zero bytes, declaring declared bytes each (its true size unless a
// test makes it lie). The archive is small and cheap to build.
func rawBomb(t testing.TB, n, size int, declared uint64) []byte {
	t.Helper()
	var c bytes.Buffer
	fw, _ := flate.NewWriter(&c, flate.BestCompression)
	fw.Write(make([]byte, size))
	fw.Close()
	crc := crc32.ChecksumIEEE(make([]byte, size))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < n; i++ {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: fmt.Sprintf("zeros-%04d.bin", i), Method: zip.Deflate,
			CRC32: crc, CompressedSize64: uint64(c.Len()), UncompressedSize64: declared})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(c.Bytes())
	}
	zw.Close()
	return buf.Bytes()
}

// allocated is how many bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A ZIP of many highly compressible members (each under the ratio floor,
// so only the totals hold it) is refused before anything is inflated:
// what Read allocates is a small multiple of the archive, not of what it
// would inflate to.
func TestBombManyMembers(t *testing.T) {
	const members, size = 900, 1 << 20 // 900 MiB from about 1 MB
	bomb := rawBomb(t, members, size, size)
	var err error
	n := allocated(func() { _, err = Read(bomb, Limits{}) })
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
	if n > 4*uint64(len(bomb))+1<<20 {
		t.Errorf("a %d-byte bomb allocated %d bytes", len(bomb), n)
	}
	// Within the limits the same members are read, and no more than them.
	ok := rawBomb(t, 8, size, size)
	var ms []Member
	n = allocated(func() { ms, err = Read(ok, Limits{MaxTotal: 8 * size}) })
	if err != nil || len(ms) != 8 {
		t.Fatalf("8 MiB under an 8 MiB limit: %d members, %v", len(ms), err)
	}
	if n > 8*size+2<<20 {
		t.Errorf("8 MiB of members allocated %d bytes", n)
	}
	// One more member is over the total: refused, and nothing inflated.
	over := rawBomb(t, 9, size, size)
	n = allocated(func() { _, err = Read(over, Limits{MaxTotal: 8 * size}) })
	if !errors.Is(err, ErrTooLarge) || n > 1<<20 {
		t.Errorf("9 MiB under an 8 MiB limit: err = %v, %d bytes allocated", err, n)
	}
}

// A member that declares less than it holds stops where its declaration
// ends: the 1 MiB of zeros behind a 1 KiB declaration is never inflated.
func TestBombLyingSizes(t *testing.T) {
	liar := rawBomb(t, 100, 1<<20, 1<<10)
	var err error
	n := allocated(func() { _, err = Read(liar, Limits{}) })
	if err == nil {
		t.Fatal("members larger than declared were accepted")
	}
	if n > 1<<20 {
		t.Errorf("%d bytes allocated (%v)", n, err)
	}
	// And one that declares more than it holds.
	short := rawBomb(t, 1, 1<<10, 1<<12)
	if _, err := Read(short, Limits{}); !errors.Is(err, ErrUnreadable) {
		t.Errorf("a member shorter than declared: %v", err)
	}
}

// The message's budget is taken before inflating, and an archive it
// cannot hold is refused with its error.
func TestReadBudget(t *testing.T) {
	zipped := rawBomb(t, 8, 1<<20, 1<<20)
	b := format.NewBudget(4<<20, nil)
	var err error
	n := allocated(func() { _, err = Read(zipped, Limits{Budget: b}) })
	if !errors.Is(err, format.ErrBudget) || b.Used() != 0 || n > 1<<20 {
		t.Errorf("err = %v, %d taken, %d allocated", err, b.Used(), n)
	}
	b = format.NewBudget(16<<20, nil)
	if ms, err := Read(zipped, Limits{Budget: b}); err != nil || len(ms) != 8 || b.Used() != 8<<20 {
		t.Errorf("%d members, %v, %d taken", len(ms), err, b.Used())
	}
}

// A member over the ratio, one over MaxMember and compressed data that
// runs past the archive are refused on their declarations.
func TestDeclaredLimits(t *testing.T) {
	var err error
	zeros := rawBomb(t, 1, 32<<20, 32<<20)
	n := allocated(func() { _, err = Read(zeros, Limits{}) })
	if !errors.Is(err, ErrRatio) || n > 2<<20 {
		t.Errorf("32 MiB of zeros: %v, %d allocated", err, n)
	}
	if _, err := Read(rawBomb(t, 1, 1<<20, 1<<20), Limits{MaxMember: 1 << 19}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("member over MaxMember: %v", err)
	}
	z := build(t, "a.txt", "hello hello hello")
	cut := append([]byte{}, z...)
	// Make the member's compressed size in the central directory huge.
	cd := bytes.Index(cut, []byte("PK\x01\x02"))
	cut[cd+20], cut[cd+21], cut[cd+22], cut[cd+23] = 0xFF, 0xFF, 0xFF, 0x7F
	if _, err := Read(cut, Limits{}); !errors.Is(err, ErrUnreadable) {
		t.Errorf("compressed size past the end: %v", err)
	}
}
