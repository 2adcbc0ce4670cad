package ppt

import (
	"os"
	"strings"
	"testing"
)

// TestLibreOffice reads a presentation LibreOffice wrote
// (testdata/make.sh): title and outline placeholders, text boxes, a
// link, a notes page and an empty slide.
func TestLibreOffice(t *testing.T) {
	data, err := os.ReadFile("../testdata/sample.ppt")
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := extract(t, &Extractor{}, data)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"--- スライド 1 / slide 1 ---",
		"住民説明会の資料",
		"日時：12月1日",
		"場所：市民会館 “hall” café",
		"テキスト ボックスの文字",
		"(ノート / notes)",
		"発表者のノート",
		"--- スライド 2 / slide 2 ---",
		"Second slide",
		"リンクの文字",
		"--- スライド 3 / slide 3 ---",
	}, "\r\n") + "\r\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(got, "example.com") {
		t.Error("a link target came through")
	}
}
