package detect

import (
	"encoding/binary"
	"testing"
	"unicode/utf16"

	"mugai/policy"
)

// cfbEntry is a stream (data != nil) or an empty storage in the root.
type cfbEntry struct {
	name string
	data []byte
}

// buildCFB writes a minimal compound file (version 3, 512-byte sectors)
// holding the given entries directly under the root. Streams are padded to
// 4096 bytes so that none goes into the mini stream.
func buildCFB(t testing.TB, entries ...cfbEntry) []byte {
	const sector, endChain, fatSect, free, noStream = 512, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF, 0xFFFFFFFF
	for i := range entries {
		if entries[i].data != nil && len(entries[i].data) < 4096 {
			entries[i].data = append(entries[i].data, make([]byte, 4096-len(entries[i].data))...)
		}
	}
	if len(entries) > 3 {
		t.Fatal("buildCFB: one directory sector holds the root and three entries")
	}
	// Sector 0: FAT; sector 1: directory; then stream data.
	fat := []uint32{fatSect, endChain}
	starts := make([]uint32, len(entries))
	for i, e := range entries {
		if e.data == nil {
			continue
		}
		starts[i] = uint32(len(fat))
		n := len(e.data) / sector
		for k := 0; k < n; k++ {
			if k == n-1 {
				fat = append(fat, endChain)
			} else {
				fat = append(fat, uint32(len(fat)+1))
			}
		}
	}
	for len(fat) < sector/4 {
		fat = append(fat, free)
	}
	hdr := make([]byte, sector)
	copy(hdr, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})
	binary.LittleEndian.PutUint16(hdr[24:], 0x3E)
	binary.LittleEndian.PutUint16(hdr[26:], 3)
	binary.LittleEndian.PutUint16(hdr[28:], 0xFFFE)
	binary.LittleEndian.PutUint16(hdr[30:], 9)
	binary.LittleEndian.PutUint16(hdr[32:], 6)
	binary.LittleEndian.PutUint32(hdr[44:], 1)        // FAT sectors
	binary.LittleEndian.PutUint32(hdr[48:], 1)        // first directory sector
	binary.LittleEndian.PutUint32(hdr[56:], 4096)     // mini stream cutoff
	binary.LittleEndian.PutUint32(hdr[60:], endChain) // mini FAT
	binary.LittleEndian.PutUint32(hdr[68:], endChain) // DIFAT
	binary.LittleEndian.PutUint32(hdr[76:], 0)        // DIFAT[0]: FAT in sector 0
	for i := 80; i < sector; i += 4 {
		binary.LittleEndian.PutUint32(hdr[i:], free)
	}
	dir := make([]byte, sector)
	entry := func(i int, name string, typ byte, left, right, child, start uint32, size uint64) {
		e := dir[i*128 : (i+1)*128]
		u := utf16.Encode([]rune(name))
		for k, c := range u {
			binary.LittleEndian.PutUint16(e[2*k:], c)
		}
		binary.LittleEndian.PutUint16(e[64:], uint16(2*len(u)+2))
		e[66], e[67] = typ, 1
		binary.LittleEndian.PutUint32(e[68:], left)
		binary.LittleEndian.PutUint32(e[72:], right)
		binary.LittleEndian.PutUint32(e[76:], child)
		binary.LittleEndian.PutUint32(e[116:], start)
		binary.LittleEndian.PutUint64(e[120:], size)
	}
	entry(0, "Root Entry", 5, noStream, noStream, 1, endChain, 0)
	for i, e := range entries {
		right := uint32(noStream)
		if i+1 < len(entries) {
			right = uint32(i + 2)
		}
		if e.data == nil {
			entry(i+1, e.name, 1, noStream, right, noStream, 0, 0)
		} else {
			entry(i+1, e.name, 2, noStream, right, noStream, starts[i], uint64(len(e.data)))
		}
	}
	out := append(hdr, make([]byte, sector)...)
	for i, v := range fat {
		binary.LittleEndian.PutUint32(out[sector+4*i:], v)
	}
	out = append(out, dir...)
	for _, e := range entries {
		out = append(out, e.data...)
	}
	return out
}

// biffBoundSheet is a BIFF8 BoundSheet8 record for a sheet of type dt
// (0 worksheet, 1 Excel 4 macro sheet).
func biffBoundSheet(dt byte) []byte {
	rec := []byte{0x85, 0x00, 10, 0, 0, 0, 0, 0, 0, dt, 2, 0, 'M', '1'}
	return rec
}

func TestOLE(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		typ     string
		flags   []policy.Flag
		noFlags bool
	}{
		{"doc", buildCFB(t, cfbEntry{"WordDocument", []byte("text")}), "application/msword", nil, true},
		{"doc with VBA", buildCFB(t, cfbEntry{"WordDocument", []byte("text")}, cfbEntry{name: "Macros"}), "application/msword", []policy.Flag{policy.FlagMacro}, false},
		{"xls", buildCFB(t, cfbEntry{"Workbook", biffBoundSheet(0)}), "application/vnd.ms-excel", nil, true},
		{"xls with XLM macro sheet", buildCFB(t, cfbEntry{"Workbook", biffBoundSheet(1)}), "application/vnd.ms-excel", []policy.Flag{policy.FlagMacro}, false},
		{"encrypted OOXML", buildCFB(t, cfbEntry{"EncryptionInfo", []byte{4, 0, 4, 0}}, cfbEntry{"EncryptedPackage", []byte("cipher")}), TypeOLE, []policy.Flag{policy.FlagEncrypted}, false},
	}
	for _, tc := range tests {
		r := Detect(tc.data, "", nil)
		if r.Type != tc.typ {
			t.Errorf("%s: type %s, want %s", tc.name, r.Type, tc.typ)
		}
		for _, f := range tc.flags {
			if !r.Has(f) {
				t.Errorf("%s: lacks %s (%v)", tc.name, f, r.Detail)
			}
		}
		if tc.noFlags && len(r.Flags) > 0 {
			t.Errorf("%s: flags %v", tc.name, r.Flags)
		}
	}
}
