package ooxml

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"mugai/sanitize/archive"
	"mugai/sanitize/format"
)

// Extractor writes the text of an OOXML document as UTF-8: Word
// paragraphs and table cells, Excel sheets row by row (shared strings
// without their furigana), PowerPoint slides in order.
type Extractor struct {
	Limits archive.Limits
}

var _ format.Sanitizer = (*Extractor)(nil)

// Name implements format.Sanitizer.
func (e *Extractor) Name() string { return "ooxml-text" }

// Sanitize implements format.Sanitizer.
func (e *Extractor) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (format.Verdict, error) {
	lim := e.Limits
	lim.Budget = p.Budget // the package's members are taken before they are inflated
	doc, err := load(in, lim)
	if err != nil {
		return format.Verdict{}, err
	}
	if isBinaryWorkbook(doc) {
		return format.Verdict{}, errBinary
	}
	var text string
	switch {
	case doc.part("word/document.xml") != nil:
		text, err = wordText(doc.part("word/document.xml").Data)
	case doc.part("xl/workbook.xml") != nil:
		text, err = excelText(ctx, doc)
	case doc.part("ppt/presentation.xml") != nil:
		text, err = slidesText(ctx, doc)
	default:
		return format.Verdict{}, errNotOOXML
	}
	if err != nil {
		return format.Verdict{}, err
	}
	text = tidy(text)
	name := format.TextName(p.Filename, "document.txt")
	_, err = io.WriteString(out, strings.ReplaceAll(strings.TrimRight(text, "\n")+"\n", "\n", "\r\n"))
	return format.Verdict{Type: "text/plain; charset=utf-8", Filename: name,
		Notes: []format.Note{{JA: "レイアウト・画像・マクロ・埋め込みオブジェクトは含まれていません。",
			EN: "Layout, images, macros and objects are not included."}}}, err
}

// walkText calls fn for every start, end and character data token.
func walkText(src []byte, fn func(tok xml.Token, stack []string)) error {
	d := xml.NewDecoder(bytes.NewReader(src))
	var stack []string
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			fn(t, stack)
			stack = append(stack, t.Name.Local)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			fn(t, stack)
		case xml.CharData:
			fn(t, stack)
		}
	}
}

func top(stack []string) string {
	if len(stack) == 0 {
		return ""
	}
	return stack[len(stack)-1]
}

// wordText: <w:t> text; tabs, breaks, paragraphs, table cells and rows.
func wordText(src []byte) (string, error) {
	var b strings.Builder
	err := walkText(src, func(tok xml.Token, stack []string) {
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "tab":
				b.WriteByte('\t')
			case "br", "cr":
				b.WriteByte('\n')
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "p":
				if !contains(stack, "tc") {
					b.WriteByte('\n')
				} else {
					b.WriteByte(' ')
				}
			case "tc":
				b.WriteByte('\t')
			case "tr":
				b.WriteByte('\n')
			}
		case xml.CharData:
			if top(stack) == "t" {
				b.Write(t)
			}
		}
	})
	return b.String(), err
}

// sharedStrings reads xl/sharedStrings.xml; phonetic runs (<rPh>, the
// furigana Japanese Excel stores) are left out.
func sharedStrings(src []byte) ([]string, error) {
	var out []string
	var cur strings.Builder
	err := walkText(src, func(tok xml.Token, stack []string) {
		switch t := tok.(type) {
		case xml.EndElement:
			if t.Name.Local == "si" {
				out = append(out, cur.String())
				cur.Reset()
			}
		case xml.CharData:
			if top(stack) == "t" && !contains(stack, "rPh") {
				cur.Write(t)
			}
		}
	})
	return out, err
}

// excelText writes each sheet as tab-separated rows under its name.
func excelText(ctx context.Context, doc *document) (string, error) {
	var shared []string
	if ss := doc.part("xl/sharedStrings.xml"); ss != nil {
		var err error
		if shared, err = sharedStrings(ss.Data); err != nil {
			return "", err
		}
	}
	targets := relTargets(doc, "xl/workbook.xml")
	var b strings.Builder
	err := eachStart(doc.part("xl/workbook.xml").Data, func(t xml.StartElement) error {
		if t.Name.Local != "sheet" {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		sheet := doc.part(targets[attrNS(t, "r", "id")])
		if sheet == nil {
			return nil
		}
		fmt.Fprintf(&b, "## %s\n", attr(t, "name"))
		return sheetText(&b, sheet.Data, shared)
	})
	return b.String(), err
}

func sheetText(b *strings.Builder, src []byte, shared []string) error {
	var row []string
	var cellType string
	var val, inline strings.Builder
	return walkText(src, func(tok xml.Token, stack []string) {
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "c" {
				cellType = attr(t, "t")
				val.Reset()
				inline.Reset()
			}
		case xml.CharData:
			switch {
			case top(stack) == "v":
				val.Write(t)
			case top(stack) == "t" && contains(stack, "is") && !contains(stack, "rPh"):
				inline.Write(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "c":
				v := val.String()
				switch cellType {
				case "s":
					if i, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && i >= 0 && i < len(shared) {
						v = shared[i]
					}
				case "inlineStr":
					v = inline.String()
				case "b":
					v = map[string]string{"1": "TRUE", "0": "FALSE"}[v]
				}
				row = append(row, strings.ReplaceAll(v, "\n", " "))
			case "row":
				for len(row) > 0 && row[len(row)-1] == "" {
					row = row[:len(row)-1]
				}
				if len(row) > 0 {
					b.WriteString(strings.Join(row, "\t") + "\n")
				}
				row = row[:0]
			}
		}
	})
}

// slidesText writes the slides in presentation order.
func slidesText(ctx context.Context, doc *document) (string, error) {
	targets := relTargets(doc, "ppt/presentation.xml")
	var slides []string
	err := eachStart(doc.part("ppt/presentation.xml").Data, func(t xml.StartElement) error {
		if t.Name.Local == "sldId" {
			slides = append(slides, targets[attrNS(t, "r", "id")])
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i, s := range slides {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		part := doc.part(s)
		if part == nil {
			continue
		}
		fmt.Fprintf(&b, "--- スライド %d / slide %d ---\n", i+1, i+1)
		err := walkText(part.Data, func(tok xml.Token, stack []string) {
			switch t := tok.(type) {
			case xml.EndElement:
				if t.Name.Local == "p" {
					b.WriteByte('\n')
				}
			case xml.CharData:
				if top(stack) == "t" {
					b.Write(t)
				}
			}
		})
		if err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// relTargets maps relationship ids of a part to the parts they point at.
func relTargets(doc *document, source string) map[string]string {
	dir, file := path.Split(source)
	rels := doc.part(path.Join(dir, "_rels", file+".rels"))
	out := map[string]string{}
	if rels == nil {
		return out
	}
	_ = eachStart(rels.Data, func(t xml.StartElement) error {
		if t.Name.Local == "Relationship" && !strings.EqualFold(attr(t, "TargetMode"), "External") {
			out[attr(t, "Id")] = resolve(source, attr(t, "Target"))
		}
		return nil
	})
	return out
}

func attrNS(t xml.StartElement, space, localName string) string {
	for _, a := range t.Attr {
		if a.Name.Space == space && a.Name.Local == localName {
			return a.Value
		}
	}
	return ""
}

// tidy trims the spaces paragraph ends leave before cell separators and
// line ends, and keeps at most one blank line in a row.
func tidy(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, " \t", "\t"), "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " ")
		if strings.TrimSpace(l) == "" {
			if blank++; blank > 1 {
				continue
			}
			l = ""
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
