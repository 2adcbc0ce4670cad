package text

import (
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Rendering is a document turned into text, with what was found on the
// way.
type Rendering struct {
	Text       string   // LF line ends, at most one blank line in a row
	Hidden     int      // hidden elements and invisible characters left out (a preheader is not counted)
	Preheader  string   // a newsletter's hidden preview line, left out and not counted in Hidden
	Mismatches []string // links whose text names another host: "shows X, leads to Y"
	Cut        bool     // the rendering stopped at its size limit
	TooDeep    bool     // HTML nested too deeply: read without its layout
}

// HTMLToText renders an HTML document as readable plain text: block
// structure kept as line breaks, lists bulleted, data tables row by row,
// links as "text <url>" (or text only when links are removed), image alt
// text; scripts, styles, comments, the head and hidden elements dropped and
// counted (but a newsletter's preheader and hidden padding: see
// findPreheader), and links whose text names another host than their target
// reported. links is the link mode (policy.LinksKeep, LinksDefang,
// LinksRemove); the text is at most Limit(0, len(doc)) bytes.
func HTMLToText(doc []byte, links string) Rendering {
	return HTMLToTextLimit(doc, links, Limit(0, len(doc)))
}

// HTMLToTextLimit is HTMLToText with a limit on the text: the rendering
// stops growing at limit bytes (Cut says so). Quote marks and list
// indents stop at maxPrefixNest (10) levels, so that deep nesting cannot
// multiply the text. A document nested deeper than the parser takes (512
// open elements) is read by the tokenizer instead, without its layout
// (TooDeep says so).
func HTMLToTextLimit(doc []byte, links string, limit int) Rendering {
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil { // too deeply nested (reader errors cannot happen)
		return HTMLTokensToText(doc, links, limit)
	}
	scan := &hideScan{}
	r := &htmlRenderer{links: links, limit: limit, scan: scan, pre: findPreheader(root, scan)}
	w := r.builder()
	r.root = w
	r.children(w, root)
	return Rendering{Text: w.String(), Hidden: r.hidden + r.invisible + w.invisible, Preheader: r.pre.text,
		Mismatches: r.mismatches, Cut: r.cut}
}

// maxPrefixNest is how many quote and list levels get their own prefix
// ("> ", bullets, indents); deeper levels are written without one more.
const maxPrefixNest = 10

const quoteMark = "> "

type htmlRenderer struct {
	links      string
	hidden     int
	invisible  int // counted by sub-builders
	listNest   int
	nest       int // prefixing blocks (quotes, list items) open around the node
	mismatches []string
	limit      int          // bytes any one builder may hold
	cut        bool         // a builder hit the limit
	root       *textBuilder // the document's builder: once full, rendering stops
	pre        preheader    // the document's preheader, if it has one
	scan       *hideScan    // which elements are hidden as a whole
	zeroFont   bool         // inside an element whose font size is zero: its text is hidden
}

// builder returns a fresh builder under the renderer's limit.
func (r *htmlRenderer) builder() *textBuilder {
	return &textBuilder{limit: r.limit, full: &r.cut}
}

// deep reports whether another prefixing block would be nested too deep
// to get its own prefix.
func (r *htmlRenderer) deep() bool { return r.nest >= maxPrefixNest }

func (r *htmlRenderer) children(w *textBuilder, n *html.Node) {
	for c := n.FirstChild; c != nil && !w.stopped && !r.root.stopped; c = c.NextSibling {
		r.node(w, c)
	}
}

// sub renders n's children into a fresh builder and returns the text.
func (r *htmlRenderer) sub(n *html.Node) string {
	return r.nested(func(w *textBuilder) { r.children(w, n) })
}

// subNode renders n itself into a fresh builder and returns the text.
func (r *htmlRenderer) subNode(n *html.Node) string {
	return r.nested(func(w *textBuilder) { r.node(w, n) })
}

// nested runs render one level deeper into a fresh builder, counts what
// it left invisible, and returns its text.
func (r *htmlRenderer) nested(render func(w *textBuilder)) string {
	w := r.builder()
	r.nest++
	render(w)
	r.nest--
	r.invisible += w.invisible
	return w.String()
}

// prefixed renders n's children (or n itself, when self is set) as a block
// whose first line starts with first and the others with rest (quote
// marks, bullets, indents); nested too deep, it is a block without them
// (but a list item's bullet is still written).
func (r *htmlRenderer) prefixed(w *textBuilder, n *html.Node, self bool, first, rest string) {
	var s string
	switch {
	case r.deep() && self:
		r.node(w, n)
		return
	case r.deep():
		if first != quoteMark && strings.TrimSpace(first) != "" {
			w.inline(first)
		}
		r.children(w, n)
		return
	case self:
		s = r.subNode(n)
	default:
		s = r.sub(n)
	}
	w.lines(s, first, rest)
}

// node renders one node of the tree: text, the document, or an element
// (a hidden one is counted instead; comments and the doctype show nothing).
func (r *htmlRenderer) node(w *textBuilder, n *html.Node) {
	switch {
	case n.Type == html.TextNode && r.zeroFont: // text of size zero beside text that is shown
		if !isPadding(n.Data) {
			r.hidden++
		}
	case n.Type == html.TextNode && r.pre.lead[n]: // a preheader's padding: not counted
		w.inline(strings.Map(dropInvisible, n.Data))
	case n.Type == html.TextNode:
		w.inline(n.Data)
	case n.Type == html.DocumentNode:
		r.children(w, n)
	case n.Type != html.ElementNode: // comments, doctype
	case r.scan.hiddenBy(n):
		r.hiddenElement(n)
	default:
		r.withFont(n, func() { r.element(w, n) })
	}
}

// element renders a visible element by what it is; an element that only
// holds others is a container.
func (r *htmlRenderer) element(w *textBuilder, n *html.Node) {
	switch n.DataAtom {
	case atom.Head, atom.Title, atom.Script, atom.Style, atom.Template, atom.Noscript,
		atom.Object, atom.Embed, atom.Iframe, atom.Frame, atom.Frameset, atom.Applet,
		atom.Audio, atom.Video, atom.Canvas, atom.Svg, atom.Math, atom.Select, atom.Button, atom.Input, atom.Textarea:
		return
	case atom.Br:
		w.lineBreak()
	case atom.Hr:
		w.rule()
	case atom.Pre:
		w.block(2)
		w.raw(strings.TrimSuffix(r.preText(n), "\n"))
		w.block(2)
	case atom.Blockquote:
		w.block(2)
		r.prefixed(w, n, false, quoteMark, quoteMark)
		w.block(2)
	case atom.Ul, atom.Ol:
		r.list(w, n)
	case atom.Li: // outside a list
		w.block(1)
		r.prefixed(w, n, false, "・", "  ")
		w.block(1)
	case atom.Dd:
		w.block(1)
		r.prefixed(w, n, false, "  ", "  ")
		w.block(1)
	case atom.Table:
		r.table(w, n)
	case atom.A:
		r.link(w, n)
	case atom.Img:
		if alt := strings.TrimSpace(attr(n, "alt")); alt != "" {
			w.inline(" [画像: " + alt + "] ")
		}
	case atom.Ruby:
		r.ruby(w, n)
	case atom.Td, atom.Th:
		r.children(w, n)
		w.inline(" ")
	default:
		r.container(w, n)
	}
}

// container renders an element that only holds others: as a paragraph
// (a blank line around it), as a block (a line break around it), or
// inline.
func (r *htmlRenderer) container(w *textBuilder, n *html.Node) {
	gap := 0
	switch n.DataAtom {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Dl:
		gap = 2
	case atom.Div, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Nav, atom.Aside,
		atom.Main, atom.Center, atom.Address, atom.Form, atom.Fieldset, atom.Figure, atom.Figcaption,
		atom.Dt, atom.Tr, atom.Caption, atom.Body, atom.Html:
		gap = 1
	}
	if gap > 0 {
		w.block(gap)
	}
	r.children(w, n)
	if gap > 0 {
		w.block(gap)
	}
}

// list renders a ul or ol: each item bulleted or numbered, its lines
// after the first indented under it, a list directly in a list indented.
func (r *htmlRenderer) list(w *textBuilder, n *html.Node) {
	ordered := n.DataAtom == atom.Ol
	w.block(1)
	if r.listNest == 0 {
		w.block(2)
	}
	r.listNest++
	i := 0
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		if r.scan.hiddenBy(c) {
			r.hiddenElement(c)
			continue
		}
		if c.DataAtom == atom.Ul || c.DataAtom == atom.Ol { // a list directly in a list
			r.prefixed(w, c, true, "  ", "  ")
			w.block(1)
			continue
		}
		i++
		bullet := "・"
		if ordered {
			bullet = fmt.Sprintf("%d. ", i)
		}
		w.block(1)
		r.withFont(c, func() { r.prefixed(w, c, false, bullet, strings.Repeat(" ", displayWidth(bullet))) })
		w.block(1)
	}
	r.listNest--
	if r.listNest == 0 {
		w.block(2)
	}
}

// ruby shows the base text followed by the reading in parentheses.
func (r *htmlRenderer) ruby(w *textBuilder, n *html.Node) {
	if r.deep() { // nested too deep to render apart: the reading inline
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == html.ElementNode && c.DataAtom == atom.Rt:
				w.inline("（")
				r.children(w, c)
				w.inline("）")
			case c.Type == html.ElementNode && c.DataAtom == atom.Rp:
			default:
				r.node(w, c)
			}
		}
		return
	}
	var base, reading strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch {
		case c.Type == html.ElementNode && c.DataAtom == atom.Rt:
			reading.WriteString(r.sub(c))
		case c.Type == html.ElementNode && c.DataAtom == atom.Rp:
		case c.Type == html.TextNode:
			base.WriteString(c.Data)
		default:
			base.WriteString(r.subNode(c))
		}
	}
	w.inline(base.String())
	if rd := strings.TrimSpace(reading.String()); rd != "" {
		w.inline("（" + rd + "）")
	}
}

// preText is the text of a pre element as it is; hidden elements in it are
// left out and counted.
func (r *htmlRenderer) preText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(p *html.Node) {
		for c := p.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == html.TextNode:
				b.WriteString(c.Data)
			case c.Type == html.ElementNode && c.DataAtom == atom.Br:
				b.WriteByte('\n')
			case c.Type == html.ElementNode && r.scan.hiddenBy(c):
				r.hiddenElement(c)
			case c.Type == html.ElementNode && c.DataAtom != atom.Script && c.DataAtom != atom.Style:
				walk(c)
			}
		}
	}
	walk(n)
	return strings.Map(func(r rune) rune {
		if IsInvisible(r) || r == '\r' {
			return -1
		}
		return r
	}, b.String())
}

// hiddenElement counts a hidden element left out, unless it is the
// document's preheader or hides no text: a hidden element holding only
// padding (spacers, &zwnj;&nbsp; runs) and no link or image shows nothing
// by being hidden.
func (r *htmlRenderer) hiddenElement(n *html.Node) {
	if r.pre.excused[n] {
		return
	}
	if t, ok := preheaderContent(n); ok && t == "" {
		return
	}
	r.hidden++
}

func dropInvisible(r rune) rune {
	if IsInvisible(r) {
		return -1
	}
	return r
}

// isHiddenElement reports elements a mail client would not show, as
// far as the element alone tells: its box is hidden, or its font size is
// zero (see hideScan for what its descendants change about that).
func isHiddenElement(n *html.Node) bool {
	return isHiddenBox(n) || styleFontSize(n) == fontZero
}

// isHiddenBox reports elements hidden whatever they hold: display:none,
// visibility:hidden, a zero max-height with overflow hidden, the hidden
// attribute.
func isHiddenBox(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	for _, a := range n.Attr {
		switch a.Key {
		case "hidden":
			return true
		case "aria-hidden":
			// decorative, still visible: keep
		case "style":
			s := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
			if strings.Contains(s, "display:none") || strings.Contains(s, "visibility:hidden") ||
				strings.Contains(s, "max-height:0") && strings.Contains(s, "overflow:hidden") {
				return true
			}
		}
	}
	return false
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
