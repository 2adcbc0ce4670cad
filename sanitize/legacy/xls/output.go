package xls

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"mugai/sanitize/format"
)

// hiddenMark follows the name of a hidden sheet in its heading.
const hiddenMark = "（非表示シート / hidden sheet）"

// result is the text of a workbook and what the notes say about it.
type result struct {
	text       bytes.Buffer
	hidden     int  // hidden sheets written, marked
	skipped    int  // chart, macro and VBA module sheets left out
	unreadable int  // worksheets whose substream is not where BOUNDSHEET8 says
	cut        bool // the output limit was reached
	t          tally
}

// extract reads the globals, then each worksheet in the order of its
// BOUNDSHEET8 record, and writes their text.
func extract(ctx context.Context, stream []byte, lim Limits, budget *format.Budget) (*result, error) {
	left := lim.MaxRecords
	w, err := readGlobals(ctx, &cursor{b: stream, left: &left}, lim)
	if err != nil {
		return nil, err
	}
	res := &result{t: tally{max: lim.MaxCells}}
	o := &textOut{buf: &res.text, budget: budget, max: lim.MaxOutput}
	for _, s := range w.sheets {
		if s.kind != sheetWorksheet {
			res.skipped++
			continue
		}
		g, ok, err := w.readSheet(ctx, &cursor{b: stream, off: s.pos, left: &left}, &res.t)
		if errors.Is(err, errNoSheet) {
			res.unreadable++
			continue
		}
		if err != nil {
			return nil, err
		}
		if !ok {
			res.skipped++ // the substream is no worksheet, whatever BOUNDSHEET8 said
			continue
		}
		head := "## " + oneLine(s.name)
		if s.hidden != 0 {
			head += hiddenMark
			res.hidden++
		}
		err = o.line(head)
		if err == nil {
			err = g.lines(o.line)
		}
		if errors.Is(err, errFull) {
			res.cut = true
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// textOut writes lines with CRLF ends, taking what it writes from the
// message's budget in steps of 64 KiB, up to max bytes.
type textOut struct {
	buf    *bytes.Buffer
	budget *format.Budget
	taken  int64
	max    int64
}

func (o *textOut) line(s string) error {
	n := int64(o.buf.Len() + len(s) + 2)
	if n > o.max {
		return errFull
	}
	if n > o.taken {
		step := max(64<<10, n-o.taken)
		if err := o.budget.Take(step); err != nil {
			return err
		}
		o.taken += step
	}
	o.buf.WriteString(s)
	o.buf.WriteString("\r\n")
	return nil
}

// notes say what was done, Japanese first and English beside it.
func (r *result) notes() []format.Note {
	n := []format.Note{{
		JA: "文字と値だけを取り出しました（数式は計算結果のみ。書式・マクロ・埋め込みオブジェクトは削除）",
		EN: "only the text and values were kept (formulas as their results; formatting, macros and embedded objects removed)",
	}}
	if r.hidden > 0 {
		n = append(n, format.Note{JA: fmt.Sprintf("非表示のシート %d 枚も、非表示と記して含めました", r.hidden),
			EN: fmt.Sprintf("%s included, marked as hidden", count(r.hidden, "hidden sheet", "hidden sheets"))})
	}
	if r.skipped > 0 {
		n = append(n, format.Note{JA: fmt.Sprintf("グラフ・マクロのシート %d 枚は取り出していません", r.skipped),
			EN: fmt.Sprintf("%s of charts or macros left out", count(r.skipped, "sheet", "sheets"))})
	}
	if k := r.t.neutralised; k > 0 {
		n = append(n, format.Note{JA: fmt.Sprintf("表計算ソフトで数式として動く値 %d 個は、先頭に ' を付けて無効化しました", k),
			EN: fmt.Sprintf("%s a spreadsheet would run as a formula %s neutralised with a leading apostrophe",
				count(k, "value", "values"), pick(k == 1, "was", "were"))})
	}
	if r.unreadable > 0 {
		n = append(n, format.Note{Loss: true, JA: fmt.Sprintf("読み取れないシート %d 枚は取り出していません", r.unreadable),
			EN: fmt.Sprintf("%s that could not be read left out", count(r.unreadable, "sheet", "sheets"))})
	}
	if k := r.t.dropped; k > 0 {
		n = append(n, format.Note{Loss: true, JA: fmt.Sprintf("セルが多すぎるため、%d 個のセルは取り出していません（上限 %d 個）", k, r.t.max),
			EN: fmt.Sprintf("%s beyond the limit of %d left out", count(k, "cell", "cells"), r.t.max)})
	}
	if r.cut {
		n = append(n, format.Note{Loss: true, JA: "文字が多すぎるため、途中までしか取り出していません",
			EN: "the text was cut off at the size limit"})
	}
	return n
}

// count writes n with the singular or plural noun.
func count(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, pick(n == 1, one, many))
}

func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}
