package pdf

import (
	"strings"
	"testing"
)

// TestPagesLost: the note on pages past the page limit, a range or one
// page, is a Loss in both languages.
func TestPagesLost(t *testing.T) {
	tests := []struct {
		done, total int
		ja, en      string
	}{
		{50, 60, "60 ページ中 50 ページのみ変換しました（51〜60 ページは、ページ数の上限のため含まれていません）。",
			"Only 50 of 60 pages were converted; pages 51 to 60 are not included (page limit)."},
		{2, 3, "3 ページ中 2 ページのみ変換しました（3 ページ目は、ページ数の上限のため含まれていません）。",
			"Only 2 of 3 pages were converted; page 3 is not included (page limit)."},
	}
	for _, tc := range tests {
		n := pagesLost("変換しました", "converted", tc.done, tc.total)
		if !n.Loss || n.JA != tc.ja || n.EN != tc.en {
			t.Errorf("%d of %d: %+v", tc.done, tc.total, n)
		}
	}
}

// TestDescribe: what the disarm removed is named in Japanese, counted in
// both languages, in a sentence with a verb.
func TestDescribe(t *testing.T) {
	n := describe(map[string]int{"JavaScript": 2, "links to web pages (bookmarks)": 1, "bookmarks, whole (a cycle)": 1, "page actions": 3})
	if n.JA != "次の動作する内容を取り除きました: JavaScript 2 件、しおり全体 1 件、Web ページへのリンク（しおり） 1 件、ページのアクション 3 件。" ||
		n.EN != "Removed: JavaScript (2), bookmarks, whole (a cycle) (1), links to web pages (bookmarks) (1), page actions (3)." || n.Loss {
		t.Errorf("%+v", n)
	}
	if n := describe(nil); !strings.HasPrefix(n.JA, "動作する内容は見つかりませんでした") || !strings.HasPrefix(n.EN, "Nothing active was found") {
		t.Errorf("nothing: %+v", n)
	}
	for _, k := range []string{"OpenAction", "Names", "AcroForm", "JavaScript", "Launch", "GoToR", "SubmitForm", "URI", "Collection", "Perms"} {
		if what := describeKey(k); japaneseOf(what) == what && what != "JavaScript" {
			t.Errorf("%s: %q has no Japanese", k, what)
		}
	}
	for _, sub := range []string{"FileAttachment", "Widget", "RichMedia"} {
		if what := describeAnnot(sub); japaneseOf(what) == what {
			t.Errorf("%s: %q has no Japanese", sub, what)
		}
	}
}
