// Package rtffile reads RTF attachments as text: the text of a document
// (sanitize/text renders it) is written as UTF-8 and everything else
// (formatting, pictures, fields) is left out. RTF that embeds or links
// objects (OLE packages, the equation-editor exploits) is refused, not
// even read as text.
package rtffile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"mugai/sanitize/format"
	"mugai/sanitize/text"
)

// Types lists the detected types the Extractor takes.
var Types = []string{"text/rtf", "application/rtf"}

// objectWords are the control words that embed or link objects (OLE
// packages, the equation-editor exploits): RTF holding any of them is
// never passed, not even as text.
var objectWords = []string{`\object`, `\objdata`, `\objemb`, `\objlink`, `\objautlink`, `\objupdate`, `\objocx`,
	`\objhtml`, `\objclass`, `\objattph`, `\objsub`, `\objpub`, `\objicemb`}

// HasObjects reports RTF that embeds or links objects. RTF readers
// ignore bare CR and LF, so "\\ob<CRLF>ject" is "\\object" to Word: they
// are dropped before looking, and case is ignored.
func HasObjects(b []byte) bool {
	flat := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case c == '\r' || c == '\n':
		case 'A' <= c && c <= 'Z':
			flat = append(flat, c+'a'-'A')
		default:
			flat = append(flat, c)
		}
	}
	for _, w := range objectWords {
		if bytes.Contains(flat, []byte(w)) {
			return true
		}
	}
	return false
}

// Extractor extracts the text of an RTF document as UTF-8, in a .txt
// file of the same name.
type Extractor struct{}

var _ format.Sanitizer = Extractor{}

// Name implements format.Sanitizer.
func (Extractor) Name() string { return "rtf-text" }

// Sanitize implements format.Sanitizer: anything that does not start
// as Word reads RTF, or that holds objects, fails.
func (Extractor) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (format.Verdict, error) {
	b, err := io.ReadAll(io.LimitReader(in, 64<<20))
	if err != nil {
		return format.Verdict{}, err
	}
	if !bytes.HasPrefix(bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))), []byte(`{\rt`)) { // as Word reads it
		return format.Verdict{}, fmt.Errorf("rtf: not an RTF document")
	}
	if HasObjects(b) {
		return format.Verdict{}, fmt.Errorf("rtf: embeds objects")
	}
	s, _ := text.Normalize(text.RTFToText(b))
	name := format.TextName(p.Filename, "document.txt")
	_, err = io.WriteString(out, strings.ReplaceAll(s, "\n", "\r\n")+"\r\n")
	return format.Verdict{Type: "text/plain; charset=utf-8", Filename: name,
		Notes: []format.Note{{JA: "書式と画像は含まれていません。",
			EN: "Formatting and pictures are not included."}}}, err
}
