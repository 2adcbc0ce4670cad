package doc

import (
	"os"
	"strings"
	"testing"
)

// TestLibreOffice reads a document LibreOffice wrote (testdata/make.sh):
// Japanese and CP1252 text, a hyperlink field, a table, a header and a
// footnote.
func TestLibreOffice(t *testing.T) {
	data, err := os.ReadFile("../testdata/sample.doc")
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := extract(t, data)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"会議のお知らせ",
		"下記のとおり会議を開催します。Plain ASCII line with “quotes” – and café.",
		"詳細は市のサイトをご覧ください。",
		"DDE: cached end",
		"日時\t場所\t担当",
		"12月1日 10時\t第1会議室\t山田",
		"以上",
		"",
		"--- ヘッダーとフッター / headers and footers ---",
		"市役所 総務課",
		"",
		"--- 脚注 / footnotes ---",
		"脚注の本文です。",
	}, "\r\n") + "\r\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(got, "HYPERLINK") || strings.Contains(got, "example.com") {
		t.Error("a field code came through")
	}
}
