package jpdoc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
)

// The DocumentText stream of a 一太郎 8+ document, as the reverse-engineered
// "Ichitaro document format (.jtd) — working specification" (EZPZ File
// JTD, draft of 2026-10-01, built on the OpenJTD and Tika-JTD RFCs; 95
// public files by 一太郎 8 to 2018) describes it, every integer big-endian:
//
//	"SsmgV.01" u32 sub_count  u32 block_size  u32 block_count
//	block_count × block_size bytes
//	per sub-stream: u32 index, u32 0, u32 byte_length, u32 n, u32 n, n × u32 block id
//	u32 0
//
// Sub-stream 0 is "TextV.01" u32 unit_count, then unit_count UTF-16BE
// units (style runs follow), or "QLSTV.01" u32 piece_count and
// (u32 unit_count, u32 sub_index) per piece, each piece's units at the
// start of its own sub-stream. Both were checked against files written
// by 一太郎 2016.

var (
	errNotText  = errors.New("jpdoc: DocumentText is not an SsmgV.01 block store")
	errTooLarge = errors.New("jpdoc: DocumentText declares more than the limits allow")
)

const maxUnits = 16 << 20 // text units read at most (32 MiB of UTF-16)

// blockStore returns the sub-streams of an SsmgV.01 stream, by index.
func blockStore(b []byte) (map[uint32][]byte, error) {
	if len(b) < 20 || string(b[:8]) != "SsmgV.01" {
		return nil, errNotText
	}
	subs := binary.BigEndian.Uint32(b[8:])
	size := uint64(binary.BigEndian.Uint32(b[12:]))
	count := uint64(binary.BigEndian.Uint32(b[16:]))
	if size == 0 || size > 1<<20 || subs > 1<<16 || 20+size*count > uint64(len(b)) {
		return nil, errNotText
	}
	blocks, dir := b[20:20+size*count], b[20+size*count:]
	out := map[uint32][]byte{}
	for range subs {
		if len(dir) < 20 {
			return nil, errNotText
		}
		idx, length := binary.BigEndian.Uint32(dir), uint64(binary.BigEndian.Uint32(dir[8:]))
		n := uint64(binary.BigEndian.Uint32(dir[12:]))
		if n != uint64(binary.BigEndian.Uint32(dir[16:])) || 20+4*n > uint64(len(dir)) || length > n*size {
			return nil, errNotText
		}
		sub := make([]byte, 0, length)
		for k := range n {
			id := uint64(binary.BigEndian.Uint32(dir[20+4*k:]))
			if id >= count {
				return nil, errNotText
			}
			sub = append(sub, blocks[id*size:(id+1)*size]...)
		}
		out[idx] = sub[:length]
		dir = dir[20+4*n:]
	}
	return out, nil
}

// textUnits returns the document's text units, pieces joined.
func textUnits(b []byte) ([]uint16, error) {
	subs, err := blockStore(b)
	if err != nil {
		return nil, err
	}
	first := subs[0]
	switch {
	case len(first) >= 12 && string(first[:8]) == "TextV.01":
		return units(first[12:], binary.BigEndian.Uint32(first[8:]))
	case len(first) >= 12 && string(first[:8]) == "QLSTV.01":
		pieces := uint64(binary.BigEndian.Uint32(first[8:]))
		if 12+8*pieces > uint64(len(first)) {
			return nil, errNotText
		}
		var all []uint16
		for k := range pieces {
			n := binary.BigEndian.Uint32(first[12+8*k:])
			sub, ok := subs[binary.BigEndian.Uint32(first[16+8*k:])]
			if !ok {
				return nil, errNotText
			}
			u, err := units(sub, n)
			if err != nil || len(all)+len(u) > maxUnits {
				return nil, errors.Join(err, errTooLarge)
			}
			all = append(all, u...)
		}
		return all, nil
	}
	return nil, errNotText
}

func units(b []byte, n uint32) ([]uint16, error) {
	if n > maxUnits || uint64(n)*2 > uint64(len(b)) {
		return nil, fmt.Errorf("%w: %d text units in %d bytes", errNotText, n, len(b))
	}
	out := make([]uint16, n)
	for i := range out {
		out[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	return out, nil
}

// render turns text units into plain text: records (0x001C … 0x001F,
// their length in their third word) are skipped, inline records show
// their text (a ruby reading in parentheses after its base, a template
// instruction not at all), paragraph and row ends become line breaks.
func render(u []uint16) string {
	var out []uint16
	hide := false // inside a template instruction's inline text
	ruby := false // inside a ruby reading, shown in parentheses
	for i := 0; i < len(u); i++ {
		switch c := u[i]; {
		case c == 0x1C && i+2 < len(u) && u[i+1] == 0x0001 && i+6 < len(u) && u[i+6] == 0x1D:
			kind := [2]uint16{u[i+4], u[i+5]}
			hide = kind == [2]uint16{1, 0}
			if ruby = kind == [2]uint16{1, 0x82}; ruby {
				out = append(out, '（')
			}
			i += 6
		case c == 0x1C && i+2 < len(u):
			n := int(u[i+2])
			if n < 3 {
				n = 3
			}
			i += n - 1
		case c == 0x1E: // inline footer: 001E 0005 0000 class 001F
			if i+4 < len(u) && u[i+1] == 5 && u[i+3] == 0x0001 && u[i+4] == 0x1F {
				if ruby {
					out = append(out, '）')
				}
				i += 4
			}
			hide, ruby = false, false
		case c == 0x0A || c == 0x0E || c == 0x0C:
			out = append(out, '\n')
		case c == 0x09:
			out = append(out, '\t')
		case c < 0x20 || hide:
		default:
			out = append(out, c)
		}
	}
	return string(utf16.Decode(out))
}
