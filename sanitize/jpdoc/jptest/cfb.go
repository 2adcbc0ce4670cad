// Package jptest builds minimal files of the Japanese document formats for
// tests: OLE2 compound files (with a root class, nested storages, streams
// of any size) and 一太郎 documents holding a given text. What it writes
// follows the signatures and layouts described in sanitize/detect's
// japanese.go and sanitize/jpdoc: real files are not available to tests.
package jptest

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"unicode/utf16"
)

// Entry is a stream (Data not nil) or a storage (Data nil) at Path, its
// storages separated by "/" ("DocumentMacro/Macros/MacrosStream").
// Storages are created for the folders of a path as needed.
type Entry struct {
	Path string
	Data []byte
}

const (
	sector     = 512
	mini       = 64
	cutoff     = 4096
	endChain   = 0xFFFFFFFE
	fatSect    = 0xFFFFFFFD
	free       = 0xFFFFFFFF
	noStream   = 0xFFFFFFFF
	dirEntries = sector / 128
)

type dirEntry struct {
	name         string
	kind         byte // 1 storage, 2 stream, 5 root
	data         []byte
	child, right uint32
	start        uint32
	size         uint64
	class        []byte
	lastChild    int
}

// CFB writes a version 3 compound file whose root storage has the class
// (a "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" CLSID, "" for none) and
// holds entries. Streams under 4096 bytes go into the mini stream.
func CFB(class string, entries ...Entry) []byte {
	dir := []*dirEntry{{name: "Root Entry", kind: 5, child: noStream, right: noStream, class: guid(class), lastChild: -1}}
	find := map[string]int{"": 0}
	add := func(p string, data []byte, kind byte) {
		parent := find[p[:max(0, strings.LastIndex(p, "/"))]]
		e := &dirEntry{name: p[strings.LastIndex(p, "/")+1:], kind: kind, data: data, child: noStream, right: noStream, lastChild: -1}
		dir = append(dir, e)
		i := len(dir) - 1
		if pe := dir[parent]; pe.lastChild < 0 {
			pe.child = uint32(i)
		} else {
			dir[pe.lastChild].right = uint32(i)
		}
		dir[parent].lastChild = i
		find[p] = i
	}
	for _, e := range entries {
		parts := strings.Split(e.Path, "/")
		for k := 1; k < len(parts); k++ {
			if _, ok := find[strings.Join(parts[:k], "/")]; !ok {
				add(strings.Join(parts[:k], "/"), nil, 1)
			}
		}
		if e.Data == nil {
			add(e.Path, nil, 1)
		} else {
			add(e.Path, e.Data, 2)
		}
	}
	return layout(dir)
}

// layout places the directory, the mini stream and the streams in sectors
// and writes the file.
func layout(dir []*dirEntry) []byte {
	var miniStream []byte
	var miniFAT []uint32
	var big [][]byte
	for _, e := range dir {
		if e.kind != 2 {
			continue
		}
		e.size = uint64(len(e.data))
		switch {
		case len(e.data) == 0:
			e.start = endChain
		case len(e.data) < cutoff:
			e.start = uint32(len(miniFAT))
			n := (len(e.data) + mini - 1) / mini
			miniFAT = appendChain(miniFAT, n)
			miniStream = append(miniStream, pad(e.data, mini)...)
		default:
			big = append(big, e.data)
		}
	}
	dirSects := (len(dir) + dirEntries - 1) / dirEntries
	miniFATSects := (len(miniFAT)*4 + sector - 1) / sector
	miniSects := (len(miniStream) + sector - 1) / sector
	bigSects := 0
	for _, b := range big {
		bigSects += (len(b) + sector - 1) / sector
	}
	fatSects := 1
	for (fatSects+dirSects+miniFATSects+miniSects+bigSects)*4 > fatSects*sector {
		fatSects++
	}
	var fat []uint32
	for range fatSects {
		fat = append(fat, fatSect)
	}
	dirStart := uint32(len(fat))
	fat = appendChain(fat, dirSects)
	miniFATStart := uint32(endChain)
	if miniFATSects > 0 {
		miniFATStart = uint32(len(fat))
		fat = appendChain(fat, miniFATSects)
	}
	dir[0].start, dir[0].size = endChain, uint64(len(miniStream))
	if miniSects > 0 {
		dir[0].start = uint32(len(fat))
		fat = appendChain(fat, miniSects)
	}
	k := 0
	for _, e := range dir {
		if e.kind == 2 && len(e.data) >= cutoff {
			e.start = uint32(len(fat))
			fat = appendChain(fat, (len(big[k])+sector-1)/sector)
			k++
		}
	}
	var out []byte
	out = append(out, header(fatSects, dirStart, miniFATStart, miniFATSects)...)
	fatBytes := make([]byte, 0, fatSects*sector)
	for _, v := range fat {
		fatBytes = binary.LittleEndian.AppendUint32(fatBytes, v)
	}
	for len(fatBytes) < fatSects*sector {
		fatBytes = binary.LittleEndian.AppendUint32(fatBytes, free)
	}
	out = append(out, fatBytes...)
	out = append(out, directory(dir, dirSects)...)
	mf := []byte{}
	for _, v := range miniFAT {
		mf = binary.LittleEndian.AppendUint32(mf, v)
	}
	for len(mf) < miniFATSects*sector {
		mf = binary.LittleEndian.AppendUint32(mf, free)
	}
	out = append(out, mf...)
	out = append(out, pad(miniStream, sector)...)
	for _, b := range big {
		out = append(out, pad(b, sector)...)
	}
	return out
}

func header(fatSects int, dirStart, miniFATStart uint32, miniFATSects int) []byte {
	h := make([]byte, sector)
	copy(h, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})
	binary.LittleEndian.PutUint16(h[24:], 0x3E)
	binary.LittleEndian.PutUint16(h[26:], 3)
	binary.LittleEndian.PutUint16(h[28:], 0xFFFE)
	binary.LittleEndian.PutUint16(h[30:], 9)
	binary.LittleEndian.PutUint16(h[32:], 6)
	binary.LittleEndian.PutUint32(h[44:], uint32(fatSects))
	binary.LittleEndian.PutUint32(h[48:], dirStart)
	binary.LittleEndian.PutUint32(h[56:], cutoff)
	binary.LittleEndian.PutUint32(h[60:], miniFATStart)
	binary.LittleEndian.PutUint32(h[64:], uint32(miniFATSects))
	binary.LittleEndian.PutUint32(h[68:], endChain) // no DIFAT sectors
	for i := 76; i < sector; i += 4 {
		binary.LittleEndian.PutUint32(h[i:], free)
	}
	for i := range fatSects { // the FAT sectors come first
		binary.LittleEndian.PutUint32(h[76+4*i:], uint32(i))
	}
	return h
}

func directory(dir []*dirEntry, sects int) []byte {
	out := make([]byte, sects*sector)
	for i := range sects * dirEntries {
		b := out[i*128:]
		binary.LittleEndian.PutUint32(b[68:], noStream)
		binary.LittleEndian.PutUint32(b[72:], noStream)
		binary.LittleEndian.PutUint32(b[76:], noStream)
		if i >= len(dir) {
			continue
		}
		e := dir[i]
		name := utf16.Encode([]rune(e.name))
		for k, u := range name {
			binary.LittleEndian.PutUint16(b[2*k:], u)
		}
		binary.LittleEndian.PutUint16(b[64:], uint16(2*len(name)+2))
		b[66], b[67] = e.kind, 1 // black
		binary.LittleEndian.PutUint32(b[72:], e.right)
		binary.LittleEndian.PutUint32(b[76:], e.child)
		copy(b[80:96], e.class)
		binary.LittleEndian.PutUint32(b[116:], e.start)
		binary.LittleEndian.PutUint64(b[120:], e.size)
	}
	return out
}

func appendChain(fat []uint32, n int) []uint32 {
	for k := range n {
		if k == n-1 {
			fat = append(fat, endChain)
		} else {
			fat = append(fat, uint32(len(fat)+1))
		}
	}
	return fat
}

func pad(b []byte, to int) []byte {
	if r := len(b) % to; r != 0 {
		return append(b[:len(b):len(b)], make([]byte, to-r)...)
	}
	return b
}

// guid encodes a CLSID as a directory entry holds it (the first three
// fields little-endian).
func guid(s string) []byte {
	out := make([]byte, 16)
	h, err := hex.DecodeString(strings.NewReplacer("{", "", "}", "", "-", "").Replace(s))
	if err != nil || len(h) != 16 {
		return out
	}
	out[0], out[1], out[2], out[3] = h[3], h[2], h[1], h[0]
	out[4], out[5], out[6], out[7] = h[5], h[4], h[7], h[6]
	copy(out[8:], h[8:])
	return out
}
