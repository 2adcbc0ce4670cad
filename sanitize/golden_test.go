package sanitize

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mugai/policy"
	"mugai/sanitize/calendar"
	"mugai/sanitize/detect"
	"mugai/sanitize/format"
	"mugai/sanitize/image"
	"mugai/sanitize/jpdoc"
	"mugai/sanitize/legacy/doc"
	"mugai/sanitize/legacy/ppt"
	"mugai/sanitize/legacy/xls"
	"mugai/sanitize/ooxml"
	"mugai/sanitize/pdf"
	"mugai/sanitize/rtffile"
	"mugai/sanitize/textfile"
)

var update = flag.Bool("update", false, "rewrite the .want.eml and .decisions.json golden files")

// testEnvelope is fixed so that rebuilt messages are byte-for-byte stable.
var testEnvelope = Envelope{
	ID: "20261126T000000-0123456789ab", From: "sender@example.org", Rcpts: []string{"rcpt@city.example.lg.jp"},
	ClientIP: "192.0.2.1", Helo: "mx.example.org", Received: time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC),
}

func testRebuilder() *Rebuilder {
	return &Rebuilder{Policy: policy.Default(), Hostname: "mugai.test", Sanitizers: testSanitizers()}
}

// testFlattener is shared by the tests of this package: its pdfium pool is
// compiled once (lazily, on the first PDF) and cached across runs.
var testEngine = &pdf.Engine{Instances: 1, CacheDir: filepath.Join(os.TempDir(), "mugai-test-wazero-cache")}

// testSanitizers is the registry main builds, for tests of this package.
func testSanitizers() *format.Registry {
	r := fastSanitizers()
	r.Register("flatten", &pdf.Flattener{Engine: testEngine}, pdf.Types...)
	r.Register("extract", &pdf.Text{Engine: testEngine}, pdf.Types...)
	return r
}

// fastSanitizers is the registry without PDF rendering, for fuzzing.
func fastSanitizers() *format.Registry {
	r := &format.Registry{}
	r.Register("disarm", &image.Disarmer{}, image.Types...)
	r.Register("disarm", &textfile.Disarmer{}, textfile.Types...)
	r.Register("disarm", &ooxml.Disarmer{}, ooxml.Types...)
	r.Register("extract", &ooxml.Extractor{}, ooxml.Types...)
	r.Register("extract", rtffile.Extractor{}, rtffile.Types...)
	r.Register("disarm", &pdf.Disarmer{}, pdf.Types...)
	r.Register("extract", &calendar.Extractor{}, calendar.Types...)
	r.Register("disarm", &calendar.Disarmer{}, calendar.Types...)
	r.Register("extract", &xls.Extractor{}, detect.TypeXLS)
	r.Register("extract", &doc.Extractor{}, detect.TypeDOC)
	r.Register("extract", &ppt.Extractor{}, detect.TypePPT)
	r.Register("extract", jpdoc.Extractor{}, jpdoc.Types...)
	return r
}

// TestGolden rebuilds each testdata/NN-name.eml and compares the message and
// the decisions with the golden files, then checks what a reader of the
// output sees.
func TestGolden(t *testing.T) {
	tests := []struct {
		name       string
		subject    string
		from       string
		contains   []string        // in the decoded body text
		absent     []string        // anywhere in the raw output or the body text
		reasons    []policy.Reason // decision reasons in part order
		attachment bool            // a kept attachment is expected
	}{
		// HTML only: converted, hidden text and active content gone
		{name: "01-html-only", subject: "Monthly newsletter", from: `Example News <news@example.com>`,
			contains: []string{"November news", "events page <hxxps://example[.]com/events>", "⚠ HTML 本文に画面に表示されない文字列", "・Item one", "Date | Event", "[画像: Example logo]", "原本保管番号 / Original kept as: 20261126T000000-0123456789ab"},
			absent:   []string{"secret preheader", "alert", "tracking comment", "<p>", "color: red", "Newsletter"},
			reasons:  []policy.Reason{policy.ReasonHTMLConverted, policy.ReasonHiddenText}},
		// multipart/alternative: text/plain wins, HTML dropped
		{name: "02-alternative", subject: "Re: meeting", from: `Sato <sato@example.co.jp>`,
			contains: []string{"会議は木曜日です。\nSee you on Thursday.", "・テキスト版を使用し、HTML 版は省略しました。\n    The text version was used; the HTML version was left out.\n    （規則 rule: alternative-drop"},
			absent:   []string{"<b>", "<p>"},
			reasons:  []policy.Reason{policy.ReasonBodyText, policy.ReasonAlternativeUnused}},
		// attachments: both stripped, named in the notice
		{name: "03-attachments", subject: "Invoice", from: `<vendor@example.net>`,
			contains: []string{"Please find the invoice attached.", "・請求書.pdf（PDF、91 B）→ 削除 / removed", "・invoice.pdf.exe（実行ファイル等の名前 / named as a program、86 B）", "rule: builtin-sanitize-failed", "rule: builtin-dangerous-type"},
			absent:   []string{"JVBERi", "payload-bytes-EXE", "app.alert", "TVqQ"},
			// the "PDF" is a fake pdfium cannot open: flattening fails closed
			reasons: []policy.Reason{policy.ReasonBodyText, policy.ReasonSanitizeFailed, policy.ReasonDangerousType}},
		// ISO-2022-JP: subject, display name and body decoded
		{name: "04-iso2022jp", subject: "会議のお知らせ", from: `=?UTF-8?B?5bGx55Sw5aSq6YOO?= <yamada@example.ne.jp>`,
			contains: []string{"来週の会議は第３会議室で行います。", "総務課 山田", "変更・削除した部分はありません。"},
			absent:   []string{"\x1b$B", "\uFFFD"},
			reasons:  []policy.Reason{policy.ReasonBodyText}},
		// Shift_JIS HTML declared only by <meta>: layout table flattened, data table aligned
		{name: "05-sjis-html-meta", subject: "市民だより１２月号", from: `=?UTF-8?B?5biC5rCR6Kqy?= <news@city.example.lg.jp>`,
			contains: []string{"いつもご利用いただきありがとうございます。年末年始の窓口についてお知らせします。", "日付             | 窓口\n12月28日         | 午前のみ", "・詳しくは市のホームページ <hxxps://www[.]city[.]example[.]lg[.]jp/info> へ"},
			absent:   []string{"<td", "市民だより\n"},
			reasons:  []policy.Reason{policy.ReasonHTMLConverted}},
		// phishing: hidden text gone and counted, the mismatched link flagged
		{name: "06-phishing", subject: "【重要】アカウント確認のお願い", from: `Bank <support@bank-example.net>`,
			contains: []string{"パスワードの再設定", "表示: bank.example.co.jp → 実際の行き先: login.evil.example.net / shows bank.example.co.jp, leads to login.evil.example.net", "⚠ リンクの表示と実際の行き先が異なります"},
			absent:   []string{"ignore previous content", "xx本人", "https://"},
			reasons:  []policy.Reason{policy.ReasonHTMLConverted, policy.ReasonHiddenText, policy.ReasonLinkMismatch}},
		// declared ISO-2022-JP, really Shift_JIS; raw Shift_JIS subject; encoded word in quotes
		{name: "07-mislabelled", subject: "御見積のご送付", from: `=?UTF-8?B?6Yi05pyo?= <suzuki@example.co.jp>`,
			contains: []string{"見積書を添付いたします。ご確認ください。", "本文の文字コードの表示が誤っていたため"},
			reasons:  []policy.Reason{policy.ReasonCharsetMislabelled}},
		// filenames in every encoding, shown decoded in the notice
		{name: "08-filenames", subject: "files", from: `<a@example.jp>`,
			contains: []string{"・見積書（第2版）.pdf（", "・議事録_令和8年度.docx（", "・会場案内図.png（", "・名簿.xlsx（"},
			// the .docx and .xlsx are a few bytes of ZIP and OLE magic: not what their names claim
			// and the .png is only a PNG signature: its disarm fails, so it is removed
			reasons: []policy.Reason{policy.ReasonBodyText, policy.ReasonSanitizeFailed, policy.ReasonTypeMismatch, policy.ReasonSanitizeFailed, policy.ReasonTypeMismatch}},
		// split encoded words, unlabelled ISO-2022-JP-MS body
		{name: "09-split-words-jis-ms", subject: "会議", from: `=?UTF-8?B?6auZ5qmL?= <takahashi@example.jp>`,
			contains: []string{"①㈱髙 担当： ｶﾀｶﾅ", "以上、よろしくお願いします。"},
			reasons:  []policy.Reason{policy.ReasonCharsetGuessed}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := filepath.Join("testdata", tc.name)
			in, err := os.ReadFile(base + ".eml")
			if err != nil {
				t.Fatal(err)
			}
			res, err := testRebuilder().Rebuild(testEnvelope, bytes.NewReader(in))
			if err != nil {
				t.Fatalf("Rebuild: %v", err)
			}
			decisions, _ := json.MarshalIndent(res.Decisions, "", "  ")
			decisions = append(decisions, '\n')
			compareGolden(t, base+".want.eml", res.Message)
			compareGolden(t, base+".decisions.json", decisions)

			out, err := parseOutput(res.Message)
			if err != nil {
				t.Fatalf("output does not parse: %v\n%s", err, res.Message)
			}
			if got := strings.Join(out.types, ","); got != "text/plain" {
				t.Errorf("parts = %s, want a single text/plain", got)
			}
			dec := new(mimeDecoder)
			if got := dec.header(out.header.Get("Subject")); got != tc.subject {
				t.Errorf("Subject = %q, want %q", got, tc.subject)
			}
			if got := out.header.Get("From"); got != tc.from {
				t.Errorf("From = %q, want %q", got, tc.from)
			}
			if got := out.header.Get("X-Mugai-Id"); got != testEnvelope.ID {
				t.Errorf("X-Mugai-Id = %q", got)
			}
			for _, s := range tc.contains {
				if !strings.Contains(out.text, s) {
					t.Errorf("body lacks %q\n--- body ---\n%s", s, out.text)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(out.text, s) || bytes.Contains(res.Message, []byte(s)) {
					t.Errorf("output contains %q", s)
				}
			}
			var reasons []policy.Reason
			for _, d := range res.Decisions {
				reasons = append(reasons, d.Reason)
				if d.RuleID == "" || d.Clause == "" || d.SHA256 == "" || d.Action == "" {
					t.Errorf("incomplete decision %+v", d)
				}
			}
			if !slices.Equal(reasons, tc.reasons) {
				t.Errorf("reasons = %v, want %v", reasons, tc.reasons)
			}
		})
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		os.WriteFile(path+".got", got, 0o644)
		t.Errorf("%s differs from the golden file; wrote %s.got", path, path)
	}
}
