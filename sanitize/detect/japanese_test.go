package detect

import (
	"slices"
	"strings"
	"testing"

	"mugai/policy"
	"mugai/sanitize/jpdoc/jptest"
)

// Minimal files with the documented signatures (see japanese.go for what
// each rests on): real files cannot be shipped with the tests.
func jpSamples() map[string][]byte {
	justDOC := func(app string) []byte {
		b := make([]byte, 0x100)
		copy(b, "DOC\x00")
		copy(b[0x80:], app)
		return b
	}
	return map[string][]byte{
		"ichitaro8": jptest.Ichitaro(jptest.Units("本文\n")),
		"ichitaro7": jptest.CFB("{78597000-1D84-11CF-9713-0020AFD806F4}", jptest.Entry{Path: "DocumentText", Data: []byte("SsmgV.01")}),
		"jtdc":      jptest.CFB("{78597002-1D84-11CF-9713-0020AFD806F4}", jptest.Entry{Path: "JSCompDocument", Data: []byte("JustCompressedDocument")}),
		// 一太郎 by its streams when the root class is another one.
		"ichitaro-streams": jptest.CFB("", jptest.Entry{Path: "DocumentText", Data: jptest.DocumentText(jptest.Units("x"))},
			jptest.Entry{Path: "JSRV_SummaryInformation", Data: []byte{1}}),
		"ichitaro4":  justDOC("jxw.jex"),
		"hanako":     jptest.CFB("{06CE2760-93A4-11D1-9079-00805F1D7456}", jptest.Entry{Path: "Contents", Data: []byte{1, 2, 3}}),
		"hanako-old": justDOC("HANA.JEX"),
		"docuworks":  append([]byte{0x60, 0x0E, 0x82, 0x01, 0x07, 0x80, 0x03, 0x00}, make([]byte, 64)...),
		"jww":        append([]byte("JwwData.\x58\x02\x00\x00"), make([]byte, 64)...),
		"unknown":    {0x13, 0x37, 0x00, 0xFE, 0xED, 0x00, 0x01, 0x02},
	}
}

func TestJapaneseFormats(t *testing.T) {
	s := jpSamples()
	tests := []struct {
		name     string
		data     []byte
		declared string
		names    []string
		want     string
		flags    []policy.Flag
	}{
		// By content, whatever the name (or no name).
		{"一太郎 8+", s["ichitaro8"], "application/octet-stream", []string{"議事録.jtd"}, TypeIchitaro, nil},
		{"一太郎 template", s["ichitaro8"], "", []string{"様式.jtt"}, TypeIchitaro, nil},
		{"一太郎 without a name", s["ichitaro8"], "", nil, TypeIchitaro, nil},
		{"一太郎 7", s["ichitaro7"], "", []string{"a.jfw"}, TypeIchitaro, nil},
		{"一太郎 compressed", s["jtdc"], "", []string{"a.jtdc"}, TypeIchitaro, nil},
		{"一太郎 by its streams", s["ichitaro-streams"], "", []string{"a.jtd"}, TypeIchitaro, nil},
		{"一太郎 4", s["ichitaro4"], "", []string{"a.jsw"}, TypeIchitaro, nil},
		{"花子", s["hanako"], "", []string{"図.jhd"}, TypeHanako, nil},
		{"花子 old", s["hanako-old"], "", []string{"図.jbh"}, TypeHanako, nil},
		{"DocuWorks", s["docuworks"], "application/vnd.fujixerox.docuworks", []string{"回覧.xdw"}, TypeDocuWorks, nil},
		{"DocuWorks binder with the document signature", s["docuworks"], "", []string{"綴り.xbd"}, TypeDocuWorksBinder, nil},
		{"JW-CAD", s["jww"], "application/x-jwcad", []string{"平面図.jww"}, TypeJWCAD, nil},
		{"declared x-js-taro", s["ichitaro8"], "application/x-js-taro", []string{"a.jtd"}, TypeIchitaro, nil},
		// By name, only for formats without a signature and content
		// nothing recognises.
		{"binder by name", s["unknown"], "application/octet-stream", []string{"綴り.xbd"}, TypeDocuWorksBinder, nil},
		{"jwc by name", s["unknown"], "", []string{"図面.JWC"}, TypeJWCAD, nil},
		{"names disagree", s["unknown"], "", []string{"a.xbd", "a.jwc"}, TypeOctet, []policy.Flag{policy.FlagDisguised}},
		// A format with a signature is never taken by its name alone.
		{"花子 name, no signature", s["unknown"], "", []string{"a.jhd"}, TypeOctet, []policy.Flag{policy.FlagDisguised}},
		{"一太郎 name, no signature", s["unknown"], "", []string{"a.jtd"}, TypeOctet, []policy.Flag{policy.FlagDisguised}},
		{"DocuWorks name, no signature", s["unknown"], "application/vnd.fujixerox.docuworks", []string{"a.xdw"}, TypeOctet, []policy.Flag{policy.FlagDisguised}},
		{"JW-CAD name, no signature", s["unknown"], "", []string{"a.jww"}, TypeOctet, []policy.Flag{policy.FlagDisguised}},
		// The content wins: a name never hides what the bytes are.
		{"exe named jtd", pe(), "application/x-js-taro", []string{"議事録.jtd"}, TypePE, []policy.Flag{policy.FlagDisguised}},
		{"text named xdw", []byte("just some text\n"), "", []string{"a.xdw"}, TypeText, []policy.Flag{policy.FlagDisguised}},
		{"DocuWorks named jtd", s["docuworks"], "", []string{"a.jtd"}, TypeDocuWorks, []policy.Flag{policy.FlagDisguised}},
		{"一太郎 named doc", s["ichitaro8"], "application/msword", []string{"a.doc"}, TypeIchitaro, []policy.Flag{policy.FlagDisguised}},
		{"一太郎 declared as DocuWorks", s["ichitaro8"], TypeDocuWorks, []string{"a.jtd"}, TypeIchitaro, []policy.Flag{policy.FlagDisguised}},
		{"double extension", s["unknown"], "", []string{"議事録.jtd.exe"}, TypeOctet, []policy.Flag{policy.FlagDisguised}},
	}
	for _, tc := range tests {
		r := Detect(tc.data, tc.declared, tc.names)
		if r.Type != tc.want || !slices.Equal(r.Flags, tc.flags) {
			t.Errorf("%s: %s %v (%s), want %s %v", tc.name, r.Type, r.Flags, strings.Join(r.Detail, "; "), tc.want, tc.flags)
		}
	}
}

// TestIchitaroMacros: 一太郎's own macro storage is not a VBA project; a
// macro stream longer than an empty one's is flagged.
func TestIchitaroMacros(t *testing.T) {
	if r := Detect(jptest.Ichitaro(jptest.Units("x")), "", []string{"a.jtd"}); r.Has(policy.FlagMacro) {
		t.Errorf("an empty macro storage was flagged: %v", r.Detail)
	}
	withMacro := jptest.CFB(jptest.IchitaroClass,
		jptest.Entry{Path: "DocumentText", Data: jptest.DocumentText(jptest.Units("x"))},
		jptest.Entry{Path: "DocumentMacro/Macros/BaseStorage0/MacrosStream", Data: []byte("Sub Main: Shell(\"calc\"): End Sub")})
	if r := Detect(withMacro, "", []string{"a.jtd"}); r.Type != TypeIchitaro || !r.Has(policy.FlagMacro) {
		t.Errorf("macro not flagged: %s %v", r.Type, r.Flags)
	}
	vba := jptest.CFB(jptest.IchitaroClass, jptest.Entry{Path: "Macros/VBA/dir", Data: []byte{1}})
	if r := Detect(vba, "", []string{"a.jtd"}); !r.Has(policy.FlagMacro) {
		t.Error("a VBA storage at the root of a 一太郎 file was not flagged")
	}
}

func FuzzJapaneseNames(f *testing.F) {
	for _, b := range jpSamples() {
		f.Add(b, "a.jtd")
	}
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		r := Detect(data, "", []string{name})
		// A name's claim never makes content something else: a type
		// taken from the name is only ever given to unknown bytes.
		if byName := typeByName([]string{name}); byName != "" && r.Type == byName {
			var none Result
			if c := contentType(data, &none); c != TypeOctet && jpFamily(c) != jpFamily(byName) {
				t.Fatalf("%q named %s: content %s became %s", data, name, c, r.Type)
			}
		}
	})
}
