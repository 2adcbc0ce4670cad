package sanitize

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"mugai/policy"
	"mugai/sanitize/detect"
)

// noticeOf rebuilds msg under pol (the default policy when nil) and
// returns the rebuilt body text and the decisions.
func noticeOf(t *testing.T, pol *policy.Policy, msg string) (string, []policy.Decision) {
	t.Helper()
	rb := testRebuilder()
	if pol != nil {
		rb.Policy = pol
	}
	res, err := rb.Rebuild(testEnvelope, strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	top, err := parseOutput(res.Message)
	if err != nil {
		t.Fatal(err)
	}
	return top.text, res.Decisions
}

// policyWith is the default policy with one edit of its text.
func policyWith(t *testing.T, old, new string) *policy.Policy {
	t.Helper()
	src := string(policy.DefaultYAML())
	if !strings.Contains(src, old) {
		t.Fatalf("default policy lacks %q", old)
	}
	p, err := policy.Parse("edited.yaml", []byte(strings.Replace(src, old, new, 1)), policy.DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pagesPDF is a PDF of n empty pages.
func pagesPDF(n int) []byte {
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", ""}
	var kids []string
	for i := 0; i < n; i++ {
		kids = append(kids, strconv.Itoa(3+i)+" 0 R")
		objs = append(objs, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>")
	}
	objs[1] = "<< /Type /Pages /Kids [" + strings.Join(kids, " ") + "] /Count " + strconv.Itoa(n) + " >>"
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	var offs []int
	for i, o := range objs {
		offs = append(offs, b.Len())
		b.WriteString(strconv.Itoa(i+1) + " 0 obj\n" + o + "\nendobj\n")
	}
	x := b.Len()
	b.WriteString("xref\n0 " + strconv.Itoa(len(objs)+1) + "\n0000000000 65535 f \n")
	for _, o := range offs {
		b.WriteString(strings.Repeat("0", 10-len(strconv.Itoa(o))) + strconv.Itoa(o) + " 00000 n \n")
	}
	b.WriteString("trailer\n<< /Size " + strconv.Itoa(len(objs)+1) + " /Root 1 0 R >>\nstartxref\n" + strconv.Itoa(x) + "\n%%EOF\n")
	return b.Bytes()
}

// TestNoticePageLimit: pages left out by the page limit are in a ⚠ line
// at the top of the notice, above everything else, and in the item.
func TestNoticePageLimit(t *testing.T) {
	pol := policyWith(t, "pages: 50}", "pages: 2}")
	text, ds := noticeOf(t, pol, withAttachment("application/pdf", "議事録.pdf", pagesPDF(5)))
	if d := ds[1]; d.Reason != policy.ReasonFlattened || !strings.Contains(d.Detail, "Only 2 of 5 pages were converted; pages 3 to 5 are not included (page limit).") {
		t.Fatalf("decision %+v", d)
	}
	top := "【無害化処理のお知らせ】 Sanitization notice\n" +
		"⚠ 議事録.pdf: 5 ページ中 2 ページのみ変換しました（3〜5 ページは、ページ数の上限のため含まれていません）。\n" +
		"⚠ 議事録.pdf: Only 2 of 5 pages were converted; pages 3 to 5 are not included (page limit).\n" +
		"このメールはインターネットから届いたため"
	if !strings.Contains(text, top) {
		t.Errorf("no loss line at the top:\n%s", text)
	}
	if !strings.Contains(text, "\n    ⚠ 5 ページ中 2 ページのみ変換しました") || !strings.Contains(text, "・議事録.pdf（PDF、") {
		t.Errorf("the item does not say it:\n%s", text)
	}
	// Within the limit: no warning.
	if text, _ := noticeOf(t, pol, withAttachment("application/pdf", "議事録.pdf", pagesPDF(2))); strings.Contains(text, "⚠") {
		t.Errorf("a warning without a loss:\n%s", text)
	}
}

// TestNoticePPAP: a password-protected ZIP is explained once in each
// language, as a ZIP archive, not with its MIME type.
func TestNoticePPAP(t *testing.T) {
	text, ds := noticeOf(t, nil, withAttachment("application/x-zip-compressed", "見積.zip", zipBytes(t, true, "見積.pdf", "x")))
	if d := ds[1]; d.Reason != policy.ReasonEncryptedArchive || d.DeclaredType != "application/x-zip-compressed" {
		t.Fatalf("decision %+v", d)
	}
	if strings.Count(text, "検査できない") != 1 || strings.Count(text, "cannot be inspected") != 1 {
		t.Errorf("the reason is not said once in each language:\n%s", text)
	}
	if !strings.Contains(text, "・見積.zip（ZIP 圧縮ファイル / ZIP archive、") || strings.Contains(text, "application/") {
		t.Errorf("kind of file:\n%s", text)
	}
}

// TestNoticeAlternatives: the line about an unused version of the body
// says which version was used and what was left out.
func TestNoticeAlternatives(t *testing.T) {
	alt := func(second string) string {
		return crlf("From: a@example.jp\nSubject: s\nContent-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\n\n" +
			"会議は木曜日です。議題は予算です。資料は当日配ります。\n--b\n" + second + "--b--\n")
	}
	html := "Content-Type: text/html; charset=utf-8\n\n<p>会議は<b>木曜日</b>です。議題は予算です。資料は当日配ります。</p>\n"
	cal := "Content-Type: text/calendar; method=REQUEST; charset=utf-8\n\nBEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:会議\nEND:VEVENT\nEND:VCALENDAR\n"
	tests := []struct {
		name string
		pol  *policy.Policy
		msg  string
		want string
		not  string
	}{
		{"text preferred", nil, alt(html),
			"・テキスト版を使用し、HTML 版は省略しました。\n    The text version was used; the HTML version was left out.\n    （規則 rule: alternative-drop、条項 clause: 2(13)）\n",
			"HTML 版を使用"},
		{"HTML preferred", policyWith(t, "prefer: plain", "prefer: html"), alt(html),
			"・HTML 版を使用し、テキスト版は省略しました。\n    The HTML version was used; the text version was left out.\n",
			"テキスト版を使用"},
		{"calendar alternative, no calendar rule", policyWith(t, "type: [text/calendar, text/vcard]", "type: [x-none/x-none]"), alt(cal),
			"・テキスト版を使用し、予定表 (iCalendar)の部分は省略しました。\n    The text version was used; the calendar (iCalendar) part was left out.\n",
			"テキスト版は省略"},
		{"calendar alternative rendered by the calendar rule", nil, alt(cal),
			"・予定表の部分 / calendar part（予定表 (iCalendar) / calendar (iCalendar)",
			"省略しました"},
	}
	for _, tc := range tests {
		text, _ := noticeOf(t, tc.pol, tc.msg)
		if !strings.Contains(text, tc.want) || strings.Contains(text, tc.not) {
			t.Errorf("%s:\n%s", tc.name, text)
		}
	}
}

// TestNoticeDangerousOrUnsupported: a program is dangerous; an HTML file,
// unknown content or an archive mugai cannot open is a kind it cannot
// convert, which an approver may release.
func TestNoticeDangerousOrUnsupported(t *testing.T) {
	tests := []struct {
		name, ctype, file string
		data              []byte
		rule              policy.Rule
		kind              string
	}{
		{"exe", "application/octet-stream", "setup.exe", append([]byte("MZ"), make([]byte, 200)...), policy.RuleDangerous, "実行ファイル"},
		{"html", "text/html", "案内.html", []byte("<html><body><form action=x>ID</form></body></html>"), policy.RuleUnsupported, "HTML ファイル / HTML file"},
		{"unknown", "application/octet-stream", "data.bin", []byte{0, 1, 2, 3, 0xff, 0xfe, 7, 9}, policy.RuleUnsupported, "種類を判別できないファイル / file of an unknown kind"},
		{"7z", "application/x-7z-compressed", "資料.7z", []byte("7z\xbc\xaf\x27\x1c\x00\x04rest"), policy.RuleUnsupported, "7-Zip 圧縮ファイル / 7-Zip archive"},
	}
	for _, tc := range tests {
		text, ds := noticeOf(t, nil, withAttachment(tc.ctype, tc.file, tc.data))
		if d := ds[1]; d.RuleID != tc.rule.ID || d.Action != policy.ActionStrip {
			t.Errorf("%s: decision %+v", tc.name, d)
		}
		if !strings.Contains(text, "・"+tc.file+"（"+tc.kind) || !strings.Contains(text, tc.rule.Reason.JA+"\n    "+tc.rule.Reason.EN+"\n") {
			t.Errorf("%s:\n%s", tc.name, text)
		}
		if dangerous := strings.Contains(text, "実行ファイル"); dangerous != (tc.rule.ID == policy.RuleDangerous.ID) {
			t.Errorf("%s: called a program: %v\n%s", tc.name, dangerous, text)
		}
	}
	if policy.RuleUnsupported.ReleaseMode() != policy.ReleaseApproval || policy.RuleDangerous.ReleaseMode() != policy.ReleaseNever {
		t.Error("release modes")
	}
}

// TestNoticeCannotConvert: a kind no sanitizer takes, removed by the
// policy's rule, is named and said to be unconvertible, not dangerous.
func TestNoticeCannotConvert(t *testing.T) {
	rb := testRebuilder()
	rule := policy.Rule{ID: "attachment-strip", Clause: "6(3)②", Action: policy.ActionStrip}
	o := rb.act(&state{}, rule, file{filename: "報告書.xdw"}, detect.TypeDocuWorks, policy.Decision{Path: "2", Filename: "報告書.xdw", DetectedType: detect.TypeDocuWorks, Size: 4096})
	if len(o.notes) != 1 || o.notes[0] != noteCannotConvert || o.decision.RuleID != "attachment-strip" {
		t.Fatalf("outcome %+v", o)
	}
	out := composeText(policy.Body{}, Envelope{}, []noticeItem{o.item()}, "", true)
	if !strings.Contains(out, "・報告書.xdw（DocuWorks 文書 / DocuWorks document、4.0 KB）→ 削除 / removed\n    この形式は mugai では変換できません。\n    mugai cannot convert this kind of file.\n") {
		t.Errorf("notice:\n%s", out)
	}
	// A kind a sanitizer takes, removed by the policy: nothing to add.
	if o := rb.act(&state{}, rule, file{}, detect.TypePDF, policy.Decision{}); len(o.notes) != 0 {
		t.Errorf("a PDF: %+v", o.notes)
	}
}

// TestNoticeJapaneseOnly: body.notice_languages [ja] leaves the English out.
func TestNoticeJapaneseOnly(t *testing.T) {
	pol := policyWith(t, "notice_languages: [ja, en]", "notice_languages: [ja]")
	csv := "名前,式\r\nりんご,=HYPERLINK(\"http://evil\")\r\n"
	msg := crlf("From: a@example.jp\nSubject: s\nContent-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: multipart/alternative; boundary=b\n\n--b\n"+
		"Content-Type: text/plain\n\nbody text\n--b\nContent-Type: text/html\n\n<p>body text</p>\n--b--\n--m\n") +
		"Content-Type: text/csv\r\nContent-Disposition: attachment; filename=list.csv\r\n\r\n" + csv + "--m\r\nContent-Type: application/octet-stream\r\n" +
		"Content-Disposition: attachment; filename=a.exe\r\n\r\nMZ\r\n--m--\r\n"
	text, _ := noticeOf(t, pol, msg)
	for _, want := range []string{"【無害化処理のお知らせ】\n", "処理した部分:\n", "・テキスト版を使用し、HTML 版は省略しました。\n    （規則: alternative-drop、条項: 2(13)）\n",
		"・list.csv（CSV、", "→ 無害化して添付\n", "表計算ソフトで数式として実行されるセル 1 個", "（規則: text-disarm、条項: 2(13)、部分: 2）", "原本保管番号: 20261126T000000-0123456789ab\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("lacks %q:\n%s", want, text)
		}
	}
	for _, english := range []string{"Sanitization notice", "This mail", "removed", "neutralised", "version", "rule", "clause", "Original", "administrator", " / "} {
		if strings.Contains(text, english) {
			t.Errorf("English %q in a Japanese-only notice:\n%s", english, text)
		}
	}
}

// TestKinds: every type detect gives has a name for staff; an unknown one
// gets a neutral name, never its MIME type.
func TestKinds(t *testing.T) {
	files, _ := filepath.Glob("detect/*.go")
	fset := token.NewFileSet()
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range af.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !strings.HasPrefix(name.Name, "Type") || !ok {
						continue
					}
					typ, _ := strconv.Unquote(lit.Value)
					n++
					if _, ok := kinds[typ]; !ok {
						t.Errorf("detect.%s (%s) has no kind name", name.Name, typ)
					}
				}
			}
		}
	}
	if n < 40 {
		t.Errorf("found only %d detect types", n)
	}
	for typ, k := range kinds {
		if k.ja == "" || k.en == "" || strings.Contains(k.ja+k.en, "/") {
			t.Errorf("%s: %+v", typ, k)
		}
	}
	if k := kindOf("application/x-never-heard-of"); k != (kind{"その他のファイル", "other file"}) {
		t.Errorf("unknown: %+v", k)
	}
	if k := kindOf("Image/X-Whatever; q=1"); k.ja != "画像" {
		t.Errorf("image: %+v", k)
	}
}

// TestNoticeRuleNotCarriedOut: a rule whose action could not be carried
// out is not quoted (it would say the file was extracted); the reason
// says what happened.
func TestNoticeRuleNotCarriedOut(t *testing.T) {
	rule := policy.Rule{ID: "office-extract", Clause: "2(13)", Action: policy.ActionExtract,
		Reason: policy.Text{JA: "文字だけを取り出したテキストファイルにして添付しました。", EN: "Reduced to their text, attached as a text file."}}
	d := policy.Decision{Path: "2", Filename: "図面.dwg", DetectedType: "image/vnd.dwg", Size: 100,
		Action: policy.ActionStrip, Reason: policy.ReasonNoSanitizer, RuleID: rule.ID}
	out := composeText(policy.Body{}, Envelope{}, []noticeItem{{decision: d, rule: rule}}, "", true)
	if strings.Contains(out, rule.Reason.JA) || strings.Contains(out, rule.Reason.EN) ||
		!strings.Contains(out, "・図面.dwg（CAD 図面 (DWG) / CAD drawing (DWG)、100 B）→ 削除 / removed\n    "+policy.ReasonNoSanitizer.Notice().JA+"\n    "+policy.ReasonNoSanitizer.Notice().EN+"\n") {
		t.Errorf("notice:\n%s", out)
	}
}
