// Package textfile disarms plain text and CSV attachments: the text is
// decoded (charset detected as for bodies, by sanitize/text) and written
// anew as UTF-8 with CRLF line ends. A CSV (or TSV) file is parsed with
// the separator its first line suggests and written anew with it; a
// spreadsheet may still open it with another one (Excel opens every .csv
// with commas), so a formula is looked for after every place where a cell
// could start under any separator (see neutraliseRow), and neutralised
// with an apostrophe. CSV gets a UTF-8 BOM so that Japanese Excel reads it
// as UTF-8.
package textfile

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"mugai/sanitize/format"
	"mugai/sanitize/text"
)

// Types lists the detected types the Disarmer takes.
var Types = []string{"text/plain", "text/csv"}

// Disarmer rebuilds text and CSV files. The zero value is ready to use.
type Disarmer struct {
	MaxInput int64 // default 16 MiB
}

var _ format.Sanitizer = (*Disarmer)(nil)

// Name implements format.Sanitizer.
func (t *Disarmer) Name() string { return "text" }

// Sanitize implements format.Sanitizer: a file named .csv or .tsv, or
// found to be CSV, is rebuilt as CSV; anything else as text.
func (t *Disarmer) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (format.Verdict, error) {
	max := t.MaxInput
	if max <= 0 {
		max = 16 << 20
	}
	raw, err := format.ReadAll(in, max)
	if err != nil {
		return format.Verdict{}, fmt.Errorf("text: %w", err)
	}
	s, res, used := text.Decode(raw, "")
	if res == text.DecodedUnknown || res == text.DecodedLossy {
		return format.Verdict{}, fmt.Errorf("text: not readable text in any charset we know")
	}
	// A byte order mark says how the file is encoded; it is not hidden
	// text, and a rebuilt CSV gets one again.
	bom := strings.HasPrefix(s, "\ufeff")
	s, hidden := text.Normalize(s)
	if bom {
		hidden--
	}
	v := format.Verdict{Type: "text/plain; charset=utf-8"}
	if used != "utf-8" {
		v.Notes = append(v.Notes, format.Note{
			JA: "文字コードを " + used + " から UTF-8 に変換しました。",
			EN: "Re-encoded from " + used + " to UTF-8."})
	}
	if hidden > 0 {
		v.Notes = append(v.Notes, format.Note{
			JA: fmt.Sprintf("画面に表示されない文字や文字の向きを変える文字を %d 個取り除きました。", hidden),
			EN: "Removed " + format.Count(hidden, "invisible or direction-changing character", "invisible or direction-changing characters") + "."})
	}
	if ext := strings.ToLower(extOf(p.Filename)); p.SniffedType != "text/csv" && ext != "csv" && ext != "tsv" {
		_, err := io.WriteString(out, strings.ReplaceAll(s, "\n", "\r\n")+"\r\n")
		return v, err
	}
	if err := ctx.Err(); err != nil {
		return format.Verdict{}, err
	}
	b, neutralised, err := rebuildCSV(s)
	if err != nil {
		return format.Verdict{}, err
	}
	if neutralised > 0 {
		en := format.Count(neutralised, "cell that a spreadsheet would run as a formula was", "cells that a spreadsheet would run as formulas were")
		v.Notes = append(v.Notes, format.Note{
			JA: fmt.Sprintf("表計算ソフトで数式として実行されるセル %d 個を、先頭に ' を付けて文字として扱うようにしました。", neutralised),
			EN: en + " neutralised (an apostrophe put before each)."})
	}
	v.Type = "text/csv; charset=utf-8"
	_, err = out.Write(b)
	return v, err
}

// rebuildCSV parses s with the separator its first line suggests (tab or
// comma), neutralises every formula, and writes it anew with that
// separator, CRLF line ends and a BOM. It returns how many cells it
// changed.
func rebuildCSV(s string) (b []byte, neutralised int, err error) {
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord, r.LazyQuotes = -1, true
	if first, _, _ := strings.Cut(s, "\n"); strings.Count(first, "\t") > strings.Count(first, ",") {
		r.Comma = '\t'
	}
	records, err := r.ReadAll()
	if err != nil {
		return nil, 0, fmt.Errorf("csv: %w", err)
	}
	for _, rec := range records {
		neutralised += neutraliseRow(rec, r.Comma)
	}
	b, err = writeCSV(records, r.Comma)
	if err != nil || !formulaRead(b) {
		return b, neutralised, err
	}
	// The writer's quoting can join what the rows kept apart for a reader
	// with another separator (a quoted cell followed by a tab, read with
	// commas, runs on to the next lines). Then every cell that starts with
	// a sign gets its apostrophe, numbers too, and the result is checked
	// again: what still reads as a formula is refused, never delivered.
	for _, rec := range records {
		neutralised += neutraliseSigns(rec)
	}
	if b, err = writeCSV(records, r.Comma); err == nil && formulaRead(b) {
		err = errors.New("csv: a cell still reads as a formula under another separator")
	}
	return b, neutralised, err
}

// writeCSV writes records with sep, CRLF line ends and a BOM.
func writeCSV(records [][]string, sep rune) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.Comma, w.UseCRLF = sep, true
	err := w.WriteAll(records)
	return buf.Bytes(), err
}

// formulaRead reports whether b, read as a spreadsheet might (with
// commas, tabs or semicolons, quotes taken leniently), has a formula cell.
func formulaRead(b []byte) bool {
	for _, sep := range []rune{',', '\t', ';'} {
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff"))))
		r.Comma, r.FieldsPerRecord, r.LazyQuotes = sep, -1, true
		recs, err := r.ReadAll()
		if err != nil {
			continue // not readable this way: nothing evaluated either
		}
		for _, rec := range recs {
			if slices.ContainsFunc(rec, isFormula) {
				return true
			}
		}
	}
	return false
}

// neutraliseSigns puts an apostrophe before every cell of rec not yet
// neutralised whose text, after spaces, line breaks and quotes, starts
// with = + - @ (numbers too). It returns how many cells it changed.
func neutraliseSigns(rec []string) int {
	n := 0
	for i, c := range rec {
		t := strings.TrimLeft(c, " \t\r\n\"\u3000")
		if strings.HasPrefix(c, "'") || t == "" {
			continue
		}
		switch r, _ := utf8.DecodeRuneInString(t); r {
		case '=', '+', '-', '@', '＝', '＋', '－', '＠':
			rec[i] = "'" + c
			n++
		}
	}
	return n
}

// neutraliseRow puts an apostrophe before every formula in a row (CSV and
// DDE injection), whichever separator a spreadsheet reads the file with:
// the row is parsed with the separator its first line suggests, but Excel
// opens every .csv with commas, other tools with tabs, European locales
// with semicolons. So a field starts at every cell, and after every comma,
// tab, semicolon and line break inside the row (a quoted cell's line break
// ends the row when it is read with another separator): wherever one
// starts with a formula, under any of these separators, an apostrophe goes
// in ("x,=cmd|' /C calc'!A0" in a tab-separated file becomes
// "x,'=cmd|' /C calc'!A0"). A cell that starts with a tab, CR or LF gets
// one too. It returns how many cells it changed.
func neutraliseRow(rec []string, sep rune) int {
	insert := formulaStarts(rec, sep)
	if len(insert) == 0 {
		return 0
	}
	changed := 0
	for i, off := 0, 0; i < len(rec); i++ {
		c := rec[i]
		var b strings.Builder
		last := 0
		for j := 0; j < len(c); j++ {
			if insert[off+j] {
				b.WriteString(c[last:j])
				b.WriteByte('\'')
				last = j
			}
		}
		if c == "" && insert[off] { // a field that starts here, read with another separator, runs
			b.WriteByte('\'')
		}
		if last > 0 || insert[off] {
			b.WriteString(c[last:])
			rec[i] = b.String()
			changed++
		}
		off += len(c) + utf8.RuneLen(sep)
	}
	return changed
}

// formulaStarts returns the positions, in the row joined with sep, where
// an apostrophe goes: the start of a cell that starts with a tab, CR or
// LF, and of every field that is a formula under any separator.
func formulaStarts(rec []string, sep rune) map[int]bool {
	row := strings.Join(rec, string(sep))
	insert := map[int]bool{}
	for i, off := 0, 0; i < len(rec); i++ {
		if c := rec[i]; c != "" && (c[0] == '\t' || c[0] == '\r' || c[0] == '\n') {
			insert[off] = true
		}
		off += len(rec[i]) + utf8.RuneLen(sep)
	}
	// A field starts after a separator and runs to the next one (a quoted
	// cell holding a line break is one field to a CSV reader); for readers
	// that split lines first, a field also starts after a line break and
	// runs to the line's end. Each piece is judged once: linear in the row.
	for _, s := range []byte{',', '\t', ';'} {
		for start := 0; start <= len(row); {
			end := strings.IndexByte(row[start:], s)
			if end < 0 {
				end = len(row)
			} else {
				end += start
			}
			if isFormula(row[start:end]) {
				insert[start] = true
			}
			for p := start; p < end; p++ {
				if p > start && row[p-1] != '\n' && row[p-1] != '\r' {
					continue
				}
				line := row[p:end]
				if i := strings.IndexAny(line, "\r\n"); i >= 0 {
					line = line[:i]
				}
				if isFormula(line) {
					insert[p] = true
				}
			}
			start = end + 1
		}
	}
	return insert
}

// isFormula reports a field that a spreadsheet evaluates: after any
// spaces, tabs, line breaks and quotes, it starts with = + - @ (also
// full-width), and it is not made of numbers only ("-12.5", "-1,000",
// "+81 3 1234 5678", or numbers joined by separators: nothing in them can
// call a function or another program). A field neutralised with a leading
// apostrophe is not one.
func isFormula(field string) bool {
	c := strings.TrimLeft(field, " \t\r\n\"\u3000")
	if c == "" {
		return false
	}
	r, _ := utf8.DecodeRuneInString(c)
	switch r {
	case '=', '+', '-', '@', '＝', '＋', '－', '＠':
		return !isNumber(c)
	}
	return false
}

// isNumber reports numbers, signed or not, and numbers joined by
// separators, spaces and quotes (and the apostrophes neutraliseRow puts
// in): digits and nothing that could name a function, a reference or a
// program.
func isNumber(s string) bool {
	digit := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune(".,;+- \t\r\n\"'\u3000", r): // ' : one we put in; without letters nothing can be called
		default:
			return false
		}
	}
	return digit
}

// extOf returns the extension of name, without its dot.
func extOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return ""
}
