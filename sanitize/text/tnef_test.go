package text

import (
	"encoding/binary"
	"strings"
	"testing"

	"mugai/sanitize/sanitizetest"
)

// lzfu compresses for tests: one back-reference into the preset
// dictionary ("{\rtf1\ansi", offset 0, 11 bytes), then literals, then the
// end marker.
func lzfu(literals string) []byte {
	var body []byte
	wp := 207
	ctrlAt := len(body)
	body = append(body, 0)
	bit := 0
	flush := func() {
		if bit == 8 {
			ctrlAt = len(body)
			body = append(body, 0)
			bit = 0
		}
	}
	body[ctrlAt] |= 1 << bit
	body = append(body, 0x00, 0x09) // offset 0, length 9+2
	bit++
	wp += 11
	for i := 0; i < len(literals); i++ {
		flush()
		body = append(body, literals[i])
		bit++
		wp++
	}
	flush()
	body[ctrlAt] |= 1 << bit
	body = append(body, byte(wp>>4), byte(wp<<4)) // end: offset == write position
	var h []byte
	h = binary.LittleEndian.AppendUint32(h, uint32(len(body)+12))
	h = binary.LittleEndian.AppendUint32(h, uint32(11+len(literals)))
	h = binary.LittleEndian.AppendUint32(h, 0x75465A4C)
	h = binary.LittleEndian.AppendUint32(h, 0) // CRC: not checked
	return append(h, body...)
}

func TestDecompressRTF(t *testing.T) {
	out, err := decompressRTF(lzfu(`\ansicpg1252 Hello\par}`))
	if err != nil || string(out) != `{\rtf1\ansi\ansicpg1252 Hello\par}` {
		t.Fatalf("got %q, %v", out, err)
	}
	mela := append([]byte{20, 0, 0, 0, 8, 0, 0, 0, 'M', 'E', 'L', 'A', 0, 0, 0, 0}, "{\\rtf1 x}"...)
	if out, err := decompressRTF(mela); err != nil || string(out) != "{\\rtf1 x" {
		t.Errorf("MELA: %q %v", out, err)
	}
	if _, err := decompressRTF([]byte("short")); err == nil {
		t.Error("short stream accepted")
	}
}

func TestTNEFBody(t *testing.T) {
	type e = sanitizetest.Prop
	tests := []struct {
		name string
		tnef []byte
		want string
		ok   bool
	}{
		{"unicode PR_BODY", sanitizetest.NewTNEF().Attr(1, 0x00069003, sanitizetest.Props(e{Tag: 0x1000001F, Data: sanitizetest.UTF16("本文です。\r\n二行目")})).B, "本文です。\n二行目", true},
		{"string8 PR_BODY in cp932", sanitizetest.NewTNEF().Attr(1, 0x00069007, []byte{0xA4, 0x03, 0, 0, 0, 0, 0, 0}).
			Attr(1, 0x00069003, sanitizetest.Props(e{Tag: 0x1000001E, Data: append([]byte("\x96{\x95\xb6"), 0)})).B, "本文", true},
		{"HTML body", sanitizetest.NewTNEF().Attr(1, 0x00069003, sanitizetest.Props(e{Tag: 0x10130102, Data: []byte("<p>HTML <b>本文</b></p>")})).B, "HTML 本文", true},
		{"compressed RTF body", sanitizetest.NewTNEF().Attr(1, 0x00069003, sanitizetest.Props(e{Tag: 0x10090102, Data: lzfu(` Rich text body\par}`)})).B, "Rich text body", true},
		{"legacy attBody", sanitizetest.NewTNEF().Attr(1, 0x0002800C, []byte("legacy body")).B, "legacy body", true},
		{"attachment only", sanitizetest.NewTNEF().Attr(2, 0x0006800F, []byte("MZ payload")).B, "", false},
		{"truncated", sanitizetest.NewTNEF().Attr(1, 0x00069003, sanitizetest.Props(e{Tag: 0x1000001F, Data: sanitizetest.UTF16("x")})).B[:30], "", false},
		{"not TNEF", []byte("PK\x03\x04"), "", false},
	}
	for _, tc := range tests {
		got, ok := TNEFText(tc.tnef)
		if ok != tc.ok || strings.TrimSpace(got) != tc.want {
			t.Errorf("%s: got %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzTNEF(f *testing.F) {
	f.Add(sanitizetest.NewTNEF().Attr(1, 0x00069003, sanitizetest.Props(sanitizetest.Prop{Tag: 0x10090102, Data: lzfu(" x}")})).B)
	f.Add(lzfu("abc"))
	f.Fuzz(func(t *testing.T, b []byte) {
		TNEFText(b)
		decompressRTF(b)
	})
}
