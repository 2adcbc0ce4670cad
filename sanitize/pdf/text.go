package pdf

import (
	"context"
	"fmt"
	"io"
	"strings"

	pdfium "github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"

	"mugai/sanitize/format"
)

// Text extracts the text layer of a PDF as UTF-8, page by page. A PDF
// without a text layer (a scan) yields an error, so the rule's part is
// removed rather than delivered as an empty file.
type Text struct {
	Engine   *Engine
	MaxPages int // default 200
}

var _ format.Sanitizer = (*Text)(nil)

// Name implements format.Sanitizer.
func (t *Text) Name() string { return "pdf-text" }

// Sanitize implements format.Sanitizer.
func (t *Text) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (v format.Verdict, err error) {
	defer catch(&err)
	data, err := format.ReadAll(in, 64<<20)
	if err != nil {
		return v, fmt.Errorf("pdf: %w", err)
	}
	var b strings.Builder
	var pages, total int
	err = t.Engine.document(ctx, data, func(inst pdfium.Pdfium, doc references.FPDF_DOCUMENT, count int) error {
		total, pages = count, min(count, orInt(t.MaxPages, 200))
		for i := 0; i < pages; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			r, err := inst.GetPageText(&requests.GetPageText{Page: requests.Page{ByIndex: &requests.PageByIndex{Document: doc, Index: i}}})
			if err != nil {
				return fmt.Errorf("pdfium: text of page %d: %w", i+1, err)
			}
			fmt.Fprintf(&b, "--- %d ページ / page %d ---\n%s\n", i+1, i+1, strings.TrimRight(strings.ReplaceAll(r.Text, "\r\n", "\n"), "\n"))
		}
		return nil
	})
	if err != nil {
		return v, err
	}
	if !hasLetters(b.String()) {
		return v, fmt.Errorf("pdf: no text layer (a scanned document?)")
	}
	name := format.TextName(p.Filename, "document.txt")
	v = format.Verdict{Type: "text/plain; charset=utf-8", Filename: name,
		Notes: []format.Note{{JA: "レイアウト・画像・動作する内容は含まれていません。",
			EN: "Layout, images and everything active are not included."}}}
	if pages < total {
		v.Notes = append(v.Notes, pagesLost("文字を取り出しました", "read", pages, total))
	}
	_, err = io.WriteString(out, strings.ReplaceAll(b.String(), "\n", "\r\n"))
	return v, err
}

// hasLetters reports text beyond our own page headers.
func hasLetters(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "--- ") || strings.TrimSpace(line) == "" {
			continue
		}
		return true
	}
	return false
}

// pagesLost is the note on pages left out by the page limit: done of
// total pages were worked on (didJA "変換しました", didEN "converted").
// Content staff do not get: a Loss, shown at the top of the notice.
func pagesLost(didJA, didEN string, done, total int) format.Note {
	restJA := fmt.Sprintf("%d〜%d ページ", done+1, total)
	restEN := fmt.Sprintf("pages %d to %d are", done+1, total)
	if done+1 == total {
		restJA, restEN = fmt.Sprintf("%d ページ目", total), fmt.Sprintf("page %d is", total)
	}
	return format.Note{Loss: true,
		JA: fmt.Sprintf("%d ページ中 %d ページのみ%s（%sは、ページ数の上限のため含まれていません）。", total, done, didJA, restJA),
		EN: fmt.Sprintf("Only %d of %d pages were %s; %s not included (page limit).", done, total, didEN, restEN)}
}
