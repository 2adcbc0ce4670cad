// Package xls extracts the cell values of Excel 97-2003 workbooks (.xls):
// the Workbook stream (BIFF8; a BIFF5 "Book" stream too) of an OLE2
// compound file, read with mscfb. The output is UTF-8 text in the shape
// sanitize/ooxml gives an .xlsx: one "## name" line per sheet, then its
// rows, cells at their columns separated by tabs.
//
// Values are written as Excel shows them: shared and inline strings,
// numbers (RK, MULRK, NUMBER) through the cell's number format (dates and
// times, Japanese eras, percentages, decimals, thousands separators), the
// cached results of formulas (number, string, bool, error), bools and
// errors. A formula itself is never written, so DDE and external
// references in formulas do not come through, nor anything else a
// workbook can run or hold: VBA, Excel 4 macro sheets, chart and VBA
// module sheets, embedded OLE objects (MBD storages), external links.
// A string a spreadsheet would run as a formula when opening the text
// gets an apostrophe in front.
//
// Hidden and very hidden worksheets are written, their heading marked
// "（非表示シート / hidden sheet）": they are text like any other, and
// what a sender hid is what staff should be able to see. An encrypted
// workbook (FILEPASS) is an error wrapping ErrEncrypted; detection flags
// it first, so the part is removed as encrypted.
package xls

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/richardlehane/mscfb"

	"mugai/sanitize/format"
)

var (
	// ErrEncrypted is a workbook with a FILEPASS record: its records
	// cannot be read without the password.
	ErrEncrypted = errors.New("xls: the workbook is encrypted (FILEPASS)")
	errNotBIFF   = errors.New("xls: the stream does not start with BIFF5 or BIFF8 workbook globals")
	errNoStream  = errors.New("xls: no Workbook or Book stream at the root of the compound file")
	errFull      = errors.New("xls: output limit reached")
	errNoSheet   = errors.New("xls: no substream where BOUNDSHEET8 says a sheet starts")
)

// Limits bound the work on one workbook; zero values take the defaults.
type Limits struct {
	MaxInput   int64 // bytes of the .xls file; default 64 MiB
	MaxRecords int   // BIFF records read in all; default 4,000,000
	MaxSheets  int   // BOUNDSHEET8 records; default 1,024
	MaxStrings int   // shared strings a workbook may declare; default 2,000,000
	MaxCells   int   // cells written, all sheets; default 2,000,000 (more are left out, with a note)
	MaxOutput  int64 // bytes of text written; default 32 MiB (the rest is cut, with a note)
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxRecords, 4_000_000)
	def(&l.MaxSheets, 1024)
	def(&l.MaxStrings, 2_000_000)
	def(&l.MaxCells, 2_000_000)
	if l.MaxInput <= 0 {
		l.MaxInput = 64 << 20
	}
	if l.MaxOutput <= 0 {
		l.MaxOutput = 32 << 20
	}
	return l
}

// Extractor writes the cell values of an .xls as text. The zero value is
// ready to use.
type Extractor struct {
	Limits Limits
}

var _ format.Sanitizer = (*Extractor)(nil)

// Name implements format.Sanitizer.
func (e *Extractor) Name() string { return "xls-text" }

// Sanitize implements format.Sanitizer.
func (e *Extractor) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (format.Verdict, error) {
	lim := e.Limits.withDefaults()
	data, err := format.ReadAll(in, lim.MaxInput)
	if err != nil {
		return format.Verdict{}, err
	}
	stream, err := workbookStream(ctx, data, p.Budget)
	if err != nil {
		return format.Verdict{}, err
	}
	res, err := extract(ctx, stream, lim, p.Budget)
	if err != nil {
		return format.Verdict{}, err
	}
	name := format.TextName(p.Filename, "document.txt")
	_, err = out.Write(res.text.Bytes())
	return format.Verdict{Type: "text/plain; charset=utf-8", Filename: name, Notes: res.notes()}, err
}

// workbookStream reads the Workbook stream (or Book, BIFF5) at the root of
// the compound file; streams inside storages (embedded objects) are not
// looked at. Its size is taken from the budget before it is read.
func workbookStream(ctx context.Context, data []byte, budget *format.Budget) (stream []byte, err error) {
	defer func() { // mscfb is not ours: a panic on a malformed file is an error
		if p := recover(); p != nil {
			stream, err = nil, fmt.Errorf("xls: malformed compound file: %v", p)
		}
	}()
	doc, err := mscfb.New(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("xls: %w", err)
	}
	var found *mscfb.File
	for e, err := doc.Next(); err == nil; e, err = doc.Next() {
		if len(e.Path) == 0 && !e.FileInfo().IsDir() && (e.Name == "Workbook" || e.Name == "Book" && found == nil) {
			found = e
		}
	}
	if found == nil {
		return nil, errNoStream
	}
	if found.Size > int64(len(data)) {
		return nil, fmt.Errorf("xls: the workbook stream declares %d bytes in a file of %d", found.Size, len(data))
	}
	if err := budget.Take(found.Size); err != nil {
		return nil, err
	}
	stream = make([]byte, found.Size)
	for off := 0; off < len(stream); {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := io.ReadFull(found, stream[off:min(len(stream), off+1<<20)])
		if err != nil {
			return nil, fmt.Errorf("xls: reading the workbook stream: %w", err)
		}
		off += n
	}
	return stream, nil
}
