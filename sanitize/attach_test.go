package sanitize

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"

	"mugai/policy"
	"mugai/sanitize/detect"
	"mugai/sanitize/format"
	"mugai/sanitize/pdf"
	"mugai/sanitize/sanitizetest"
)

// withAttachment builds a message with a text body and one attachment.
func withAttachment(ctype, filename string, data []byte) string {
	return crlf("From: a@example.jp\nSubject: att\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody text\n--b\n") +
		"Content-Type: " + ctype + "\r\nContent-Disposition: attachment; filename=\"" + filename + "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		string(wrapBase64(data)) + "--b--\r\n"
}

// attachmentsOf parses a rebuilt message and returns its attached files.
func attachmentsOf(t *testing.T, msg []byte) map[string][]byte {
	t.Helper()
	files, err := sanitizetest.Attachments(msg)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestDisarmedAttachments(t *testing.T) {
	var buf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	png.Encode(&buf, img)
	pngWithTrailer := append(buf.Bytes(), "TRAILING-PAYLOAD"...)

	t.Run("image", func(t *testing.T) {
		res, err := testRebuilder().Rebuild(testEnvelope, strings.NewReader(withAttachment("image/png", "地図.png", pngWithTrailer)))
		if err != nil {
			t.Fatal(err)
		}
		files := attachmentsOf(t, res.Message)
		out, ok := files["地図.png"]
		if !ok {
			t.Fatalf("no image attached: %v", files)
		}
		if bytes.Contains(out, []byte("TRAILING-PAYLOAD")) {
			t.Error("trailing data survived")
		}
		got, err := png.Decode(bytes.NewReader(out))
		if err != nil || got.Bounds().Dx() != 4 {
			t.Errorf("attached image does not decode: %v", err)
		}
		if d := res.Decisions[1]; d.Action != policy.ActionDisarm || d.Reason != policy.ReasonDisarmed || d.RuleID != "image-disarm" {
			t.Errorf("decision %+v", d)
		}
	})
	t.Run("csv", func(t *testing.T) {
		csvIn := "名前,金額,式\r\nりんご,-120,=HYPERLINK(\"http://evil\")\r\nみかん,300,@SUM(1+1)*cmd|' /C calc'!A0\r\n"
		sjis, _ := decodeTextForTest(csvIn)
		res, err := testRebuilder().Rebuild(testEnvelope, strings.NewReader(withAttachment("text/csv", "list.csv", sjis)))
		if err != nil {
			t.Fatal(err)
		}
		out := string(attachmentsOf(t, res.Message)["list.csv"])
		want := "\ufeff名前,金額,式\r\nりんご,-120,\"'=HYPERLINK(\"\"http://evil\"\")\"\r\nみかん,300,'@SUM(1+1)*cmd|' /C calc'!A0\r\n"
		if out != want {
			t.Errorf("csv:\n%q\nwant\n%q", out, want)
		}
		if d := res.Decisions[1].Detail; d != "Re-encoded from shift_jis to UTF-8. 2 cells that a spreadsheet would run as formulas were neutralised (an apostrophe put before each)." {
			t.Errorf("detail %q", d)
		}
		top, _ := parseOutput(res.Message)
		for _, want := range []string{
			"\n    文字コードを shift_jis から UTF-8 に変換しました。\n    表計算ソフトで数式として実行されるセル 2 個を、先頭に ' を付けて文字として扱うようにしました。\n",
			"\n    Re-encoded from shift_jis to UTF-8.\n    2 cells that a spreadsheet would run as formulas were neutralised",
			"・list.csv（CSV、93 B）→ 無害化して添付 / disarmed and attached\n",
		} {
			if !strings.Contains(top.text, want) {
				t.Errorf("the notice does not say %q:\n%s", want, top.text)
			}
		}
	})
}

// decodeTextForTest returns s in Shift_JIS, as Japanese Excel writes CSV.
func decodeTextForTest(s string) ([]byte, error) {
	return japanese.ShiftJIS.NewEncoder().Bytes([]byte(s))
}

func zipBytes(t *testing.T, encrypted bool, name, content string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: name, Method: zip.Store}
	if encrypted {
		h.Flags |= 1
	}
	w, _ := zw.CreateHeader(h)
	w.Write([]byte(content))
	zw.Close()
	return buf.Bytes()
}

// TestBuiltinRefusals: what the policy cannot override (or only by naming
// the flag).
func TestBuiltinRefusals(t *testing.T) {
	pe := make([]byte, 0x80)
	copy(pe, "MZ")
	binary.LittleEndian.PutUint32(pe[0x3C:], 0x40)
	copy(pe[0x40:], "PE\x00\x00")
	keepAll, err := policy.Parse("keepall.yaml", []byte(`
rules:
  - {id: body, clause: "2(13)", match: {role: body}, action: textify, reason: {ja: a, en: b}}
  - {id: keep, clause: "6(6)", match: {role: attachment}, action: keep, reason: {ja: a, en: b}}
`), policy.DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ctype, filename string
		data                  []byte
		reason                policy.Reason
		rule                  string
	}{
		{"exe named pdf", "application/pdf", "invoice.pdf", pe, policy.ReasonDangerousType, "builtin-dangerous-type"},
		{"batch by name", "text/plain", "run.bat", []byte("echo hi\r\n"), policy.ReasonDangerousType, "builtin-dangerous-type"},
		{"html attachment", "text/html", "page.html", []byte("<html><body>x</body></html>"), policy.ReasonUnsupportedType, "builtin-unsupported"},
		{"unknown bytes", "application/octet-stream", "data.bin", []byte{0, 1, 2, 3, 0xff, 0xfe}, policy.ReasonUnsupportedType, "builtin-unsupported"},
		{"7z archive", "application/x-7z-compressed", "a.7z", []byte("7z\xbc\xaf\x27\x1c\x00\x04rest-of-archive"), policy.ReasonUnsupportedType, "builtin-unsupported"},
		{"unknown bytes named exe", "application/octet-stream", "data.exe", []byte{0, 1, 2, 3, 0xff, 0xfe}, policy.ReasonDangerousType, "builtin-dangerous-type"},
		{"encrypted zip (PPAP)", "application/zip", "見積.zip", zipBytes(t, true, "a.pdf", "x"), policy.ReasonEncryptedArchive, "builtin-encrypted"},
		{"pdf zip polyglot", "application/pdf", "a.pdf", append([]byte("%PDF-1.4\n"), zipBytes(t, false, "a.exe", "MZ")...), policy.ReasonPolyglot, "builtin-type-check"},
		{"text named pdf", "application/pdf", "a.pdf", []byte("just text\n"), policy.ReasonTypeMismatch, "builtin-type-check"},
	}
	for _, tc := range tests {
		res, err := (&Rebuilder{Policy: keepAll}).Rebuild(testEnvelope, strings.NewReader(withAttachment(tc.ctype, tc.filename, tc.data)))
		if err != nil {
			t.Fatal(err)
		}
		d := res.Decisions[1]
		if d.Reason != tc.reason || d.RuleID != tc.rule || d.Action != policy.ActionStrip {
			t.Errorf("%s: decision %s/%s/%s (%s), want %s/%s", tc.name, d.Action, d.RuleID, d.Reason, d.Detail, tc.rule, tc.reason)
		}
		if len(attachmentsOf(t, res.Message)) != 0 {
			t.Errorf("%s: something was attached", tc.name)
		}
	}
	// A rule that names the flag takes the decision back.
	allow, _ := policy.Parse("allow.yaml", []byte(`
rules:
  - {id: body, clause: "2(13)", match: {role: body}, action: textify, reason: {ja: a, en: b}}
  - {id: mislabelled-text, clause: "6(6)", match: {role: attachment, type: text/plain, flags: [disguised]}, action: keep, reason: {ja: a, en: b}}
`), policy.DefaultClauses())
	res, _ := (&Rebuilder{Policy: allow}).Rebuild(testEnvelope, strings.NewReader(withAttachment("application/pdf", "a.pdf", []byte("just text\n"))))
	if d := res.Decisions[1]; d.Action != policy.ActionKeep || d.RuleID != "mislabelled-text" {
		t.Errorf("flags rule: %+v", d)
	}
}

type badSanitizer struct{ mode string }

func (b *badSanitizer) Name() string { return "bad-" + b.mode }
func (b *badSanitizer) Sanitize(ctx context.Context, _ format.Part, in io.Reader, out io.Writer) (format.Verdict, error) {
	switch b.mode {
	case "panic":
		panic("boom")
	case "hang":
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // ignores the deadline for a while, as a stuck decoder would
		out.Write([]byte("LATE-OUTPUT"))
		return format.Verdict{Type: "text/plain"}, nil
	}
	out.Write([]byte("PARTIAL-OUTPUT"))
	return format.Verdict{}, errors.New("cannot parse")
}

// TestSanitizerFailuresFailClosed: an error, a panic or a timeout strips
// the part with sanitize-failed, and nothing the sanitizer wrote is used.
func TestSanitizerFailuresFailClosed(t *testing.T) {
	for _, mode := range []string{"error", "panic", "hang"} {
		reg := &format.Registry{}
		reg.Register("disarm", &badSanitizer{mode}, "text/*")
		rb := &Rebuilder{Policy: policy.Default(), Sanitizers: reg, Limits: Limits{SanitizeTimeout: 20 * time.Millisecond}}
		res, err := rb.Rebuild(testEnvelope, strings.NewReader(withAttachment("text/plain", "a.txt", []byte("hello\n"))))
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		d := res.Decisions[1]
		if d.Reason != policy.ReasonSanitizeFailed || d.Action != policy.ActionStrip || d.RuleID != "builtin-sanitize-failed" {
			t.Errorf("%s: decision %+v", mode, d)
		}
		if bytes.Contains(res.Message, []byte("OUTPUT")) || len(attachmentsOf(t, res.Message)) != 0 {
			t.Errorf("%s: sanitizer output reached the message", mode)
		}
		out, _ := parseOutput(res.Message)
		if !strings.Contains(out.text, "無害化の処理を完了できなかったため") {
			t.Errorf("%s: notice does not say so:\n%s", mode, out.text)
		}
	}
}

func TestExtractOffice(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{
		"[Content_Types].xml": `<Types><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
		"word/document.xml":   `<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>第1回 会議の議題</w:t></w:r></w:p></w:body></w:document>`,
	} {
		w, _ := zw.Create(name)
		w.Write([]byte(body))
	}
	zw.Close()
	docx := buf.Bytes()

	res, err := testRebuilder().Rebuild(testEnvelope, strings.NewReader(withAttachment("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "議題.docx", docx)))
	if err != nil {
		t.Fatal(err)
	}
	files := attachmentsOf(t, res.Message)
	if got := string(files["議題.txt"]); got != "第1回 会議の議題\r\n" || len(files) != 1 {
		t.Errorf("attachments %q", files)
	}
	if d := res.Decisions[1]; d.Action != policy.ActionExtract || d.Reason != policy.ReasonExtracted || d.RuleID != "office-extract" {
		t.Errorf("decision %+v", d)
	}

	p := policy.Default()
	for i := range p.Rules {
		if p.Rules[i].ID == "office-extract" {
			p.Rules[i].Options.Into = "body"
		}
	}
	rb := testRebuilder()
	rb.Policy = p
	res, _ = rb.Rebuild(testEnvelope, strings.NewReader(withAttachment("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "議題.docx", docx)))
	out, _ := parseOutput(res.Message)
	if !strings.Contains(out.text, "――― 議題.docx の本文 / text of 議題.docx ―――\n第1回 会議の議題") || len(attachmentsOf(t, res.Message)) != 0 {
		t.Errorf("into body:\n%s", out.text)
	}
}

// TestForwarded: an attached message is rebuilt by the same rules and
// attached as a sanitized .eml; its parts are decided under its path.
func TestForwarded(t *testing.T) {
	inner := crlf("From: =?UTF-8?B?5L2Q6Jek?= <sato@example.jp>\nSubject: =?UTF-8?B?5YWD44Gu44Oh44O844Or?=\nContent-Type: multipart/mixed; boundary=i\n\n" +
		"--i\nContent-Type: text/html; charset=utf-8\n\n<p>転送元の本文</p><script>evil()</script>\n" +
		"--i\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=run.exe\n\nMZ-PAYLOAD\n--i--\n")
	outer := crlf("From: a@example.jp\nSubject: Fwd\nContent-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: text/plain\n\nFYI\n--o\nContent-Type: message/rfc822\n\n") +
		inner + "\r\n--o--\r\n"
	res, err := testRebuilder().Rebuild(testEnvelope, strings.NewReader(outer))
	if err != nil {
		t.Fatal(err)
	}
	files := attachmentsOf(t, res.Message)
	eml, ok := files["元のメール.eml"]
	if !ok {
		t.Fatalf("no .eml attached: %v / %+v", files, res.Decisions)
	}
	out, err := parseOutput(eml)
	if err != nil {
		t.Fatalf("rebuilt forwarded message does not parse: %v", err)
	}
	if strings.Join(out.types, ",") != "text/plain" || !strings.Contains(out.text, "転送元の本文") || strings.Contains(out.text, "evil") ||
		!strings.Contains(out.text, "run.exe") || bytes.Contains(eml, []byte("MZ-PAYLOAD")) || strings.Contains(out.text, "原本保管番号") {
		t.Errorf("forwarded message:\n%s", out.text)
	}
	got := map[string]policy.Reason{}
	for _, d := range res.Decisions {
		got[d.Path] = d.Reason
	}
	if got["2"] != policy.ReasonDisarmed || got["2/1"] != policy.ReasonHTMLConverted || got["2/2"] != policy.ReasonDangerousType {
		t.Errorf("decisions %v", got)
	}
	top, _ := parseOutput(res.Message)
	if !strings.Contains(top.text, "転送・添付されたメール") || strings.Contains(top.text, "run.exe") {
		t.Errorf("outer notice:\n%s", top.text)
	}
}

func TestRTFAttachments(t *testing.T) {
	clean := []byte(`{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 Agenda\par Item one\par}`)
	res, _ := testRebuilder().Rebuild(testEnvelope, strings.NewReader(withAttachment("application/rtf", "agenda.rtf", clean)))
	if got := string(attachmentsOf(t, res.Message)["agenda.txt"]); got != "Agenda\r\nItem one\r\n" {
		t.Errorf("rtf text %q (%+v)", got, res.Decisions[1])
	}
	exploit := []byte(`{\rtf1{\object\objemb{\*\objclass Equation.3}{\*\objdata 0105000002000000}}}`)
	res, _ = testRebuilder().Rebuild(testEnvelope, strings.NewReader(withAttachment("application/rtf", "doc.rtf", exploit)))
	if d := res.Decisions[1]; d.Reason != policy.ReasonDangerousType || len(attachmentsOf(t, res.Message)) != 0 {
		t.Errorf("rtf with objects: %+v", d)
	}
}

// TestFlattenPDF: a real PDF with JavaScript comes out as an image-only
// PDF that pdfcpu reads back clean.
func TestFlattenPDF(t *testing.T) {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offs := []int{}
	for i, o := range objs {
		offs = append(offs, b.Len())
		b.WriteString(itoa(i+1) + " 0 obj\n" + o + "\nendobj\n")
	}
	x := b.Len()
	b.WriteString("xref\n0 4\n0000000000 65535 f \n")
	for _, o := range offs {
		b.WriteString(strings.Repeat("0", 10-len(itoa(o))) + itoa(o) + " 00000 n \n")
	}
	b.WriteString("trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n" + itoa(x) + "\n%%EOF\n")

	res, err := testRebuilder().Rebuild(testEnvelope, strings.NewReader(withAttachment("application/pdf", "案内.pdf", b.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	d := res.Decisions[1]
	if d.Action != policy.ActionFlatten || d.Reason != policy.ReasonFlattened {
		t.Fatalf("decision %+v", d)
	}
	out := attachmentsOf(t, res.Message)["案内.pdf"]
	if err := pdf.Verify(out, false); err != nil || !bytes.Contains(out, []byte("/Subtype /Image")) || bytes.Contains(out, []byte("app.alert")) {
		t.Errorf("flattened PDF: %v", err)
	}
}

func TestLegacyMacroAlwaysStripped(t *testing.T) {
	for _, tc := range []struct {
		r    detect.Result
		want bool
	}{
		{detect.Result{Type: "application/msword", Flags: []policy.Flag{policy.FlagMacro}}, true},
		{detect.Result{Type: "application/vnd.ms-excel", Flags: []policy.Flag{policy.FlagMacro}}, true},
		{detect.Result{Type: detect.TypeOLE, Flags: []policy.Flag{policy.FlagMacro}}, true},
		{detect.Result{Type: "application/msword"}, false},
		{detect.Result{Type: detect.TypeDOCM, Flags: []policy.Flag{policy.FlagMacro}}, false}, // OOXML: disarmed instead
	} {
		if got := isLegacyMacro(tc.r); got != tc.want {
			t.Errorf("isLegacyMacro(%+v) = %v", tc.r, got)
		}
	}
}

// ruleOfPart rebuilds msg and returns the rule that decided the part at
// path ("" when there is none).
func ruleOfPart(t *testing.T, rb *Rebuilder, env Envelope, msg, path string) string {
	t.Helper()
	res, err := rb.Rebuild(env, strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range res.Decisions {
		if d.Path == path {
			return d.RuleID
		}
	}
	return ""
}

// bodyRuleYAML is the usual first rule of a test policy: the body as text.
const bodyRuleYAML = `  - id: body
    clause: "2(13)"
    match: {role: body}
    action: textify
    reason: {ja: 本文, en: body}
`

// partnerCSV is a mail from a partner municipality with one CSV file.
const partnerCSV = "From: a@town.example.lg.jp\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody\n" +
	"--b\nContent-Type: text/csv\nContent-Disposition: attachment; filename=list.csv\n\nname,count\nA,1\n--b--\n"

// partnerRebuilder is a rebuilder under a three-rule policy: body text,
// a partner rule (disarm CSV) with the given match, strip the rest;
// prelude goes before the rules (an authentication block).
func partnerRebuilder(t *testing.T, prelude, match string) *Rebuilder {
	t.Helper()
	pol, err := policy.Parse("partner.yaml", []byte(prelude+`
rules:
`+bodyRuleYAML+`  - id: partner-text
    clause: "6(6)"
    match: `+match+`
    action: disarm
    reason: {ja: 連携自治体からの表データ, en: tables from a partner municipality}
  - id: strip-rest
    clause: "6(3)②"
    match: {role: attachment}
    action: strip
    reason: {ja: 添付は削除, en: attachments removed}
`), policy.DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	return &Rebuilder{Policy: pol, Hostname: "mugai.test", Sanitizers: fastSanitizers()}
}

// TestEnvelopeRules: a rule for a partner municipality's domain applies to
// its mail only, and a recipient rule only when every recipient matches.
func TestEnvelopeRules(t *testing.T) {
	rb := partnerRebuilder(t, "", `{role: attachment, sender: "*.lg.jp", recipient: "*@city.example.lg.jp", type: text/csv}`)
	msg := crlf(partnerCSV)
	for _, tc := range []struct {
		name  string
		from  string
		rcpts []string
		rule  string
	}{
		{"partner", "a@town.example.lg.jp", []string{"x@city.example.lg.jp"}, "partner-text"},
		{"internet sender", "a@example.com", []string{"x@city.example.lg.jp"}, "strip-rest"},
		{"partner, one outside recipient", "a@town.example.lg.jp", []string{"x@city.example.lg.jp", "y@elsewhere.example"}, "strip-rest"},
	} {
		env := testEnvelope
		env.From, env.Rcpts = tc.from, tc.rcpts
		if got := ruleOfPart(t, rb, env, msg, "2"); got != tc.rule {
			t.Errorf("%s: part 2 decided by %q, want %s", tc.name, got, tc.rule)
		}
	}
}

// TestTrustedSenderNeedsAuthentication: a partner rule that requires a
// DMARC pass applies only with a pass from the trusted upstream, not with
// one the sender wrote into the message.
func TestTrustedSenderNeedsAuthentication(t *testing.T) {
	rb := partnerRebuilder(t, "authentication:\n  authserv_ids: [mx.pref.example.lg.jp]\n",
		`{role: attachment, sender: "*.lg.jp", authenticated: [dmarc, dkim], type: text/csv}`)
	for _, tc := range []struct {
		name, header, rule string
	}{
		{"trusted pass", "Authentication-Results: mx.pref.example.lg.jp;\n dmarc=pass header.from=town.example.lg.jp\nReceived: from outside by mx.pref.example.lg.jp\n", "partner-text"},
		{"no result", "Received: from outside by mx.pref.example.lg.jp\n", "strip-rest"},
		{"forged below the upstream's Received", "Received: from outside by mx.pref.example.lg.jp\nAuthentication-Results: mx.pref.example.lg.jp; dmarc=pass header.from=town.example.lg.jp\n", "strip-rest"},
		{"pass from another authserv-id", "Authentication-Results: mx.elsewhere.example; dkim=pass header.d=town.example.lg.jp\n", "strip-rest"},
		{"pass for another domain", "Authentication-Results: mx.pref.example.lg.jp; dkim=pass header.d=other.example.lg.jp\n", "strip-rest"},
	} {
		env := testEnvelope
		env.From = "a@town.example.lg.jp"
		if got := ruleOfPart(t, rb, env, crlf(tc.header+partnerCSV), "2"); got != tc.rule {
			t.Errorf("%s: part 2 decided by %q, want %s", tc.name, got, tc.rule)
		}
	}
	if _, err := policy.Parse("untrusted.yaml", []byte("rules:\n  - id: a\n    clause: \"6(6)\"\n    match: {role: attachment, authenticated: dkim}\n    action: strip\n    reason: {ja: x, en: y}\n"), policy.DefaultClauses()); err == nil ||
		!strings.Contains(err.Error(), "untrusted.yaml:4: rules[0] (a): match.authenticated needs authentication.authserv_ids") {
		t.Errorf("authenticated without authserv_ids: %v", err)
	}
}

// TestBodyOptions: subject tag (not doubled on a reply), notice at the
// bottom, and the admin's own notice text.
func TestBodyOptions(t *testing.T) {
	pol, err := policy.Parse("body.yaml", []byte(`
body:
  subject_tag: "[無害化]"
  notice: bottom
  notice_text:
    ja: "富津市役所のメールゲートウェイが処理しました。"
    en: "Processed by the city hall's mail gateway."
rules:
`+bodyRuleYAML), policy.DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	rb := &Rebuilder{Policy: pol, Hostname: "mugai.test"}
	for _, tc := range []struct{ subject, want string }{
		{"=?UTF-8?B?6KaL56mN?=", "[無害化] 見積"},
		{"Re: [無害化] 見積", "Re: [無害化] 見積"},
		{"", "[無害化]"},
	} {
		hdr := "From: a@example.jp\r\n"
		if tc.subject != "" {
			hdr += "Subject: " + tc.subject + "\r\n"
		}
		res, err := rb.Rebuild(testEnvelope, strings.NewReader(hdr+"\r\nthe body text\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := parseOutput(res.Message)
		if err != nil {
			t.Fatal(err)
		}
		got, err := new(mime.WordDecoder).DecodeHeader(out.header.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("subject %q became %q, want %q", tc.subject, got, tc.want)
		}
		body, notice := strings.Index(out.text, "the body text"), strings.Index(out.text, "【無害化処理のお知らせ】")
		if body < 0 || notice < 0 || body > notice {
			t.Errorf("the notice is not below the body:\n%s", out.text)
		}
		if !strings.Contains(out.text, "富津市役所のメールゲートウェイが処理しました。\nProcessed by the city hall's mail gateway.") ||
			strings.Contains(out.text, "This mail came from the Internet") {
			t.Errorf("the notice text is not the policy's:\n%s", out.text)
		}
	}
	_, err = policy.Parse("bad.yaml", []byte("body:\n  notice: middle\n  subject_tag: \"a\\nb\"\n  notice_text: {ja: x}\nrules:\n  - id: body\n    clause: \"2(13)\"\n    match: {role: body}\n    action: textify\n    reason: {ja: x, en: y}\n"), policy.DefaultClauses())
	for _, want := range []string{`body.notice: "middle" is not top or bottom`, `body.subject_tag: "a\nb" must be at most 40 characters on one line`, "body.notice_text: needs both ja and en"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q: %v", want, err)
		}
	}
}

// TestHiddenTextFlag: a policy can decide on a body by the hidden text
// found in it, e.g. withhold the whole body of such a mail.
func TestHiddenTextFlag(t *testing.T) {
	pol, err := policy.Parse("hidden.yaml", []byte(`
rules:
  - id: hidden-body
    clause: "3(1)"
    match: {role: body, flags: [hidden-text]}
    action: strip
    reason: {ja: 隠し文字のある本文は表示しません, en: a body with hidden text is withheld}
`+bodyRuleYAML), policy.DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	rb := &Rebuilder{Policy: pol, Hostname: "mugai.test"}
	for _, tc := range []struct{ html, rule, text string }{
		{`<p>Pay the invoice today.</p><span style="display:none">SECRET-PAYLOAD</span>`, "hidden-body", ""},
		{`<p>Pay the invoice today.</p>`, "body", "Pay the invoice today."},
	} {
		msg := crlf("From: a@example.jp\nContent-Type: text/html; charset=utf-8\n\n" + tc.html + "\n")
		if got := ruleOfPart(t, rb, testEnvelope, msg, "1"); got != tc.rule {
			t.Errorf("%q decided by %s, want %s", tc.html, got, tc.rule)
		}
		res, _ := rb.Rebuild(testEnvelope, strings.NewReader(msg))
		out, err := parseOutput(res.Message)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.text, "SECRET-PAYLOAD") || tc.text != "" && !strings.Contains(out.text, tc.text) {
			t.Errorf("%q: text\n%s", tc.html, out.text)
		}
	}
}

// TestArchiveDepthRule: a rule can treat archive members differently from
// the same type attached directly.
func TestArchiveDepthRule(t *testing.T) {
	pol, err := policy.Parse("depth.yaml", []byte(`
rules:
`+bodyRuleYAML+`  - id: zip-open
    clause: "6(6)"
    match: {role: attachment, type: application/zip}
    action: disarm
    reason: {ja: 書庫を開く, en: open archives}
  - id: csv-in-archive
    clause: "6(6)"
    match: {role: attachment, type: text/csv, archive_depth: {min: 1}}
    action: strip
    reason: {ja: 書庫の中の表は削除, en: tables inside archives removed}
  - id: csv
    clause: "6(6)"
    match: {role: attachment, type: text/csv}
    action: disarm
    reason: {ja: 表データ, en: tables}
`), policy.DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	rb := &Rebuilder{Policy: pol, Hostname: "mugai.test", Sanitizers: fastSanitizers()}
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("list.csv")
	w.Write([]byte("name,count\r\nA,1\r\n"))
	zw.Close()
	msg := crlf("From: a@example.jp\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody\n"+
		"--b\nContent-Type: text/csv\nContent-Disposition: attachment; filename=list.csv\n\nname,count\nA,1\n") +
		"--b\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename=a.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		string(wrapBase64(zbuf.Bytes())) + "--b--\r\n"
	got := map[string]string{}
	res, err := rb.Rebuild(testEnvelope, strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range res.Decisions {
		got[d.Path] = d.RuleID
	}
	if got["2"] != "csv" || got["3/1"] != "csv-in-archive" {
		t.Errorf("decisions by path: %v", got)
	}
	if _, err := policy.Parse("bad.yaml", []byte("rules:\n  - id: a\n    clause: \"6(6)\"\n    match: {archive_depth: {min: 2, max: 1}}\n    action: strip\n    reason: {ja: x, en: y}\n"), policy.DefaultClauses()); err == nil ||
		!strings.Contains(err.Error(), "bad.yaml:4: rules[0] (a): match.archive_depth") {
		t.Errorf("bad range: %v", err)
	}
}
