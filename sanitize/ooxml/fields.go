package ooxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"
)

// What the disarm reports for each kind of removal.
const (
	whatDDE        = "DDE fields and formulas"
	whatInclude    = "fields that load files or addresses (INCLUDEPICTURE, INCLUDETEXT, LINK …)"
	whatWebLink    = "links to web pages"
	whatOddLink    = "links to files, network shares or programs"
	whatOddField   = "fields built by other fields or not understood (their shown text kept)"
	whatAltChunk   = "imported documents (altChunk)"
	whatData       = "data connections, web queries and external data"
	whatPowerQuery = "Power Query and data model"
	whatFormula    = "formulas that fetch data or open links"
)

// Word joins every w:instrText of one field, nested fields included, into
// the instruction it runs; a field is judged by that whole instruction.
// Fields whose first word is in safeFields and that hold nothing else
// suspicious stay; every other field loses its field characters and
// instruction, and keeps the result text Word last showed for it.
var safeFields = map[string]bool{}

func init() {
	for _, f := range strings.Fields(`ADDRESSBLOCK ADVANCE AUTHOR AUTONUM AUTONUMLGL AUTONUMOUT BARCODE
		BIBLIOGRAPHY BIDIOUTLINE CITATION COMMENTS COMPARE CREATEDATE DATE DISPLAYBARCODE DOCPROPERTY
		DOCVARIABLE EDITTIME EQ FILENAME FILESIZE FORMCHECKBOX FORMDROPDOWN FORMTEXT GOTOBUTTON
		GREETINGLINE IF INDEX INFO KEYWORDS LASTSAVEDBY LISTNUM MERGEFIELD MERGEREC MERGESEQ NEXT
		NEXTIF NOTEREF NUMCHARS NUMPAGES NUMWORDS PAGE PAGEREF PRINTDATE REF REVNUM SAVEDATE SECTION
		SECTIONPAGES SEQ SET SHAPE SKIPIF STYLEREF SUBJECT SYMBOL TA TC TEMPLATE TIME TITLE TOA TOC
		USERADDRESS USERINITIALS USERNAME XE`) {
		safeFields[f] = true
	}
}

// activeWord finds the names of fields that fetch or build content
// anywhere in an instruction (fail closed: "PAGE LINK" goes too).
var activeWord = regexp.MustCompile(`(?i)(^|[^a-z0-9_])(DDE|DDEAUTO|INCLUDEPICTURE|INCLUDETEXT|INCLUDE|LINK|IMPORT|QUOTE)($|[^a-z0-9_])`)

// judgeField returns what a field with this whole instruction is, or ""
// when it may stay.
func judgeField(instr string) string {
	if ddeFormula.MatchString(instr) {
		return whatDDE
	}
	s := strings.TrimLeft(instr, " \t\r\n\\\"'\u00a0\u3000")
	n := 0
	for n < len(s) && (s[n] >= 'a' && s[n] <= 'z' || s[n] >= 'A' && s[n] <= 'Z' || s[n] >= '0' && s[n] <= '9') {
		n++
	}
	kw, rest := strings.ToUpper(s[:n]), s[n:]
	switch {
	case kw == "DDE" || kw == "DDEAUTO":
		return whatDDE
	case kw == "INCLUDEPICTURE" || kw == "INCLUDETEXT" || kw == "INCLUDE" || kw == "LINK" || kw == "IMPORT" ||
		kw == "RD" || kw == "DATABASE":
		return whatInclude
	case activeWord.MatchString(instr):
		return whatOddField
	case kw == "HYPERLINK":
		return hyperlinkField(rest)
	case safeFields[kw] && (rest == "" || strings.ContainsAny(rest[:1], " \t\r\n\\\"\u00a0")):
		return ""
	case kw == "" && strings.HasPrefix(s, "="):
		return "" // a formula: arithmetic on numbers and bookmarks
	}
	return whatOddField
}

// hyperlinkField judges the arguments of a HYPERLINK field: only a jump to
// a bookmark of the same document stays; a web or mail target goes like a
// web link relationship does, anything else (file:, UNC, search-ms:,
// ms-msdt: …) is reported as such.
func hyperlinkField(args string) string {
	toks, ok := fieldTokens(args)
	if !ok {
		return whatOddLink
	}
	target, has := "", false
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !t.quoted && len(t.s) == 2 && t.s[0] == '\\' {
			switch t.s[1] | 0x20 {
			case 'l', 'o', 't':
				i++ // the switch's argument
				continue
			case 'h', 'm', 'n':
				continue
			}
			return whatOddLink
		}
		if has {
			return whatOddLink
		}
		target, has = t.s, true
	}
	if !has {
		return ""
	}
	lt := strings.ToLower(strings.TrimSpace(target))
	if strings.HasPrefix(lt, "http://") || strings.HasPrefix(lt, "https://") || strings.HasPrefix(lt, "mailto:") {
		if !strings.ContainsAny(lt, "\\") {
			return whatWebLink
		}
	}
	return whatOddLink
}

type fieldToken struct {
	s      string
	quoted bool
}

// fieldTokens splits field arguments as Word does: quoted strings (with
// \" and \\ escapes) and words.
func fieldTokens(s string) ([]fieldToken, bool) {
	var out []fieldToken
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '"':
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				if s[i] == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, false
			}
			out = append(out, fieldToken{b.String(), true})
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n\"", rune(s[j])) {
				j++
			}
			out = append(out, fieldToken{s[i:j], false})
			i = j
		}
	}
	return out, true
}

// Bounds on the field scan.
const (
	maxFieldDepth = 32
	maxInstrBytes = 32 << 10
)

type fieldInfo struct {
	instr    []byte
	spans    []span // its field characters and everything in its instruction
	counted  bool   // not inside the instruction of another field
	inResult bool
	nested   bool // another field inside its instruction
	odd      bool // revision markup, foreign wrappers, duplicate separators …
}

func (f *fieldInfo) addText(b []byte) {
	if len(f.instr)+len(b) > maxInstrBytes {
		f.odd = true
		return
	}
	f.instr = append(f.instr, b...)
}

// scanFields finds the fields of one XML part (w:fldChar/w:instrText
// complex fields and w:fldSimple) and returns the byte ranges to cut so
// that no field that fetches, runs or builds content is left, and what was
// removed. A removed complex field loses its field characters and every
// run element of its instruction (nested fields included); its result runs
// stay as plain text. A removed w:fldSimple is unwrapped: its runs stay.
// Fields are recognised by local name, whatever the prefix, so that a
// renamed namespace does not hide them.
func scanFields(src []byte) ([]span, map[string]int, error) {
	d := xml.NewDecoder(bytes.NewReader(src))
	d.Strict = true
	s := &fieldScan{removed: map[string]int{}}
	for {
		before := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		after := d.InputOffset()
		switch t := tok.(type) {
		case xml.StartElement:
			if err := s.start(t, before, after); err != nil {
				return nil, nil, err
			}
		case xml.EndElement:
			if err := s.end(before, after); err != nil {
				return nil, nil, err
			}
		case xml.CharData:
			if len(s.stack) > 0 {
				for _, f := range s.stack[len(s.stack)-1].text {
					f.addText(t)
				}
			}
		}
	}
	s.judge()
	return s.spans, s.removed, nil
}

// fieldElem is an open element of the field scan.
type fieldElem struct {
	name   xml.Name
	start  int64
	to     []*fieldInfo // fields that lose this element if removed
	text   []*fieldInfo // fields whose instruction this element's text is
	drop   bool         // remove regardless (stray field characters)
	unwrap bool         // a removed fldSimple: cut the tags only
}

// fieldScan is the state of scanFields over one part.
type fieldScan struct {
	stack     []fieldElem
	open, all []*fieldInfo
	stories   [][]*fieldInfo // fields open outside the text boxes we are in
	spans     []span
	removed   map[string]int
}

// outer returns the outermost open field still in its instruction.
func (s *fieldScan) outer() *fieldInfo {
	for _, f := range s.open {
		if !f.inResult {
			return f
		}
	}
	return nil
}

// both returns a and b as a list: b alone when a is nil, once when they
// are the same.
func both(a, b *fieldInfo) []*fieldInfo {
	switch {
	case a == nil:
		return []*fieldInfo{b}
	case a == b:
		return []*fieldInfo{a}
	}
	return []*fieldInfo{a, b}
}

// markNested marks the open fields still in their instruction as holding
// another field.
func (s *fieldScan) markNested() {
	for _, f := range s.open {
		if !f.inResult {
			f.nested = true
		}
	}
}

// start takes a start tag at src[before:after].
func (s *fieldScan) start(t xml.StartElement, before, after int64) error {
	e := fieldElem{name: t.Name, start: before}
	var parent xml.Name
	if len(s.stack) > 0 {
		parent = s.stack[len(s.stack)-1].name
	}
	suspect := s.suspect(t)
	if t.Name.Local == "txbxContent" {
		s.stories = append(s.stories, s.open)
		s.open = nil
	}
	if parent.Local == "r" && t.Name.Local != "rPr" {
		if err := s.runChild(t, &e, suspect); err != nil {
			return err
		}
	}
	if t.Name.Local == "fldSimple" {
		s.markNested()
		if what := judgeField(attr(t, "instr")); what != "" {
			e.unwrap = true
			s.spans = append(s.spans, span{start: before, end: after})
			if s.outer() == nil {
				s.removed[what]++
			}
		}
	}
	if len(s.stack) > 0 && s.stack[len(s.stack)-1].unwrap && t.Name.Local == "fldData" {
		e.drop = true
	}
	s.stack = append(s.stack, e)
	return nil
}

// suspect reports revision marks or elements of another namespace
// (mc:AlternateContent, ignorable wrappers) around t, where
// Word may see another structure than we do.
// A text box is a story of its own: the check starts there.
func (s *fieldScan) suspect(t xml.StartElement) bool {
	for i := len(s.stack) - 1; i >= 0 && s.stack[i].name.Local != "txbxContent"; i-- {
		switch n := s.stack[i].name; {
		case n.Space != t.Name.Space:
			return true
		case n.Local == "ins" || n.Local == "del" || n.Local == "moveFrom" || n.Local == "moveTo":
			return true
		}
	}
	return false
}

// runChild takes an element of a run other than its properties: field
// characters, instruction text, or content, which is part of the
// instruction of the outer open field.
func (s *fieldScan) runChild(t xml.StartElement, e *fieldElem, suspect bool) error {
	switch t.Name.Local {
	case "fldChar":
		return s.fldChar(t, e, suspect)
	case "instrText", "delInstrText":
		s.instrText(t, e, suspect)
	default:
		if o := s.outer(); o != nil {
			e.to = []*fieldInfo{o}
			switch t.Name.Local {
			case "lastRenderedPageBreak", "tab", "noBreakHyphen", "softHyphen":
			default: // text in an instruction: Word may read it as code
				s.open[len(s.open)-1].odd = true
			}
		}
	}
	return nil
}

// fldChar takes a field character: begin opens a field, separate starts
// its result, end closes it. One without an open field is dropped.
func (s *fieldScan) fldChar(t xml.StartElement, e *fieldElem, suspect bool) error {
	switch attr(t, "fldCharType") {
	case "begin":
		f := &fieldInfo{counted: s.outer() == nil, odd: suspect}
		s.markNested()
		e.to = both(s.outer(), f)
		s.open = append(s.open, f)
		s.all = append(s.all, f)
		if len(s.open) > maxFieldDepth {
			return errors.New("ooxml: fields nested too deep")
		}
	case "separate", "end":
		if len(s.open) == 0 {
			e.drop = true
			return nil
		}
		cur := s.open[len(s.open)-1]
		e.to = both(s.outer(), cur)
		if suspect {
			cur.odd = true
		}
		if attr(t, "fldCharType") == "end" {
			s.open = s.open[:len(s.open)-1]
		} else if cur.inResult {
			cur.odd = true
		} else {
			cur.inResult = true
		}
	default:
		if len(s.open) == 0 {
			e.drop = true
			return nil
		}
		cur := s.open[len(s.open)-1]
		cur.odd = true
		e.to = both(s.outer(), cur)
	}
	return nil
}

// instrText takes an instruction text element: its text is the
// instruction of the innermost open field (and of the outer one).
func (s *fieldScan) instrText(t xml.StartElement, e *fieldElem, suspect bool) {
	o := s.outer()
	if len(s.open) == 0 || s.open[len(s.open)-1].inResult {
		e.drop = true // Word ignores it; we do not keep it
		if o != nil {
			e.to = []*fieldInfo{o}
		}
		return
	}
	cur := s.open[len(s.open)-1]
	e.to = []*fieldInfo{o}
	e.text = both(o, cur)
	if suspect || t.Name.Local == "delInstrText" {
		cur.odd = true
	}
}

// end takes an end tag at src[before:after]: the element's span goes to
// the fields that lose it, or is cut at once.
func (s *fieldScan) end(before, after int64) error {
	if len(s.stack) == 0 {
		return errors.New("ooxml: unbalanced end tag")
	}
	e := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	if e.name.Local == "txbxContent" && len(s.stories) > 0 {
		for _, f := range s.open { // fields do not leave their story
			f.odd = true
		}
		s.open = s.stories[len(s.stories)-1]
		s.stories = s.stories[:len(s.stories)-1]
	}
	sp := span{start: e.start, end: after}
	if e.drop {
		s.spans = append(s.spans, sp)
	}
	for _, f := range e.to {
		f.spans = append(f.spans, sp)
	}
	if e.unwrap && after > before {
		s.spans = append(s.spans, span{start: before, end: after})
	}
	return nil
}

// judge judges every field by its whole instruction, once the part is
// read, and adds the spans of those that go.
func (s *fieldScan) judge() {
	for _, f := range s.open { // never ended
		f.odd = true
	}
	for _, f := range s.all {
		what := judgeField(string(f.instr))
		if (f.nested || f.odd) && what != whatDDE {
			what = whatOddField
		}
		if what == "" {
			continue
		}
		s.spans = append(s.spans, f.spans...)
		if f.counted {
			s.removed[what]++
		}
	}
}

// hasFields is a cheap test before the scan.
func hasFields(src []byte) bool {
	return bytes.Contains(src, []byte("fldChar")) || bytes.Contains(src, []byte("fldSimple")) ||
		bytes.Contains(src, []byte("nstrText"))
}

// disarmFields removes the active fields of one part.
func disarmFields(src []byte) ([]byte, map[string]int, error) {
	if !hasFields(src) {
		return src, nil, nil
	}
	spans, removed, err := scanFields(src)
	if err != nil {
		return nil, nil, err
	}
	return apply(src, spans), removed, nil
}
