package ooxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"sort"
	"strings"
)

// span is a byte range of a part to replace.
type span struct {
	start, end int64
	with       string
}

// edit is what an XML pass decides for one token.
type edit int

const (
	keep         edit = iota
	dropElement       // remove the element and everything in it
	dropAncestor      // remove the nearest ancestor named in the pass's ancestors
)

// pass walks an XML part once with RawToken, so that nothing is
// re-encoded: prefixes, whitespace and unknown markup stay exactly as they
// were, and only the byte ranges we choose are cut out (DEPENDENCIES.md:
// xml.Encoder mangles namespace prefixes).
type pass struct {
	// element decides for each start element.
	element func(t xml.StartElement, stack []string) edit
	// ancestors names the elements dropAncestor looks for, nearest first.
	ancestors []string
	// text may rewrite character data inside the given element; ok false keeps it.
	text func(parent string, data []byte) (string, bool)
	// dropText is asked, at an element's end, about all of its own
	// character data joined (comments and CDATA sections split it into
	// pieces; a reader joins them): dropElement removes the element,
	// dropAncestor its nearest ancestor named in ancestors.
	dropText func(parent string, data []byte) edit
	// dropAttrs names attributes (prefix:local) to cut from a start tag
	// that is otherwise kept.
	dropAttrs func(t xml.StartElement) []string
}

type open struct {
	name  string
	start int64
	drop  bool
	text  []byte // character data, collected for dropText
}

// maxElementText bounds the text collected for dropText in one element;
// an element holding more is removed (no formula or name is that long).
const maxElementText = 1 << 20

// run applies the pass and returns the edited part.
func (p *pass) run(src []byte) ([]byte, error) {
	d := xml.NewDecoder(bytes.NewReader(src))
	r := &passRun{pass: p, src: src, dropDepth: -1}
	for {
		before := d.InputOffset()
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		after := d.InputOffset()
		switch t := tok.(type) {
		case xml.StartElement:
			r.start(t, before, after)
		case xml.EndElement:
			if err := r.end(after); err != nil {
				return nil, err
			}
		case xml.CharData:
			r.charData(t, before, after)
		}
	}
	if len(r.stack) != 0 {
		return nil, errors.New("ooxml: unclosed elements")
	}
	return apply(src, r.spans), nil
}

// passRun is one run of a pass over a part: the open elements and the
// spans to cut so far.
type passRun struct {
	*pass
	src       []byte
	stack     []open
	spans     []span
	dropDepth int // while ≥ 0, inside an element being removed
}

// start takes a start tag at src[before:after]: it may lose attributes,
// and the element or an ancestor may be marked to go.
func (r *passRun) start(t xml.StartElement, before, after int64) {
	name := qname(t.Name)
	r.stack = append(r.stack, open{name: name, start: before})
	if r.dropDepth >= 0 {
		return
	}
	if r.dropAttrs != nil {
		if drop := r.dropAttrs(t); len(drop) > 0 {
			selfClosing := bytes.HasSuffix(bytes.TrimRight(r.src[before:after], " \t\r\n"), []byte("/>"))
			r.spans = append(r.spans, span{start: before, end: after, with: startTag(t, drop, selfClosing)})
		}
	}
	if r.element == nil {
		return
	}
	switch r.element(t, names(r.stack[:len(r.stack)-1])) {
	case dropElement:
		r.drop(len(r.stack) - 1)
	case dropAncestor:
		if i := r.ancestor(len(r.stack) - 2); i >= 0 {
			r.drop(i)
		} else { // no such ancestor: drop the element itself
			r.drop(len(r.stack) - 1)
		}
	}
}

// drop marks the open element at stack[i] to go.
func (r *passRun) drop(i int) {
	r.stack[i].drop = true
	r.dropDepth = i
}

// ancestor returns the index of the nearest open element at or below
// stack[from] named in the pass's ancestors, or -1.
func (r *passRun) ancestor(from int) int {
	for i := from; i >= 0; i-- {
		if contains(r.ancestors, local(r.stack[i].name)) {
			return i
		}
	}
	return -1
}

// end takes an end tag ending at after: the element closes, asks
// dropText about its text, and is cut if it goes.
func (r *passRun) end(after int64) error {
	if len(r.stack) == 0 {
		return errors.New("ooxml: unbalanced end tag")
	}
	top := r.stack[len(r.stack)-1]
	r.stack = r.stack[:len(r.stack)-1]
	if !top.drop && r.dropDepth < 0 && r.dropText != nil && len(top.text) > 0 {
		top.drop = r.judgeText(top)
	}
	if top.drop {
		r.spans = append(r.spans, span{start: top.start, end: after})
		if r.dropDepth == len(r.stack) {
			r.dropDepth = -1
		}
	}
	return nil
}

// judgeText asks dropText about the text of top, just closed, and
// reports whether top goes; for dropAncestor it marks the ancestor
// instead, and top goes only when there is none.
func (r *passRun) judgeText(top open) bool {
	switch e := r.dropText(top.name, top.text); {
	case len(top.text) > maxElementText || e == dropElement:
		return true
	case e == dropAncestor:
		if i := r.ancestor(len(r.stack) - 1); i >= 0 {
			r.drop(i)
			return false
		}
		return true // when no ancestor is found
	}
	return false
}

// charData takes character data at src[before:after]: it is collected
// for dropText and may be rewritten by text.
func (r *passRun) charData(t xml.CharData, before, after int64) {
	if r.dropDepth >= 0 || len(r.stack) == 0 {
		return
	}
	if r.dropText != nil {
		top := &r.stack[len(r.stack)-1]
		if len(top.text) <= maxElementText {
			top.text = append(top.text, t...)
		}
	}
	if r.text == nil {
		return
	}
	if s, ok := r.text(r.stack[len(r.stack)-1].name, t); ok {
		r.spans = append(r.spans, span{start: before, end: after, with: escape(s)})
	}
}

// apply replaces spans, outermost first; spans inside a removed one go.
func apply(src []byte, spans []span) []byte {
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].start != spans[j].start {
			return spans[i].start < spans[j].start
		}
		return spans[i].end > spans[j].end
	})
	var out bytes.Buffer
	pos := int64(0)
	for _, s := range spans {
		if s.start < pos { // nested in a span already applied
			continue
		}
		out.Write(src[pos:s.start])
		out.WriteString(s.with)
		pos = s.end
	}
	out.Write(src[pos:])
	return out.Bytes()
}

// startTag writes a start tag again from its raw token, without the
// named attributes. Prefixes are kept as written (RawToken does not
// resolve them).
func startTag(t xml.StartElement, drop []string, selfClosing bool) string {
	var b strings.Builder
	b.WriteString("<" + qname(t.Name))
	for _, a := range t.Attr {
		if contains(drop, qname(a.Name)) {
			continue
		}
		b.WriteString(" " + qname(a.Name) + `="`)
		xml.EscapeText(&b, []byte(a.Value))
		b.WriteString(`"`)
	}
	if selfClosing {
		b.WriteString("/>")
	} else {
		b.WriteString(">")
	}
	return b.String()
}

// wellFormed checks that a part still parses, after editing.
func wellFormed(src []byte) error {
	return eachStart(src, func(xml.StartElement) error { return nil })
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func local(name string) string {
	if i := strings.IndexByte(name, ':'); i >= 0 {
		return name[i+1:]
	}
	return name
}

func names(stack []open) []string {
	out := make([]string, len(stack))
	for i, o := range stack {
		out[i] = o.name
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// attr returns the value of an attribute by local name.
func attr(t xml.StartElement, localName string) string {
	for _, a := range t.Attr {
		if a.Name.Local == localName {
			return a.Value
		}
	}
	return ""
}

func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// dropEmpty removes the named container elements left without a child
// element (Office refuses an empty <pivotCaches>).
func dropEmpty(src []byte, containers ...string) ([]byte, error) {
	type el struct {
		start    int64
		children int
		watch    bool
	}
	d := xml.NewDecoder(bytes.NewReader(src))
	var stack []el
	var spans []span
	for {
		before := d.InputOffset()
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) > 0 {
				stack[len(stack)-1].children++
			}
			stack = append(stack, el{start: before, watch: contains(containers, t.Name.Local)})
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, errors.New("ooxml: unbalanced end tag")
			}
			e := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if e.watch && e.children == 0 {
				spans = append(spans, span{start: e.start, end: d.InputOffset()})
			}
		}
	}
	return apply(src, spans), nil
}
