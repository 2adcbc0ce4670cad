// Package ppt reads PowerPoint 97-2003 presentations (.ppt, [MS-PPT]) as
// text: the Current User stream points at the newest save, its persist
// directory at the document and its slides, and the text of each slide
// (its placeholders' text in the slide list, its text boxes in the
// slide's drawing) is written as UTF-8, slide by slide in presentation
// order. Nothing else is read: not the macros (VBA), not embedded objects
// (ExOleObjStg), not links, not comments. The notes pages' text follows each slide's.
package ppt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"mugai/sanitize/format"
	"mugai/sanitize/legacy/internal/ole"
	"mugai/sanitize/text"
)

var (
	// ErrEncrypted is a presentation encrypted with a password: its text
	// cannot be read.
	ErrEncrypted = errors.New("ppt: the presentation is encrypted")
	errNotPPT    = errors.New("ppt: not a PowerPoint 97-2003 presentation")
	errLimit     = errors.New("ppt: over a limit (records, nesting or persist entries)")
)

// Types lists the detected types the Extractor takes.
var Types = []string{"application/vnd.ms-powerpoint"}

// Defaults of the Extractor's limits.
const (
	DefaultMaxBytes   = 64 << 20 // input
	DefaultMaxText    = 8 << 20  // characters written
	DefaultMaxRecords = 1 << 20  // records read
	DefaultMaxDepth   = 32       // records nested
)

// Extractor writes the text of a PowerPoint 97-2003 presentation as UTF-8
// in a .txt file of the same name, under a heading per slide.
type Extractor struct {
	MaxBytes   int64 // 0: DefaultMaxBytes
	MaxText    int   // 0: DefaultMaxText (more is cut, and said)
	MaxRecords int   // 0: DefaultMaxRecords
	MaxDepth   int   // 0: DefaultMaxDepth
}

var _ format.Sanitizer = (*Extractor)(nil)

// Name implements format.Sanitizer.
func (e *Extractor) Name() string { return "ppt-text" }

// Sanitize implements format.Sanitizer. An encrypted presentation fails
// with ErrEncrypted (detect flags such a file first, so it is normally
// removed as encrypted before it gets here).
func (e *Extractor) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (format.Verdict, error) {
	data, err := format.ReadAll(in, orDefault(e.MaxBytes, DefaultMaxBytes))
	if err != nil {
		return format.Verdict{}, err
	}
	st, err := ole.Streams(data, p.Budget, "Current User", "PowerPoint Document")
	if err != nil {
		return format.Verdict{}, fmt.Errorf("ppt: %w", err)
	}
	res, err := e.fromStreams(ctx, st["Current User"], st["PowerPoint Document"])
	if err != nil {
		return format.Verdict{}, err
	}
	s, _ := text.Normalize(res.text)
	s = strings.ReplaceAll(strings.TrimRight(s, "\n")+"\n", "\n", "\r\n")
	if err := p.Budget.Take(int64(len(s))); err != nil {
		return format.Verdict{}, err
	}
	v := format.Verdict{Type: "text/plain; charset=utf-8", Filename: format.TextName(p.Filename, "presentation.txt"),
		Notes: []format.Note{{
			JA: "PowerPoint プレゼンテーションからスライドとノートの文字だけを取り出しました（レイアウト、画像、マクロ、埋め込みオブジェクトは含みません）。",
			EN: "only the text of the slides and their notes was kept (no layout, images, macros or embedded objects)",
		}}}
	if res.cut {
		v.Notes = append(v.Notes, format.Note{
			JA:   fmt.Sprintf("プレゼンテーションが長いため、先頭の %d 文字だけを取り出しました。", res.max),
			EN:   fmt.Sprintf("the presentation is long: only its first %d characters were kept", res.max),
			Loss: true})
	}
	_, err = io.WriteString(out, s)
	return v, err
}

// result is what fromStreams read.
type result struct {
	text string
	cut  bool
	max  int
}

// fromStreams writes the slides' text from the Current User and
// PowerPoint Document streams.
func (e *Extractor) fromStreams(ctx context.Context, cur, doc []byte) (result, error) {
	if doc == nil {
		return result{}, errNotPPT
	}
	w := &walker{ctx: ctx, doc: doc, records: orDefault(e.MaxRecords, DefaultMaxRecords),
		depth: orDefault(e.MaxDepth, DefaultMaxDepth), chars: orDefault(e.MaxText, DefaultMaxText)}
	ed, err := readEdits(cur, doc, w.records)
	if errors.Is(err, ErrEncrypted) {
		return result{}, err
	}
	if err != nil {
		if ed, err = scanEdits(doc, w.records); err != nil {
			return result{}, err
		}
	}
	docRec, err := ed.record(doc, ed.doc, rtDocument)
	if err != nil {
		return result{}, err
	}
	slides, notes, err := w.slideList(docRec)
	if err != nil {
		return result{}, err
	}
	var b strings.Builder
	for i, s := range slides {
		if err := ctx.Err(); err != nil {
			return result{}, err
		}
		fmt.Fprintf(&b, "--- スライド %d / slide %d ---\n", i+1, i+1)
		if err := w.slide(&b, ed, s, notes); err != nil {
			return result{}, err
		}
		if w.cut {
			break
		}
	}
	return result{text: b.String(), cut: w.cut, max: orDefault(e.MaxText, DefaultMaxText)}, nil
}

func orDefault[T int | int64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
