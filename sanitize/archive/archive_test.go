package archive

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

func build(t testing.TB, members ...string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(members); i += 2 {
		w, err := zw.Create(members[i])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(members[i+1]))
	}
	zw.Close()
	return buf.Bytes()
}

// overlapBomb builds a stored ZIP in which every central directory entry
// points at the same local file: n names, one body.
func overlapBomb(n int, body []byte) []byte {
	var b []byte
	crc := crc32.ChecksumIEEE(body)
	b = append(b, "PK\x03\x04"...)
	b = binary.LittleEndian.AppendUint16(b, 20)
	b = append(b, 0, 0, 0, 0) // flags, method stored
	b = append(b, 0, 0, 0, 0) // time, date
	b = binary.LittleEndian.AppendUint32(b, crc)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = append(b, 'a')
	b = append(b, body...)
	cdStart := len(b)
	for i := 0; i < n; i++ {
		b = append(b, "PK\x01\x02"...)
		b = binary.LittleEndian.AppendUint16(b, 20)
		b = binary.LittleEndian.AppendUint16(b, 20)
		b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
		b = binary.LittleEndian.AppendUint32(b, crc)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
		b = binary.LittleEndian.AppendUint16(b, 1) // name length
		b = append(b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
		b = binary.LittleEndian.AppendUint32(b, 0) // local header offset: all the same
		b = append(b, byte('a'+i%26))
	}
	cdLen := len(b) - cdStart
	b = append(b, "PK\x05\x06"...)
	b = append(b, 0, 0, 0, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	b = binary.LittleEndian.AppendUint32(b, uint32(cdLen))
	b = binary.LittleEndian.AppendUint32(b, uint32(cdStart))
	return append(b, 0, 0)
}

func TestRead(t *testing.T) {
	many := make([]string, 0, 2*1001)
	for i := 0; i < 1001; i++ {
		many = append(many, strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune('0'+i%10))+"-"+strings.Repeat("y", i/26), "x")
	}
	var enc bytes.Buffer
	zw := zip.NewWriter(&enc)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "secret.pdf", Flags: 1})
	w.Write([]byte("ciphertext"))
	zw.Close()
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"ordinary", build(t, "a.txt", "hello", "dir/b.txt", "world"), nil},
		{"overlapping entries (Fifield)", overlapBomb(3, []byte("same kernel")), ErrOverlap},
		{"ratio bomb", build(t, "zeros.bin", strings.Repeat("\x00", 4<<20)), ErrRatio},
		{"too many members", build(t, many...), ErrTooMany},
		{"encrypted", enc.Bytes(), ErrEncrypted},
		{"not a zip", []byte("PK\x03\x04 broken"), ErrUnreadable},
	}
	for _, tc := range tests {
		_, err := Read(tc.data, Limits{})
		if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := Read(build(t, "big.txt", strings.Repeat("0123456789abcdef", 1<<16)), Limits{MaxMember: 1 << 19}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("member limit: %v", err)
	}
}

func TestCleanNameAndRoundTrip(t *testing.T) {
	for in, want := range map[string]string{
		"../../etc/passwd": "etc/passwd", "/abs/x.txt": "abs/x.txt", `a\..\..\b.txt`: "b.txt",
		"ok/名前.txt": "ok/名前.txt", "a\x00b": "ab", "..": "file",
	} {
		if got := CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, []Member{{Name: "../evil/名前.txt", Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	ms, err := Read(buf.Bytes(), Limits{})
	if err != nil || len(ms) != 1 || ms[0].Name != "evil/名前.txt" || !ms[0].UTF8 {
		t.Errorf("round trip: %+v %v", ms, err)
	}
}

func FuzzRead(f *testing.F) {
	f.Add(build(f, "a.txt", "hello"))
	f.Add(overlapBomb(2, []byte("k")))
	f.Add(rawBomb(f, 3, 1<<12, 1<<12))
	f.Add(rawBomb(f, 2, 1<<12, 1<<8)) // members larger than declared
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := Read(data, Limits{MaxTotal: 1 << 20, MaxMember: 1 << 20})
		if err != nil {
			return
		}
		var total int
		for _, m := range ms {
			total += len(m.Data)
			if strings.Contains(m.Name, "..") && strings.Contains("/"+m.Name+"/", "/../") {
				t.Fatalf("unsafe name %q", m.Name)
			}
		}
		if total > 1<<20 {
			t.Fatalf("limit not enforced: %d", total)
		}
	})
}
