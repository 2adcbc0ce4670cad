package detect

import (
	"encoding/binary"
	"testing"

	"mugai/policy"
)

func TestLegacyEncrypted(t *testing.T) {
	fib := func(flags uint16) []byte {
		b := make([]byte, 64)
		binary.LittleEndian.PutUint16(b, 0xA5EC)
		binary.LittleEndian.PutUint16(b[2:], 0xC1)
		binary.LittleEndian.PutUint16(b[10:], flags)
		return b
	}
	user := func(token uint32) []byte {
		b := make([]byte, 32)
		binary.LittleEndian.PutUint16(b[2:], 0x0FF6)
		binary.LittleEndian.PutUint32(b[4:], 24)
		binary.LittleEndian.PutUint32(b[8:], 0x14)
		binary.LittleEndian.PutUint32(b[12:], token)
		return b
	}
	for _, tc := range []struct {
		name      string
		data      []byte
		typ       string
		encrypted bool
	}{
		{"doc", buildCFB(t, cfbEntry{"WordDocument", fib(0x0204)}), TypeDOC, false},
		{"encrypted doc", buildCFB(t, cfbEntry{"WordDocument", fib(0x0304)}), TypeDOC, true},
		{"obfuscated doc", buildCFB(t, cfbEntry{"WordDocument", fib(0x8304)}), TypeDOC, true},
		{"ppt", buildCFB(t, cfbEntry{"Current User", user(0xE391C05F)}, cfbEntry{"PowerPoint Document", []byte{0}}), TypePPT, false},
		{"encrypted ppt", buildCFB(t, cfbEntry{"Current User", user(0xF3D1C4DF)}, cfbEntry{"PowerPoint Document", []byte{0}}), TypePPT, true},
		{"ppt with EncryptedSummary", buildCFB(t, cfbEntry{"EncryptedSummary", []byte{1}}, cfbEntry{"PowerPoint Document", []byte{0}}), TypePPT, true},
	} {
		r := Detect(tc.data, "", nil)
		if r.Type != tc.typ || r.Has(policy.FlagEncrypted) != tc.encrypted {
			t.Errorf("%s: %s, flags %v, want %s encrypted=%v", tc.name, r.Type, r.Flags, tc.typ, tc.encrypted)
		}
	}
}
