// Package cfbwrite writes small compound files (OLE2, [MS-CFB] version 3)
// for the tests and fuzz seeds of the legacy Office readers: streams
// under 4,096 bytes go into the mini stream as the format requires, so a
// reader sees every stream at its true size. It is not a general writer:
// no DIFAT sectors (at most 109 FAT sectors, about 7 MB), and the
// directory is a chain of right siblings, which readers accept.
package cfbwrite

import (
	"encoding/binary"
	"unicode/utf16"
)

// Entry is a stream (Children nil) or a storage holding Children.
type Entry struct {
	Name     string
	Data     []byte
	Children []Entry
	Storage  bool // a storage even when it has no children
}

const (
	sector    = 512
	mini      = 64
	cutoff    = 4096
	endChain  = 0xFFFFFFFE
	fatSect   = 0xFFFFFFFD
	free      = 0xFFFFFFFF
	noStream  = 0xFFFFFFFF
	dirPerSec = sector / 128
)

type dirEntry struct {
	name                 string
	typ                  byte
	left, right, child   uint32
	start                uint32
	size                 uint64
	data                 []byte
	children             []int
	inMini, isStorageDir bool
}

// Build returns a compound file holding entries under its root.
func Build(entries ...Entry) []byte {
	dirs := []*dirEntry{{name: "Root Entry", typ: 5, left: noStream, right: noStream, child: noStream}}
	var add func(parent int, es []Entry)
	add = func(parent int, es []Entry) {
		prev := -1
		for _, e := range es {
			d := &dirEntry{name: e.Name, typ: 2, left: noStream, right: noStream, child: noStream, data: e.Data, size: uint64(len(e.Data))}
			if e.Storage || e.Children != nil {
				d.typ, d.size, d.data = 1, 0, nil
			}
			dirs = append(dirs, d)
			id := len(dirs) - 1
			if prev < 0 {
				dirs[parent].child = uint32(id)
			} else {
				dirs[prev].right = uint32(id)
			}
			prev = id
			if d.typ == 1 {
				add(id, e.Children)
			}
		}
	}
	add(0, entries)

	// The mini stream: small streams in 64-byte mini sectors.
	var ministream []byte
	var minifat []uint32
	for _, d := range dirs[1:] {
		if d.typ != 2 || d.size == 0 || d.size >= cutoff {
			continue
		}
		d.inMini = true
		d.start = uint32(len(minifat))
		n, first := (len(d.data)+mini-1)/mini, len(minifat)
		for k := 0; k < n; k++ {
			minifat = append(minifat, next(k, n, first))
		}
		ministream = append(ministream, pad(d.data, mini)...)
	}
	for _, d := range dirs[1:] {
		if d.typ == 2 && d.size == 0 {
			d.start = endChain
		}
	}

	// Regular sectors after the FAT: directory, mini FAT, mini stream, big streams.
	var body []byte
	var chains [][2]int // start sector (relative to the body), count
	place := func(b []byte) int {
		start := len(body) / sector
		b = pad(b, sector)
		body = append(body, b...)
		chains = append(chains, [2]int{start, len(b) / sector})
		return start
	}
	dirSecs := (len(dirs) + dirPerSec - 1) / dirPerSec
	dirStart := place(make([]byte, dirSecs*sector))
	miniFATStart, miniStart := -1, -1
	if len(minifat) > 0 {
		mf := make([]byte, 4*len(minifat))
		for i, v := range minifat {
			binary.LittleEndian.PutUint32(mf[4*i:], v)
		}
		miniFATStart = place(mf)
		miniStart = place(ministream)
	}
	bigStart := map[*dirEntry]int{}
	for _, d := range dirs[1:] {
		if d.typ == 2 && d.size >= cutoff {
			bigStart[d] = place(d.data)
		}
	}
	total := len(body) / sector
	fatSecs := 1
	for fatSecs*(sector/4) < total+fatSecs {
		fatSecs++
	}
	off := fatSecs // body sectors follow the FAT sectors
	fat := make([]uint32, fatSecs*(sector/4))
	for i := range fat {
		fat[i] = free
	}
	for i := 0; i < fatSecs; i++ {
		fat[i] = fatSect
	}
	for _, c := range chains {
		for k := 0; k < c[1]; k++ {
			fat[off+c[0]+k] = next(k, c[1], off+c[0])
		}
	}
	for d, s := range bigStart {
		d.start = uint32(off + s)
	}
	root := dirs[0]
	root.start, root.size = endChain, uint64(len(ministream))
	if miniStart >= 0 {
		root.start = uint32(off + miniStart)
	}

	hdr := make([]byte, sector)
	copy(hdr, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})
	le := binary.LittleEndian
	le.PutUint16(hdr[24:], 0x3E)
	le.PutUint16(hdr[26:], 3)
	le.PutUint16(hdr[28:], 0xFFFE)
	le.PutUint16(hdr[30:], 9)
	le.PutUint16(hdr[32:], 6)
	le.PutUint32(hdr[44:], uint32(fatSecs))
	le.PutUint32(hdr[48:], uint32(off+dirStart))
	le.PutUint32(hdr[56:], cutoff)
	le.PutUint32(hdr[60:], endChain)
	if miniFATStart >= 0 {
		le.PutUint32(hdr[60:], uint32(off+miniFATStart))
		le.PutUint32(hdr[64:], uint32((4*len(minifat)+sector-1)/sector))
	}
	le.PutUint32(hdr[68:], endChain)
	for i := 76; i < sector; i += 4 {
		le.PutUint32(hdr[i:], free)
	}
	for i := 0; i < fatSecs; i++ {
		le.PutUint32(hdr[76+4*i:], uint32(i))
	}

	dir := body[dirStart*sector : (dirStart+dirSecs)*sector]
	for i, d := range dirs {
		writeDir(dir[i*128:(i+1)*128], d)
	}
	for i := len(dirs); i < dirSecs*dirPerSec; i++ {
		e := dir[i*128 : (i+1)*128]
		le.PutUint32(e[68:], noStream)
		le.PutUint32(e[72:], noStream)
		le.PutUint32(e[76:], noStream)
	}
	out := hdr
	fb := make([]byte, 4*len(fat))
	for i, v := range fat {
		le.PutUint32(fb[4*i:], v)
	}
	out = append(out, fb...)
	return append(out, body...)
}

func writeDir(e []byte, d *dirEntry) {
	le := binary.LittleEndian
	u := utf16.Encode([]rune(d.name))
	if len(u) > 31 {
		u = u[:31]
	}
	for k, c := range u {
		le.PutUint16(e[2*k:], c)
	}
	le.PutUint16(e[64:], uint16(2*len(u)+2))
	e[66], e[67] = d.typ, 1
	le.PutUint32(e[68:], d.left)
	le.PutUint32(e[72:], d.right)
	le.PutUint32(e[76:], d.child)
	le.PutUint32(e[116:], d.start)
	le.PutUint64(e[120:], d.size)
}

// next is the FAT value of the k-th of n sectors of a chain starting at first.
func next(k, n, first int) uint32 {
	if k == n-1 {
		return endChain
	}
	return uint32(first + k + 1)
}

func pad(b []byte, unit int) []byte {
	if r := len(b) % unit; r != 0 || len(b) == 0 {
		return append(append([]byte(nil), b...), make([]byte, unit-r)...)
	}
	return b
}
