// Package doc reads Word 97-2003 documents (.doc, [MS-DOC]) as text: the
// File Information Block says where the piece table is, the piece table
// says where each run of characters lies in the WordDocument stream
// (CP1252 bytes or UTF-16), and only those characters are written, as
// UTF-8. Field codes (a DDE or INCLUDETEXT field's instructions) are left
// out and only their results kept; macros, embedded objects and links are
// never read: nothing but the text streams is opened.
package doc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"mugai/sanitize/format"
	"mugai/sanitize/text"
)

var (
	// ErrEncrypted is a document encrypted or obfuscated with a password:
	// its text cannot be read.
	ErrEncrypted = errors.New("doc: the document is encrypted")
	errNotWord   = errors.New("doc: not a Word 97-2003 document")
	errOld       = errors.New("doc: a Word 6/95 document (not supported)")
	errLimit     = errors.New("doc: over a limit")
	errPiece     = errors.New("doc: a piece lies outside the WordDocument stream")
)

// Types lists the detected types the Extractor takes.
var Types = []string{"application/msword"}

// Defaults of the Extractor's limits.
const (
	DefaultMaxBytes  = 64 << 20 // input
	DefaultMaxText   = 8 << 20  // characters written
	DefaultMaxPieces = 1 << 18  // piece table entries
)

// Extractor writes the text of a Word 97-2003 document as UTF-8 in a .txt
// file of the same name: the main text, then text boxes, headers and
// footers, footnotes and endnotes under a heading each. Comments are
// left out.
type Extractor struct {
	MaxBytes  int64 // input; 0: DefaultMaxBytes
	MaxText   int   // characters; 0: DefaultMaxText (more is cut, and said)
	MaxPieces int   // piece table entries; 0: DefaultMaxPieces
}

var _ format.Sanitizer = (*Extractor)(nil)

// Name implements format.Sanitizer.
func (e *Extractor) Name() string { return "doc-text" }

// Sanitize implements format.Sanitizer. An encrypted document fails with
// ErrEncrypted (detect flags such a file first, so it is normally
// removed as encrypted before it gets here).
func (e *Extractor) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (format.Verdict, error) {
	maxBytes := orDefault(e.MaxBytes, DefaultMaxBytes)
	data, err := format.ReadAll(in, maxBytes)
	if err != nil {
		return format.Verdict{}, err
	}
	res, err := e.extract(ctx, data, p.Budget)
	if err != nil {
		return format.Verdict{}, err
	}
	s, _ := text.Normalize(res.text)
	s = strings.ReplaceAll(strings.TrimRight(s, "\n")+"\n", "\n", "\r\n")
	if err := p.Budget.Take(int64(len(s))); err != nil {
		return format.Verdict{}, err
	}
	v := format.Verdict{Type: "text/plain; charset=utf-8", Filename: format.TextName(p.Filename, "document.txt"),
		Notes: []format.Note{{
			JA: "Word 文書から文字だけを取り出しました（レイアウト、画像、マクロ、埋め込みオブジェクト、フィールドのコードは含みません）。",
			EN: "only the text of the Word document was kept (no layout, images, macros, embedded objects or field codes)",
		}}}
	if res.cut {
		v.Notes = append(v.Notes, format.Note{
			JA:   fmt.Sprintf("文書が長いため、先頭の %d 文字だけを取り出しました。", res.max),
			EN:   fmt.Sprintf("the document is long: only its first %d characters were kept", res.max),
			Loss: true})
	}
	_, err = io.WriteString(out, s)
	return v, err
}

func orDefault[T int | int64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
