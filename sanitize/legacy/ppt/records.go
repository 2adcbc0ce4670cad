package ppt

import (
	"encoding/binary"
	"errors"
	"fmt"
)

var le = binary.LittleEndian

// Record types ([MS-PPT] 2.13.24) and OfficeArt types ([MS-ODRAW]).
const (
	rtDocument          = 0x03E8
	rtSlide             = 0x03EE
	rtNotes             = 0x03F0
	rtSlideAtom         = 0x03EF
	rtSlidePersistAtom  = 0x03F3
	rtSlideListWithText = 0x0FF0
	rtUserEditAtom      = 0x0FF5
	rtCurrentUserAtom   = 0x0FF6
	rtPersistDirectory  = 0x1772
	rtTextHeaderAtom    = 0x0F9F
	rtTextCharsAtom     = 0x0FA0
	rtTextBytesAtom     = 0x0FA8
	rtOutlineTextRef    = 0x0F9E
	rtCryptSession10    = 0x2F14

	headerTokenPlain     = 0xE391C05F
	headerTokenEncrypted = 0xF3D1C4DF
)

// header is a RecordHeader: the record's data is at off+8, len bytes.
type header struct {
	ver, inst uint16
	typ       uint16
	len       uint32
	off       int // of the header in the stream
}

func (h header) container() bool { return h.ver == 0xF }
func (h header) end() int        { return h.off + 8 + int(h.len) }

// readHeader reads the record header at off; the record must lie within b.
func readHeader(b []byte, off int) (header, error) {
	if off < 0 || off+8 > len(b) {
		return header{}, fmt.Errorf("ppt: record at %d outside the stream", off)
	}
	vi := le.Uint16(b[off:])
	h := header{ver: vi & 0xF, inst: vi >> 4, typ: le.Uint16(b[off+2:]), len: le.Uint32(b[off+4:]), off: off}
	if uint64(off)+8+uint64(h.len) > uint64(len(b)) {
		return header{}, fmt.Errorf("ppt: record 0x%04X at %d longer than the stream", h.typ, off)
	}
	return h, nil
}

// data returns the record's body.
func (h header) data(b []byte) []byte { return b[h.off+8 : h.end()] }

// children calls fn for each record inside the container h, in order,
// counting every record against *budget (errLimit once it is spent).
func children(b []byte, h header, budget *int, fn func(c header) error) error {
	for off := h.off + 8; off < h.end(); {
		if *budget--; *budget < 0 {
			return errLimit
		}
		c, err := readHeader(b[:h.end()], off)
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
		off = c.end()
	}
	return nil
}

// edit is what the current UserEditAtom and the persist directory say.
type edit struct {
	doc     uint32            // persist id of the DocumentContainer
	persist map[uint32]uint32 // persist id → offset in the stream
}

// maxEdits bounds the chain of saves followed.
const maxEdits = 4096

// readEdits follows the UserEditAtom chain from the Current User stream's
// offset, newest first, and builds the persist directory: a persist id
// takes the offset of the newest save that wrote it ([MS-PPT] 2.1.2). At
// most maxEntries persist entries are read over all the saves. An
// encrypted document is ErrEncrypted.
func readEdits(cur, doc []byte, maxEntries int) (edit, error) {
	h, err := readHeader(cur, 0)
	if err != nil || h.typ != rtCurrentUserAtom || h.len < 12 {
		return edit{}, fmt.Errorf("ppt: no CurrentUserAtom")
	}
	d := h.data(cur)
	switch le.Uint32(d[4:]) {
	case headerTokenPlain:
	case headerTokenEncrypted:
		return edit{}, ErrEncrypted
	default:
		return edit{}, fmt.Errorf("ppt: unknown CurrentUserAtom token")
	}
	e := edit{persist: map[uint32]uint32{}}
	seen := map[uint32]bool{}
	left := maxEntries
	off := le.Uint32(d[8:])
	for first := true; ; first = false {
		if seen[off] || len(seen) >= maxEdits {
			return edit{}, fmt.Errorf("ppt: the chain of saves loops")
		}
		seen[off] = true
		u, err := readHeader(doc, int(off))
		if err != nil || u.typ != rtUserEditAtom || u.len < 0x1C {
			return edit{}, fmt.Errorf("ppt: no UserEditAtom at %d", off)
		}
		ud := u.data(doc)
		if u.len >= 0x20 {
			return edit{}, ErrEncrypted // encryptSessionPersistIdRef: a CryptSession10Container
		}
		if first {
			e.doc = le.Uint32(ud[16:])
		}
		if err := readPersist(doc, int(le.Uint32(ud[12:])), e.persist, &left, false); err != nil {
			return edit{}, err
		}
		if off = le.Uint32(ud[8:]); off == 0 {
			return e, nil
		}
	}
}

// readPersist adds the entries of the PersistDirectoryAtom at off: those
// a newer save has not set, or all of them when override is set.
// left counts the entries that may still be read, over all the saves.
func readPersist(doc []byte, off int, into map[uint32]uint32, left *int, override bool) error {
	h, err := readHeader(doc, off)
	if err != nil || h.typ != rtPersistDirectory {
		return fmt.Errorf("ppt: no PersistDirectoryAtom at %d", off)
	}
	d := h.data(doc)
	for len(d) >= 4 {
		v := le.Uint32(d)
		id, n := v&0xFFFFF, int(v>>20)
		d = d[4:]
		if 4*n > len(d) {
			return fmt.Errorf("ppt: malformed persist directory")
		}
		if *left -= n + 1; *left < 0 {
			return errLimit
		}
		for k := 0; k < n; k++ {
			if _, ok := into[id+uint32(k)]; !ok || override {
				into[id+uint32(k)] = le.Uint32(d[4*k:])
			}
		}
		d = d[4*n:]
	}
	return nil
}

// record returns the header of the record of persist id, which must be
// of type typ.
func (e edit) record(doc []byte, id uint32, typ uint16) (header, error) {
	off, ok := e.persist[id]
	if !ok {
		return header{}, fmt.Errorf("ppt: persist id %d not in the directory", id)
	}
	h, err := readHeader(doc, int(off))
	if err != nil {
		return header{}, err
	}
	if h.typ != typ || !h.container() {
		return header{}, fmt.Errorf("ppt: persist id %d is a 0x%04X record, not 0x%04X", id, h.typ, typ)
	}
	return h, nil
}

// scanEdits is the way in when the chain of saves is broken (a
// UserEditAtom that points at itself, a Current User stream that points
// nowhere): the top-level records are read in stream order, each save's
// persist directory overriding the ones before it, and the last
// UserEditAtom names the document.
func scanEdits(doc []byte, maxRecords int) (edit, error) {
	e := edit{persist: map[uint32]uint32{}}
	found, left := false, maxRecords
	for off, n := 0, 0; off < len(doc) && n < maxRecords; n++ {
		h, err := readHeader(doc, off)
		if err != nil {
			break
		}
		off = h.end()
		if h.typ != rtUserEditAtom || h.len < 0x1C {
			continue
		}
		if h.len >= 0x20 {
			return edit{}, ErrEncrypted
		}
		d := h.data(doc)
		switch err := readPersist(doc, int(le.Uint32(d[12:])), e.persist, &left, true); {
		case err == nil:
			e.doc, found = le.Uint32(d[16:]), true
		case errors.Is(err, errLimit):
			return edit{}, err
		}
	}
	if !found {
		return edit{}, errNotPPT
	}
	return e, nil
}
