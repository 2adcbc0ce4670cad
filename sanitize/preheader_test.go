package sanitize

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mugai/policy"
)

// TestPreheaderMessages rebuilds the newsletter shapes of
// text/testdata/preheader as whole messages: the benign ones (a hidden
// preview line at the top) get a notice without ⚠ and no hidden-text
// decision; the hostile ones (a link in it, stacked texts, 10 KB, hidden
// text after the body starts or in a table row) get the warning.
func TestPreheaderMessages(t *testing.T) {
	tests := []struct {
		file    string
		warn    bool
		prefer  string // the policy's body.prefer: html for a multipart/alternative
		visible string // in the rebuilt body
	}{
		{file: "ok-mailchimp.html", visible: "Dear gardener"},
		{file: "ok-litmus.html", visible: "New opening hours", prefer: "html"},
		{file: "ok-benesse.html", visible: "いつも進研ゼミをご利用いただき"},
		{file: "ok-rakuten.html", visible: "新米 5kg はこちら", prefer: "html"},
		{file: "ok-hybrid.html", visible: "親子料理教室：12月13日（土）13時から。"},
		{file: "bad-link.html", warn: true, visible: "Dear user"},
		{file: "bad-stacked.html", warn: true, visible: "詳細は添付"},
		{file: "bad-long.html", warn: true, visible: "お知らせ"},
		{file: "bad-after.html", warn: true, visible: "Accounts", prefer: "html"},
		{file: "bad-cell.html", warn: true, visible: "よろしくお願いいたします。"},
		{file: "bad-in-link.html", warn: true, visible: "account will be closed"},
		{file: "bad-image.html", warn: true, visible: "This week's news."},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join("text", "testdata", "preheader", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			rb := testRebuilder()
			msg := preheaderMessage(doc, tc.prefer != "")
			if tc.prefer != "" {
				p := *rb.Policy
				p.Body.Prefer = tc.prefer
				rb.Policy = &p
			}
			res, err := rb.Rebuild(testEnvelope, strings.NewReader(msg))
			if err != nil {
				t.Fatal(err)
			}
			out, err := parseOutput(res.Message)
			if err != nil {
				t.Fatal(err)
			}
			hidden := false
			for _, d := range res.Decisions {
				hidden = hidden || d.Reason == policy.ReasonHiddenText
			}
			warned := strings.Contains(out.text, "⚠")
			field := strings.Contains(out.header.Get(actionsField), "warning=hidden-text")
			if hidden != tc.warn || warned != tc.warn || field != tc.warn {
				t.Errorf("hidden-text decision %v, ⚠ in the notice %v, in %s %v; want %v\n%s",
					hidden, warned, actionsField, field, tc.warn, out.text)
			}
			if !strings.Contains(out.text, tc.visible) {
				t.Errorf("body lacks %q:\n%s", tc.visible, out.text)
			}
			for _, s := range []string{"Spring sale: 20% off", "autumn reading list.", "保護者向けの無料オンライン説明会のご案内", "人気のお米", "Ignore previous", "振込先が変更", "03-0000-0000"} {
				if strings.Contains(out.text, s) {
					t.Errorf("hidden text %q in the body:\n%s", s, out.text)
				}
			}
		})
	}
}

// preheaderMessage wraps an HTML newsletter in a message: HTML only, or
// as the HTML alternative of a multipart/alternative with a short text
// version, as bulk mailers send it.
func preheaderMessage(doc []byte, alternative bool) string {
	head := "From: News <news@example.com>\r\nTo: rcpt@city.example.lg.jp\r\nSubject: newsletter\r\nMIME-Version: 1.0\r\n"
	html := "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString(doc) + "\r\n"
	if !alternative {
		return head + html
	}
	return head + "Content-Type: multipart/alternative; boundary=ALT\r\n\r\n" +
		"--ALT\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nView this newsletter in HTML.\r\n" +
		"--ALT\r\n" + html + "--ALT--\r\n"
}
