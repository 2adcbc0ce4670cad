package sanitize

import (
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf16"

	"mugai/policy"
)

// tnefBuilder writes TNEF streams for tests.
type tnefBuilder struct{ b []byte }

func newTNEF() *tnefBuilder {
	t := &tnefBuilder{}
	t.b = binary.LittleEndian.AppendUint32(t.b, tnefSignature)
	t.b = binary.LittleEndian.AppendUint16(t.b, 1)
	return t
}

func (t *tnefBuilder) attr(level byte, id uint32, data []byte) *tnefBuilder {
	t.b = append(t.b, level)
	t.b = binary.LittleEndian.AppendUint32(t.b, id)
	t.b = binary.LittleEndian.AppendUint32(t.b, uint32(len(data)))
	t.b = append(t.b, data...)
	sum := uint16(0)
	for _, c := range data {
		sum += uint16(c)
	}
	t.b = binary.LittleEndian.AppendUint16(t.b, sum)
	return t
}

// props encodes attMsgProps with one variable-length property per entry,
// after a fixed-size one and a named one to exercise the reader.
func props(entries ...struct {
	tag  uint32
	data []byte
}) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, uint32(len(entries)+2))
	b = binary.LittleEndian.AppendUint32(b, 0x00170003) // PR_IMPORTANCE, long
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, 0x8001000B) // named boolean
	b = append(b, make([]byte, 16)...)                  // GUID
	b = binary.LittleEndian.AppendUint32(b, 0)          // kind: id
	b = binary.LittleEndian.AppendUint32(b, 0x8501)
	b = binary.LittleEndian.AppendUint32(b, 1)
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint32(b, e.tag)
		b = binary.LittleEndian.AppendUint32(b, 1) // one value
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e.data)))
		b = append(b, e.data...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return b
}

func utf16Bytes(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s + "\x00")) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

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
	type e = struct {
		tag  uint32
		data []byte
	}
	tests := []struct {
		name string
		tnef []byte
		want string
		ok   bool
	}{
		{"unicode PR_BODY", newTNEF().attr(1, 0x00069003, props(e{0x1000001F, utf16Bytes("本文です。\r\n二行目")})).b, "本文です。\n二行目", true},
		{"string8 PR_BODY in cp932", newTNEF().attr(1, 0x00069007, []byte{0xA4, 0x03, 0, 0, 0, 0, 0, 0}).
			attr(1, 0x00069003, props(e{0x1000001E, append([]byte("\x96{\x95\xb6"), 0)})).b, "本文", true},
		{"HTML body", newTNEF().attr(1, 0x00069003, props(e{0x10130102, []byte("<p>HTML <b>本文</b></p>")})).b, "HTML 本文", true},
		{"compressed RTF body", newTNEF().attr(1, 0x00069003, props(e{0x10090102, lzfu(` Rich text body\par}`)})).b, "Rich text body", true},
		{"legacy attBody", newTNEF().attr(1, 0x0002800C, []byte("legacy body")).b, "legacy body", true},
		{"attachment only", newTNEF().attr(2, 0x0006800F, []byte("MZ payload")).b, "", false},
		{"truncated", newTNEF().attr(1, 0x00069003, props(e{0x1000001F, utf16Bytes("x")})).b[:30], "", false},
		{"not TNEF", []byte("PK\x03\x04"), "", false},
	}
	for _, tc := range tests {
		got, ok := tnefText(tc.tnef)
		if ok != tc.ok || strings.TrimSpace(got) != tc.want {
			t.Errorf("%s: got %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// TestTNEFOnlyBody: a mail whose only body is a winmail.dat gets that text;
// a mail with a text part keeps it and strips the winmail.dat.
func TestTNEFOnlyBody(t *testing.T) {
	tnef := newTNEF().attr(1, 0x00069003, props(struct {
		tag  uint32
		data []byte
	}{0x1000001F, utf16Bytes("会議の件、承知しました。")})).attr(2, 0x0006800F, []byte("ATTACHED-PAYLOAD")).b
	part := "Content-Type: application/ms-tnef; name=winmail.dat\r\nContent-Disposition: attachment; filename=winmail.dat\r\nContent-Transfer-Encoding: base64\r\n\r\n" + string(wrapBase64(tnef))
	only := "From: a@example.jp\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" + part + "--b--\r\n"
	res, err := testRebuilder().Rebuild(testEnvelope, strings.NewReader(only))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := parseOutput(res.Message)
	if !strings.Contains(out.text, "会議の件、承知しました。") || strings.Contains(out.text, "ATTACHED-PAYLOAD") || !strings.Contains(out.text, "winmail.dat") {
		t.Errorf("body:\n%s", out.text)
	}
	if d := res.Decisions[0]; d.Reason != policy.ReasonTNEFBody || d.Action != policy.ActionTextify {
		t.Errorf("decision %+v", d)
	}

	withText := "From: a@example.jp\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain body\r\n--b\r\n" + part + "--b--\r\n"
	res, _ = testRebuilder().Rebuild(testEnvelope, strings.NewReader(withText))
	out, _ = parseOutput(res.Message)
	if !strings.Contains(out.text, "plain body") || strings.Contains(out.text, "会議の件") || res.Decisions[1].Action != policy.ActionStrip {
		t.Errorf("with a text part: %+v\n%s", res.Decisions, out.text)
	}
}

func FuzzTNEF(f *testing.F) {
	f.Add(newTNEF().attr(1, 0x00069003, props(struct {
		tag  uint32
		data []byte
	}{0x10090102, lzfu(" x}")})).b)
	f.Add(lzfu("abc"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tnefText(b)
		decompressRTF(b)
	})
}
