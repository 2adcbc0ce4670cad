package ppt

import (
	"encoding/binary"
	"unicode/utf16"

	"mugai/sanitize/legacy/internal/cfbwrite"
)

// atom is a record with data; container a record holding records.
func atom(typ uint16, inst uint16, data []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, inst<<4)
	b = binary.LittleEndian.AppendUint16(b, typ)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

func container(typ uint16, inst uint16, kids ...[]byte) []byte {
	var data []byte
	for _, k := range kids {
		data = append(data, k...)
	}
	b := atom(typ, inst, data)
	b[0] |= 0xF
	return b
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func chars(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return atom(rtTextCharsAtom, 0, b)
}

func bytesAtom(s string) []byte { return atom(rtTextBytesAtom, 0, []byte(s)) }

func textHeader(t uint32) []byte { return atom(rtTextHeaderAtom, 0, u32(t)) }

func slidePersist(id uint32) []byte {
	return atom(rtSlidePersistAtom, 0, append(u32(id), make([]byte, 16)...))
}

// notesPersist is the slide list's entry of a notes page.
func notesPersist(id, notesID uint32) []byte {
	d := append(u32(id), make([]byte, 8)...)
	d = append(d, u32(notesID)...)
	return atom(rtSlidePersistAtom, 0, append(d, 0, 0, 0, 0))
}

// slideAtom names the slide's notes page.
func slideAtom(notesID uint32) []byte {
	d := make([]byte, 16)
	d = append(d, u32(notesID)...)
	return atom(rtSlideAtom, 0, append(d, 0, 0, 0, 0))
}

// drawing wraps shapes' client text boxes in a slide's PPDrawing.
func drawing(boxes ...[]byte) []byte {
	var shapes [][]byte
	for _, b := range boxes {
		shapes = append(shapes, container(0xF004, 0, atom(0xF00A, 0, make([]byte, 8)), container(0xF00D, 0, b)))
	}
	return container(0x040C, 0, container(0xF002, 0, container(0xF003, 0, shapes...)))
}

func outlineRef(i uint32) []byte { return atom(rtOutlineTextRef, 0, u32(i)) }

// stream builds a PowerPoint Document stream: records, each placed at
// the next offset, then for each save a persist directory and a
// UserEditAtom. persist[i] maps persist ids to the index of a record.
type stream struct {
	b     []byte
	offs  []uint32
	edits []uint32 // offsets of UserEditAtoms, oldest first
}

func (s *stream) add(rec []byte) int {
	s.offs = append(s.offs, uint32(len(s.b)))
	s.b = append(s.b, rec...)
	return len(s.offs) - 1
}

// save writes a persist directory of ids (first id, then record indices)
// and a UserEditAtom pointing to it and to the previous save.
func (s *stream) save(doc uint32, first uint32, recs []int, encrypted bool) {
	dir := u32(first | uint32(len(recs))<<20)
	for _, r := range recs {
		dir = append(dir, u32(s.offs[r])...)
	}
	pd := uint32(len(s.b))
	s.b = append(s.b, atom(rtPersistDirectory, 0, dir)...)
	var last uint32
	if len(s.edits) > 0 {
		last = s.edits[len(s.edits)-1]
	}
	ue := append(u32(0), 0, 0, 0, 3)
	ue = append(ue, u32(last)...)
	ue = append(ue, u32(pd)...)
	ue = append(ue, u32(doc)...)
	ue = append(ue, u32(10)...)
	ue = append(ue, 0, 0, 0, 0)
	if encrypted {
		ue = append(ue, u32(9)...)
	}
	s.edits = append(s.edits, uint32(len(s.b)))
	s.b = append(s.b, atom(rtUserEditAtom, 0, ue)...)
}

// currentUser is the Current User stream pointing at the newest save.
func currentUser(edit uint32, token uint32) []byte {
	d := append(u32(0x14), u32(token)...)
	d = append(d, u32(edit)...)
	d = append(d, 4, 0, 0xF4, 0x03, 3, 0, 0, 0)
	d = append(d, "user"...)
	d = append(d, u32(8)...)
	return atom(rtCurrentUserAtom, 0, d)
}

func (s *stream) file(token uint32) []byte {
	return cfbwrite.Build(
		cfbwrite.Entry{Name: "Current User", Data: currentUser(s.edits[len(s.edits)-1], token)},
		cfbwrite.Entry{Name: "PowerPoint Document", Data: s.b},
	)
}

// samplePPT is a presentation of two slides, saved twice (the second save
// rewrites slide 1), with a notes page, a hyperlink and an embedded
// object whose text must not come through.
func samplePPT(encrypted bool) []byte {
	var s stream
	slide2 := s.add(container(rtSlide, 0, atom(rtSlideAtom, 0, make([]byte, 24)), drawing()))
	slide1old := s.add(container(rtSlide, 0, drawing(outlineRef(0), chars("OLD TEXT"))))
	doc := s.add(container(rtDocument, 0,
		atom(0x03E9, 0, make([]byte, 40)),
		container(0x0409, 0, container(0x0FD7, 0, atom(0x0FBA, 0, []byte("h\x00t\x00t\x00p\x00:\x00/\x00/\x00e\x00v\x00i\x00l\x00")))), // ExObjList: a hyperlink
		container(rtSlideListWithText, 0,
			slidePersist(2), textHeader(0), chars("会議資料"), textHeader(1), bytesAtom("Body line 1\rline 2\vbreak"),
			slidePersist(3), textHeader(0), chars("Second slide"), atom(0x0FA1, 0, make([]byte, 10)),
		),
		container(rtSlideListWithText, 2, notesPersist(4, 0x100)),
	))
	s.add(atom(0x1011, 0, []byte("OLE OBJECT SECRET")))
	notes := s.add(container(rtNotes, 0, slideAtom(0), drawing(append(textHeader(2), bytesAtom("Speaker notes")...))))
	s.save(1, 1, []int{doc, slide1old, slide2, notes}, false)
	slide1 := s.add(container(rtSlide, 0, slideAtom(0x100), drawing(outlineRef(0), append(textHeader(4), chars("テキスト ボックス")...), outlineRef(1))))
	s.save(1, 2, []int{slide1}, encrypted)
	return s.file(headerTokenPlain)
}
