package sanitize

import (
	"strings"
	"testing"

	"mugai/policy"
	"mugai/sanitize/detect"
	"mugai/sanitize/jpdoc"
	"mugai/sanitize/jpdoc/jptest"
)

// TestJapaneseFormats: 一太郎, 花子, DocuWorks and JW-CAD files are named
// for what they are and decided by the policy (no longer removed as
// unknown, dangerous content); a rule may extract a 一太郎 document's
// text; what cannot be read is held; a name never passes other content.
func TestJapaneseFormats(t *testing.T) {
	reg := testSanitizers()
	reg.Register(policy.ActionExtract, jpdoc.Extractor{}, jpdoc.Types...)
	extract, err := policy.Parse("jp.yaml", []byte(`
rules:
  - {id: body, clause: "2(13)", match: {role: body}, action: textify, reason: {ja: a, en: b}}
  - {id: ichitaro-extract, clause: "2(13)", match: {role: attachment, type: application/x-js-taro}, action: extract, reason: {ja: a, en: b}}
  - {id: others, clause: "6(3)②", match: {role: attachment}, action: strip, reason: {ja: a, en: b}}
`), policy.DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	taro := jptest.Ichitaro(jptest.Units("第1回 検討会のお知らせ\n日時：4月1日\n"))
	taro7 := jptest.CFB("{78597000-1D84-11CF-9713-0020AFD806F4}", jptest.Entry{Path: "DocumentText", Data: []byte("SsmgV.01")})
	xdw := append([]byte{0x60, 0x0E, 0x82, 0x01, 0x07, 0x80, 0x03, 0x00}, make([]byte, 64)...)
	jww := append([]byte("JwwData.\x58\x02\x00\x00"), make([]byte, 64)...)
	unknown := []byte{0x13, 0x37, 0x00, 0xFE, 0xED, 0x00, 0x01, 0x02}
	pe := []byte("MZ" + strings.Repeat("\x00", 0x3A) + "\x40\x00\x00\x00PE\x00\x00" + strings.Repeat("\x00", 16))
	tests := []struct {
		name, filename string
		data           []byte
		pol            *policy.Policy
		typ            string
		action         policy.Action
		rule           string
		attached       string // name of the file delivered, "" for none
	}{
		// The default policy extracts 一太郎's text and removes the others
		// by its catch-all rule, as files it has no rule for: not as dangerous.
		{"一太郎", "通知.jtd", taro, policy.Default(), detect.TypeIchitaro, policy.ActionExtract, "office-extract", "通知.txt"},
		{"DocuWorks", "回覧.xdw", xdw, policy.Default(), detect.TypeDocuWorks, policy.ActionStrip, "attachment-strip", ""},
		{"DocuWorks binder by name", "綴り.xbd", unknown, policy.Default(), detect.TypeDocuWorksBinder, policy.ActionStrip, "attachment-strip", ""},
		{"JW-CAD", "平面図.jww", jww, policy.Default(), detect.TypeJWCAD, policy.ActionStrip, "attachment-strip", ""},
		// A rule can name them: the 一太郎 text is extracted.
		{"一太郎 extracted", "通知.jtd", taro, extract, detect.TypeIchitaro, policy.ActionExtract, "ichitaro-extract", "通知.txt"},
		// What cannot be read is held (removed, the original kept), never guessed at.
		{"一太郎 7 held", "通知.jfw", taro7, extract, detect.TypeIchitaro, policy.ActionStrip, "builtin-sanitize-failed", ""},
		// Bytes without 一太郎's signature are not 一太郎, whatever the name.
		{"一太郎 name without the signature", "通知.jtd", unknown, extract, detect.TypeOctet, policy.ActionStrip, "builtin-unsupported", ""},
		// A name never passes other content.
		{"executable named jtd", "通知.jtd", pe, extract, detect.TypePE, policy.ActionStrip, "builtin-dangerous-type", ""},
	}
	for _, tc := range tests {
		res, err := (&Rebuilder{Policy: tc.pol, Sanitizers: reg}).Rebuild(testEnvelope, strings.NewReader(withAttachment("application/octet-stream", tc.filename, tc.data)))
		if err != nil {
			t.Fatal(err)
		}
		d := res.Decisions[1]
		if d.DetectedType != tc.typ || d.Action != tc.action || d.RuleID != tc.rule {
			t.Errorf("%s: %s %s/%s (%s), want %s %s/%s", tc.name, d.DetectedType, d.Action, d.RuleID, d.Detail, tc.typ, tc.action, tc.rule)
		}
		files := attachmentsOf(t, res.Message)
		if tc.attached == "" && len(files) != 0 || tc.attached != "" && len(files) != 1 {
			t.Errorf("%s: attached %d files", tc.name, len(files))
		}
		if tc.attached != "" && !strings.Contains(string(files[tc.attached]), "第1回 検討会のお知らせ\r\n日時：4月1日") {
			t.Errorf("%s: %s holds %q", tc.name, tc.attached, files[tc.attached])
		}
	}
}
