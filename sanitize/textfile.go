package sanitize

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"mugai/sanitize/format"
)

// TextFile disarms plain text and CSV attachments: the text is decoded
// (charset detected as for bodies) and written anew as UTF-8 with CRLF
// line ends; in CSV, cells that a spreadsheet would run as a formula or
// DDE command (starting with = + - @, also full-width, or tab/CR) get a
// leading apostrophe. CSV gets a UTF-8 BOM so that Japanese Excel reads it
// as UTF-8.
type TextFile struct {
	MaxInput int64 // default 16 MiB
}

var _ format.Sanitizer = (*TextFile)(nil)

// TextFileTypes lists the detected types TextFile takes.
var TextFileTypes = []string{"text/plain", "text/csv"}

// Name implements format.Sanitizer.
func (t *TextFile) Name() string { return "text" }

// Sanitize implements format.Sanitizer.
func (t *TextFile) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (format.Verdict, error) {
	max := t.MaxInput
	if max <= 0 {
		max = 16 << 20
	}
	raw, err := format.ReadAll(in, max)
	if err != nil {
		return format.Verdict{}, fmt.Errorf("text: %w", err)
	}
	text, res, used := decodeText(raw, "")
	if res == decodedUnknown || res == decodedLossy {
		return format.Verdict{}, fmt.Errorf("text: not readable text in any charset we know")
	}
	text, hidden := plainText(text)
	v := format.Verdict{Type: "text/plain; charset=utf-8"}
	if used != "utf-8" {
		v.Removed = append(v.Removed, "re-encoded from "+used+" to UTF-8")
	}
	if hidden > 0 {
		v.Removed = append(v.Removed, fmt.Sprintf("%d invisible or direction-changing characters", hidden))
	}
	if p.SniffedType != "text/csv" && !strings.EqualFold(extOf(p.Filename), "csv") {
		_, err := io.WriteString(out, strings.ReplaceAll(text, "\n", "\r\n")+"\r\n")
		return v, err
	}
	if err := ctx.Err(); err != nil {
		return format.Verdict{}, err
	}
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord, r.LazyQuotes = -1, true
	if strings.Count(firstLine(text), "\t") > strings.Count(firstLine(text), ",") {
		r.Comma = '\t'
	}
	records, err := r.ReadAll()
	if err != nil {
		return format.Verdict{}, fmt.Errorf("csv: %w", err)
	}
	neutralised := 0
	for _, rec := range records {
		for i, cell := range rec {
			if isFormula(cell) {
				rec[i] = "'" + cell
				neutralised++
			}
		}
	}
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.Comma, w.UseCRLF = r.Comma, true
	if err := w.WriteAll(records); err != nil {
		return format.Verdict{}, err
	}
	if neutralised > 0 {
		v.Removed = append(v.Removed, fmt.Sprintf("%d cells that a spreadsheet would run as formulas were neutralised", neutralised))
	}
	v.Type = "text/csv; charset=utf-8"
	_, err = out.Write(buf.Bytes())
	return v, err
}

// isFormula reports cells that spreadsheets evaluate (CSV/DDE injection).
func isFormula(cell string) bool {
	c := strings.TrimLeft(cell, " ")
	if c == "" {
		return false
	}
	switch []rune(c)[0] {
	case '=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠':
		return !isNumber(c)
	}
	return false
}

// isNumber keeps negative numbers ("-12.5") as they are.
func isNumber(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	if s == "" {
		return false
	}
	dot := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r == '.' && !dot:
			dot = true
		case r == ',':
		default:
			return false
		}
	}
	return true
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func extOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return ""
}
