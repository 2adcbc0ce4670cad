package detect

import (
	"bytes"
	"encoding/binary"
	"sort"
)

// A ZIP whose first member is a PDF stored uncompressed (Python's zipfile
// default) has "%PDF-" within its first KiB, where PDF readers look for
// it. wellFormedZip tells such a file, a ZIP from its first byte to its
// last, from a PDF with a ZIP appended or a ZIP behind a PDF: the
// former is a ZIP (flagged polyglot, since a PDF reader also opens it
// as it is), the others stay PDF polyglots.

const (
	sigLocal   = "PK\x03\x04"
	sigCentral = "PK\x01\x02"
	sigEnd     = "PK\x05\x06"
	sigDesc    = "PK\x07\x08"
	endLen     = 22 // end of central directory record, without its comment
	centralLen = 46 // central directory header, without its variable fields
	localLen   = 30 // local file header, without its variable fields
)

// zipEntry is what the central directory says of one member.
type zipEntry struct {
	name            []byte
	flags, method   uint16
	compressed, crc uint32
	offset          int64
}

// wellFormedZip reports a ZIP with nothing outside its structure: a local
// header at offset 0, each member's local header where the central
// directory says, agreeing with it (name, method, sizes), the members
// one after another without gaps, the central directory right after the
// last, and the end record (with its comment) ending the file. ZIP64 is
// not taken (such files keep the older, stricter verdicts).
func wellFormedZip(b []byte) bool {
	if !bytes.HasPrefix(b, []byte(sigLocal)) {
		return false
	}
	end := endRecord(b)
	if end < 0 {
		return false
	}
	count := int(binary.LittleEndian.Uint16(b[end+10:]))
	cdSize := int64(binary.LittleEndian.Uint32(b[end+12:]))
	cdOff := int64(binary.LittleEndian.Uint32(b[end+16:]))
	if binary.LittleEndian.Uint16(b[end+4:]) != 0 || binary.LittleEndian.Uint16(b[end+6:]) != 0 ||
		int(binary.LittleEndian.Uint16(b[end+8:])) != count || count == 0 || cdOff+cdSize != int64(end) {
		return false // multi-disk, inconsistent or empty
	}
	entries, ok := centralEntries(b[cdOff:end], count)
	if !ok {
		return false
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].offset < entries[j].offset })
	next := int64(0)
	for _, e := range entries {
		if e.offset != next {
			return false // a gap, an overlap, or not starting at 0
		}
		n, ok := localEntry(b[:cdOff], e)
		if !ok {
			return false
		}
		next = e.offset + n
	}
	return next == cdOff
}

// endRecord finds the end of central directory record whose comment ends
// the file; -1 when there is none.
func endRecord(b []byte) int {
	for i := len(b) - endLen; i >= 0 && i >= len(b)-endLen-0xFFFF; i-- {
		if string(b[i:i+4]) == sigEnd && i+endLen+int(binary.LittleEndian.Uint16(b[i+20:])) == len(b) {
			return i
		}
	}
	return -1
}

// centralEntries parses a central directory of count entries that must
// fill cd exactly.
func centralEntries(cd []byte, count int) ([]zipEntry, bool) {
	var out []zipEntry
	for range count {
		if len(cd) < centralLen || string(cd[:4]) != sigCentral {
			return nil, false
		}
		n := int(binary.LittleEndian.Uint16(cd[28:]))
		m := int(binary.LittleEndian.Uint16(cd[30:]))
		k := int(binary.LittleEndian.Uint16(cd[32:]))
		if len(cd) < centralLen+n+m+k {
			return nil, false
		}
		e := zipEntry{
			name:       cd[centralLen : centralLen+n],
			flags:      binary.LittleEndian.Uint16(cd[8:]),
			method:     binary.LittleEndian.Uint16(cd[10:]),
			crc:        binary.LittleEndian.Uint32(cd[16:]),
			compressed: binary.LittleEndian.Uint32(cd[20:]),
			offset:     int64(binary.LittleEndian.Uint32(cd[42:])),
		}
		if e.compressed == 0xFFFFFFFF || binary.LittleEndian.Uint32(cd[24:]) == 0xFFFFFFFF || e.offset == 0xFFFFFFFF {
			return nil, false // ZIP64
		}
		out = append(out, e)
		cd = cd[centralLen+n+m+k:]
	}
	return out, len(cd) == 0
}

// localEntry checks the member e's local header and data in b and returns
// the length of the whole member (header, data, data descriptor).
func localEntry(b []byte, e zipEntry) (int64, bool) {
	h := e.offset
	if h+localLen > int64(len(b)) || string(b[h:h+4]) != sigLocal {
		return 0, false
	}
	l := b[h:]
	n := int64(binary.LittleEndian.Uint16(l[26:]))
	m := int64(binary.LittleEndian.Uint16(l[28:]))
	if binary.LittleEndian.Uint16(l[8:]) != e.method || localLen+n+m > int64(len(l)) ||
		!bytes.Equal(l[localLen:localLen+n], e.name) {
		return 0, false
	}
	size := localLen + n + m + int64(e.compressed)
	if e.flags&0x8 == 0 {
		// Sizes in the local header: they must be the central ones.
		if binary.LittleEndian.Uint32(l[18:]) != e.compressed || binary.LittleEndian.Uint32(l[14:]) != e.crc {
			return 0, false
		}
		return size, size <= int64(len(l))
	}
	// A data descriptor follows the data: 12 bytes, or 16 with its signature.
	if size+12 > int64(len(l)) {
		return 0, false
	}
	d := l[size:]
	if len(d) >= 16 && string(d[:4]) == sigDesc && binary.LittleEndian.Uint32(d[4:]) == e.crc &&
		binary.LittleEndian.Uint32(d[8:]) == e.compressed {
		return size + 16, true
	}
	if binary.LittleEndian.Uint32(d[:4]) == e.crc && binary.LittleEndian.Uint32(d[4:]) == e.compressed {
		return size + 12, true
	}
	return 0, false
}
