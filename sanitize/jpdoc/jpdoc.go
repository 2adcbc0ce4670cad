// Package jpdoc reads the text of Japanese document formats where it can
// be read safely: today the body text of 一太郎 8 and later documents
// (.jtd/.jtt), from their DocumentText stream (doctext.go). Nothing else
// of the document (layout, ruled lines, pictures, embedded objects,
// macros) is read or passed on. 一太郎 7, compressed (.jtdc) and older
// files, 花子, DocuWorks and JW-CAD are not read: the Extractor fails on
// them with ErrNotReadable and the walker removes the part (the original
// is kept).
package jpdoc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"

	"github.com/richardlehane/mscfb"

	"mugai/sanitize/detect"
	"mugai/sanitize/format"
	"mugai/sanitize/text"
)

// ErrNotReadable: the file is a 一太郎 document this package cannot read
// (another version, compressed, or not the structure it knows).
var ErrNotReadable = errors.New("jpdoc: this 一太郎 file's text cannot be read (only 一太郎 8 and later .jtd/.jtt documents are)")

// Types lists the detected types the Extractor takes.
var Types = []string{detect.TypeIchitaro}

const maxInput = 64 << 20

// Extractor writes the text of a 一太郎 document as a UTF-8 text file.
type Extractor struct{}

var _ format.Sanitizer = Extractor{}

// Name implements format.Sanitizer.
func (Extractor) Name() string { return "ichitaro-text" }

// Sanitize implements format.Sanitizer.
func (Extractor) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (format.Verdict, error) {
	b, err := format.ReadAll(in, maxInput)
	if err != nil {
		return format.Verdict{}, err
	}
	stream, err := documentText(b)
	if err != nil {
		return format.Verdict{}, err
	}
	if err := p.Budget.Take(int64(len(stream))); err != nil {
		return format.Verdict{}, err
	}
	u, err := textUnits(stream)
	if err != nil {
		return format.Verdict{}, errors.Join(ErrNotReadable, err)
	}
	if err := ctx.Err(); err != nil {
		return format.Verdict{}, err
	}
	s, _ := text.Normalize(render(u))
	name := format.TextName(p.Filename, "document.txt")
	_, err = io.WriteString(out, strings.ReplaceAll(s+"\n", "\n", "\r\n"))
	return format.Verdict{Type: "text/plain; charset=utf-8", Filename: name, Notes: []format.Note{{
		JA: "一太郎文書から文字だけを取り出し、テキストファイルにしました（レイアウト・罫線・図・埋め込みオブジェクトは含みません）。",
		EN: "The text of the Ichitaro document was extracted into a text file (layout, ruled lines, pictures and embedded objects are not included).",
	}}}, err
}

// documentText returns the DocumentText stream of a 一太郎 8+ document:
// an OLE2 file whose root class is 一太郎 8's.
func documentText(b []byte) ([]byte, error) {
	doc, err := mscfb.New(bytes.NewReader(b))
	if err != nil {
		return nil, errors.Join(ErrNotReadable, err)
	}
	if doc.ID() != detect.IchitaroClass {
		return nil, ErrNotReadable
	}
	for i := 0; i < 100000; i++ {
		e, err := doc.Next()
		if err != nil {
			break
		}
		if len(e.Path) != 0 || e.Name != "DocumentText" {
			continue
		}
		if e.Size <= 0 || e.Size > maxInput {
			return nil, ErrNotReadable
		}
		s := make([]byte, e.Size)
		if _, err := io.ReadFull(e, s); err != nil {
			return nil, errors.Join(ErrNotReadable, err)
		}
		return s, nil
	}
	return nil, ErrNotReadable
}
