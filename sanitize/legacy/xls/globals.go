package xls

import (
	"context"
	"encoding/binary"
	"fmt"
)

// BOF substream types ([MS-XLS] 2.4.21) and BIFF versions.
const (
	bofGlobals   = 0x0005
	bofWorksheet = 0x0010
	biff5        = 0x0500
	biff8        = 0x0600
)

// Sheet types of a BoundSheet8 record: only worksheets are written.
const (
	sheetWorksheet = 0 // worksheet or dialog sheet
	sheetMacro     = 1 // Excel 4 (XLM) macro sheet
	sheetChart     = 2
	sheetVBA       = 6 // VBA module
)

// sheet is one BoundSheet8 record: where the sheet's substream starts,
// whether it is hidden (1) or very hidden (2), its type and its name.
type sheet struct {
	pos    int
	hidden byte
	kind   byte
	name   string
}

// workbook is what the globals substream says about the whole workbook.
type workbook struct {
	strs     strReader
	date1904 bool
	sst      []string
	formats  map[uint16]string // FORMAT records: id → format code
	xfs      []uint16          // XF records in order: ixfe → format id
	sheets   []sheet
}

// readGlobals reads the workbook globals substream, which starts the
// stream: BOF, then FILEPASS, CODEPAGE, DATEMODE, FORMAT, XF, BOUNDSHEET8
// and SST records up to its EOF. Other records (fonts, names, external
// references, DDE links, VBA and OLE markers) are never read.
func readGlobals(ctx context.Context, c *cursor, lim Limits) (*workbook, error) {
	r, ok, err := c.next()
	if err != nil {
		return nil, err
	}
	if !ok || r.typ != recBOF || len(r.data) < 4 {
		return nil, errNotBIFF
	}
	vers, dt := binary.LittleEndian.Uint16(r.data), binary.LittleEndian.Uint16(r.data[2:])
	if (vers != biff8 && vers != biff5) || dt != bofGlobals {
		return nil, fmt.Errorf("%w (BOF version %#04x, type %#04x)", errNotBIFF, vers, dt)
	}
	w := &workbook{strs: strReader{biff8: vers == biff8}, formats: map[uint16]string{}}
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		r, ok, err := c.next()
		if err != nil {
			return nil, err
		}
		if !ok || r.typ == recEOF {
			return w, nil
		}
		if err := w.global(ctx, c, r, lim); err != nil {
			return nil, err
		}
	}
}

// global takes one record of the globals substream.
func (w *workbook) global(ctx context.Context, c *cursor, r record, lim Limits) error {
	d := r.data
	switch r.typ {
	case recFilePass:
		return ErrEncrypted
	case recCodePage:
		if len(d) >= 2 && !w.strs.biff8 {
			w.strs.cp = codePage(binary.LittleEndian.Uint16(d))
		}
	case recDateMode:
		w.date1904 = len(d) >= 2 && binary.LittleEndian.Uint16(d) == 1
	case recXF:
		if len(d) >= 4 && len(w.xfs) < 1<<16 {
			w.xfs = append(w.xfs, binary.LittleEndian.Uint16(d[2:]))
		}
	case recFormat:
		return w.format(d)
	case recBoundSheet:
		return w.boundSheet(d, lim)
	case recSST:
		conts, err := c.continues()
		if err != nil {
			return err
		}
		return w.readSST(ctx, d, conts, lim)
	}
	return nil
}

// format reads a FORMAT record: the id, then the format code.
func (w *workbook) format(d []byte) error {
	if len(d) < 2 {
		return errShort
	}
	lenBytes := 2
	if !w.strs.biff8 {
		lenBytes = 1
	}
	code, err := w.strs.str(one(d[2:]), lenBytes)
	if err != nil {
		return err
	}
	w.formats[binary.LittleEndian.Uint16(d)] = code
	return nil
}

// boundSheet reads a BOUNDSHEET8 record: substream position, hidden
// state, sheet type, name.
func (w *workbook) boundSheet(d []byte, lim Limits) error {
	if len(d) < 7 {
		return errShort
	}
	if len(w.sheets) >= lim.MaxSheets {
		return fmt.Errorf("xls: more than %d sheets", lim.MaxSheets)
	}
	name, err := w.strs.str(one(d[6:]), 1)
	if err != nil {
		return err
	}
	w.sheets = append(w.sheets, sheet{pos: int(binary.LittleEndian.Uint32(d)), hidden: d[4] & 0x03,
		kind: d[5], name: name})
	return nil
}

// readSST reads the shared string table: the SST record and the CONTINUE
// records after it hold cstUnique XLUnicodeRichExtendedStrings, each
// length, options, [run count], [phonetic size], characters, [runs],
// [phonetic block]. Runs and phonetic (furigana) blocks are skipped. A
// table with fewer strings than it declares is kept as far as it goes.
func (w *workbook) readSST(ctx context.Context, d []byte, conts [][]byte, lim Limits) error {
	if len(d) < 8 {
		return errShort
	}
	if !w.strs.biff8 {
		return nil // BIFF5 has no shared strings
	}
	unique := binary.LittleEndian.Uint32(d[4:])
	if int64(unique) > int64(lim.MaxStrings) {
		return fmt.Errorf("xls: the shared string table declares %d strings, more than %d", unique, lim.MaxStrings)
	}
	f := newFrags(append([][]byte{d[8:]}, conts...)...)
	w.sst = make([]string, 0, min(int(unique), f.avail()/3+1))
	for len(w.sst) < int(unique) && f.avail() > 0 {
		if len(w.sst)%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s, err := richString(f)
		if err != nil {
			return fmt.Errorf("xls: shared string %d: %w", len(w.sst), err)
		}
		w.sst = append(w.sst, s)
	}
	return nil
}

// richString reads one XLUnicodeRichExtendedString ([MS-XLS] 2.5.293).
func richString(f *frags) (string, error) {
	cch, err := f.u16()
	if err != nil {
		return "", err
	}
	opt, err := f.byte()
	if err != nil {
		return "", err
	}
	var runs uint16
	var ext uint32
	if opt&0x08 != 0 { // fRichSt
		if runs, err = f.u16(); err != nil {
			return "", err
		}
	}
	if opt&0x04 != 0 { // fExtSt: phonetic block
		if ext, err = f.u32(); err != nil {
			return "", err
		}
	}
	s, err := f.chars(int(cch), opt&0x01 != 0)
	if err != nil {
		return "", err
	}
	if err := f.skip(4 * int(runs)); err != nil {
		return "", err
	}
	if int64(ext) > int64(f.avail()) {
		return "", errShort
	}
	return s, f.skip(int(ext))
}
