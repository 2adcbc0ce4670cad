package text

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/width"

	"mugai/policy"
)

// Rendering is a document turned into text, with what was found on the
// way.
type Rendering struct {
	Text       string
	Hidden     int      // hidden elements and invisible characters left out
	Mismatches []string // links whose text names another host: "shows X, leads to Y"
	Cut        bool     // the rendering stopped at its size limit
	TooDeep    bool     // HTML nested too deeply: read without its layout
}

// HTMLToText renders an HTML document as readable plain text: block
// structure kept as line breaks, lists bulleted, data tables row by row,
// links as "text <url>" (or text only when links are removed), image alt
// text; scripts, styles, comments, the head and hidden elements dropped and
// counted, and links whose text names another host than their target
// reported. links is the link mode (policy.LinksKeep, LinksDefang,
// LinksRemove); the text is at most Limit(0, len(doc)) bytes.
func HTMLToText(doc []byte, links string) Rendering {
	return HTMLToTextLimit(doc, links, Limit(0, len(doc)))
}

// HTMLToTextLimit is HTMLToText with a limit on the text: the rendering
// stops growing at limit bytes (Cut says so). Quote marks and list
// indents stop at maxPrefixNest levels, so that deep nesting cannot
// multiply the text. A document nested deeper than the parser takes (512
// open elements) is read by the tokenizer instead, without its layout
// (TooDeep says so).
func HTMLToTextLimit(doc []byte, links string, limit int) Rendering {
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil { // too deeply nested (reader errors cannot happen)
		return HTMLTokensToText(doc, links, limit)
	}
	r := &htmlRenderer{links: links, limit: limit}
	w := r.builder()
	r.root = w
	r.children(w, root)
	return Rendering{Text: w.String(), Hidden: r.hidden + r.invisible + w.invisible, Mismatches: r.mismatches, Cut: r.cut}
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
}

// builder returns a fresh builder under the renderer's limit.
func (r *htmlRenderer) builder() *textBuilder {
	return &textBuilder{limit: r.limit, full: &r.cut}
}

// deep reports whether another prefixing block would be nested too deep
// to get its own prefix.
func (r *htmlRenderer) deep() bool { return r.nest >= maxPrefixNest }

// textBuilder accumulates text with collapsed whitespace and at most one
// blank line in a row.
type textBuilder struct {
	b         strings.Builder
	pendNL    int  // newlines owed before the next text
	pendSp    bool // a space owed before the next word
	spNL      bool // the owed space came from a line break in the source
	atStart   bool // nothing written yet on this line
	anything  bool
	last      rune  // the last character written
	invisible int   // zero-width and bidi characters left out
	limit     int   // the most bytes the text may hold (0: no limit)
	stopped   bool  // the limit was hit: nothing more is written
	full      *bool // set when the limit is hit (shared by a renderer's builders)
}

// putRune writes r unless the limit is reached.
func (w *textBuilder) putRune(r rune) {
	if w.stopped {
		return
	}
	if w.limit > 0 && w.b.Len()+utf8.RuneLen(r) > w.limit {
		w.put(string(r))
		return
	}
	w.b.WriteRune(r)
}

// put writes s, or as much of it as the limit leaves room for.
func (w *textBuilder) put(s string) {
	if w.stopped {
		return
	}
	if w.limit > 0 && w.b.Len()+len(s) > w.limit {
		s, _ = Cut(s, w.limit-w.b.Len())
		w.stopped = true
		if w.full != nil {
			*w.full = true
		}
	}
	w.b.WriteString(s)
}

// lineBreak is <br>: a new line, even an empty one.
func (w *textBuilder) lineBreak() {
	w.block(1)
	w.flushNL()
	w.atStart = true
}

// rule is <hr>: a line of its own.
func (w *textBuilder) rule() {
	w.block(1)
	w.raw("――――――――――――――――――――")
	w.block(1)
}

func (w *textBuilder) flushNL() {
	if !w.anything {
		w.pendNL = 0
		return
	}
	for ; w.pendNL > 0; w.pendNL-- {
		w.put("\n")
		w.atStart = true
	}
}

// block asks for a line break (n=1) or a blank line (n=2) before what comes next.
func (w *textBuilder) block(n int) {
	if n > w.pendNL {
		w.pendNL = n
	}
	w.pendSp = false
}

// inline writes flowing text, collapsing whitespace as a browser would.
func (w *textBuilder) inline(s string) {
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f':
			if !w.pendSp {
				w.spNL = false
			}
			w.pendSp = true
			w.spNL = w.spNL || r == '\n' || r == '\r'
		case IsInvisible(r), IsBidiControl(r):
			w.invisible++
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0: // other controls: nothing to show
		default:
			if w.pendNL > 0 {
				w.flushNL()
				w.pendSp = false
			}
			// A source line break between two CJK characters is not a
			// space (CSS Text 3 segment break rules).
			cjkJoin := w.spNL && isWide(w.last) && isWide(r)
			if w.pendSp && w.anything && !w.atStart && !cjkJoin {
				w.put(" ")
			}
			w.pendSp, w.spNL = false, false
			w.putRune(r)
			w.last = r
			w.atStart = false
			w.anything = true
		}
	}
}

// raw writes preformatted text (lines kept as they are).
func (w *textBuilder) raw(s string) {
	if s == "" {
		return
	}
	w.flushNL()
	if w.pendSp && !w.atStart {
		w.put(" ")
	}
	w.pendSp = false
	w.put(s)
	w.anything = true
	w.atStart = strings.HasSuffix(s, "\n")
}

// lines writes an already rendered block, prefixing its first line with
// first and the others with rest (list bullets, quote marks).
func (w *textBuilder) lines(s, first, rest string) {
	if s == "" {
		return
	}
	w.flushNL()
	for i := 0; len(s) > 0 || i == 0; i++ {
		l := s
		if nl := strings.IndexByte(s, '\n'); nl >= 0 {
			l, s = s[:nl], s[nl+1:]
		} else {
			s = ""
		}
		if i > 0 {
			w.put("\n")
		}
		p := rest
		if i == 0 {
			p = first
		}
		if l == "" {
			p = strings.TrimRight(p, " ")
		}
		w.put(p)
		w.put(l)
		if w.stopped {
			break
		}
	}
	w.anything = true
	w.atStart = false
	w.pendSp = false
}

func (w *textBuilder) String() string {
	lines := strings.Split(w.b.String(), "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.Trim(strings.Join(out, "\n"), "\n")
}

func (r *htmlRenderer) children(w *textBuilder, n *html.Node) {
	for c := n.FirstChild; c != nil && !w.stopped && !r.root.stopped; c = c.NextSibling {
		r.node(w, c)
	}
}

// sub renders n's children into a fresh builder and returns the text.
func (r *htmlRenderer) sub(n *html.Node) string {
	w := r.builder()
	r.nest++
	r.children(w, n)
	r.nest--
	r.invisible += w.invisible
	return w.String()
}

// subNode renders n itself into a fresh builder and returns the text.
func (r *htmlRenderer) subNode(n *html.Node) string {
	w := r.builder()
	r.nest++
	r.node(w, n)
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

func (r *htmlRenderer) node(w *textBuilder, n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.inline(n.Data)
		return
	case html.DocumentNode:
		r.children(w, n)
		return
	case html.ElementNode:
	default: // comments, doctype
		return
	}
	if isHiddenElement(n) {
		r.hidden++
		return
	}
	switch n.DataAtom {
	case atom.Head, atom.Title, atom.Script, atom.Style, atom.Template, atom.Noscript,
		atom.Object, atom.Embed, atom.Iframe, atom.Frame, atom.Frameset, atom.Applet,
		atom.Audio, atom.Video, atom.Canvas, atom.Svg, atom.Math, atom.Select, atom.Button, atom.Input, atom.Textarea:
		return
	case atom.Br:
		w.lineBreak()
	case atom.Hr:
		w.rule()
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Dl:
		w.block(2)
		r.children(w, n)
		w.block(2)
	case atom.Pre:
		w.block(2)
		w.raw(strings.TrimSuffix(preText(n), "\n"))
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
	case atom.Div, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Nav, atom.Aside,
		atom.Main, atom.Center, atom.Address, atom.Form, atom.Fieldset, atom.Figure, atom.Figcaption,
		atom.Dt, atom.Tr, atom.Caption, atom.Body, atom.Html:
		w.block(1)
		r.children(w, n)
		w.block(1)
	case atom.Td, atom.Th:
		r.children(w, n)
		w.inline(" ")
	default:
		r.children(w, n)
	}
}

func (r *htmlRenderer) list(w *textBuilder, n *html.Node) {
	ordered := n.DataAtom == atom.Ol
	w.block(1)
	if r.listNest == 0 {
		w.block(2)
	}
	r.listNest++
	i := 0
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode || isHiddenElement(c) {
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
		r.prefixed(w, c, false, bullet, strings.Repeat(" ", displayWidth(bullet)))
		w.block(1)
	}
	r.listNest--
	if r.listNest == 0 {
		w.block(2)
	}
}

func (r *htmlRenderer) link(w *textBuilder, n *html.Node) {
	href := attr(n, "href")
	target := linkTarget(href, r.links)
	if r.deep() { // nested too deep to render the text apart
		r.children(w, n)
		if target != "" {
			w.inline(" <" + target + "> ")
		}
		return
	}
	text := r.sub(n)
	r.checkLink(text, href)
	if text == "" && target == "" {
		return
	}
	switch {
	case target == "":
		w.inline(text)
	case text == "" || sameLink(text, target):
		w.inline(target)
	default:
		if strings.Contains(text, "\n") {
			w.raw(text)
		} else {
			w.inline(text)
		}
		w.inline(" <" + target + "> ")
	}
}

// linkTarget is what the text shows of where a link leads: the address of
// a mailto: link; the URL of a link with a scheme, a UNC path or a
// network path (//host), which TransformLinks then defangs or removes as
// the mode says; nothing for script and data URLs, in-page and relative
// links, nor (in remove mode) for anything but mail addresses. Tabs and
// line breaks inside are dropped, as browsers drop them.
func linkTarget(href, mode string) string {
	href = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, href)
	href = strings.TrimFunc(href, func(r rune) bool { return r <= ' ' })
	lower := strings.ToLower(href)
	var target string
	switch {
	case strings.HasPrefix(lower, "javascript:"), strings.HasPrefix(lower, "vbscript:"), strings.HasPrefix(lower, "data:"):
	case strings.HasPrefix(lower, "mailto:"):
		target = strings.SplitN(href[len("mailto:"):], "?", 2)[0]
		return CleanLine(target)
	case mode == policy.LinksRemove:
	case hasScheme.MatchString(lower), strings.HasPrefix(lower, `\\`):
		target = href
	case len(lower) > 2 && strings.ContainsRune(`/\`, rune(lower[0])) && strings.ContainsRune(`/\`, rune(lower[1])):
		target = "//" + href[2:] // a network path: //host/…
	}
	return CleanLine(target)
}

// hasScheme matches a URL that starts with a scheme.
var hasScheme = regexp.MustCompile(`^[a-z][a-z0-9+.\-]*:`)

var hostLike = regexp.MustCompile(`(?i)^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,})(?:[:/?#]\S*)?$`)

// checkLink records a link whose visible text is a URL or host name that
// differs from where the link leads: the classic phishing link.
func (r *htmlRenderer) checkLink(text, href string) {
	shown := hostLike.FindStringSubmatch(strings.TrimSpace(text))
	target, err := url.Parse(strings.TrimSpace(href))
	if shown == nil || err != nil || target.Hostname() == "" {
		return
	}
	a := strings.TrimPrefix(strings.ToLower(shown[1]), "www.")
	b := strings.TrimPrefix(strings.ToLower(target.Hostname()), "www.")
	if a == b || strings.HasSuffix(a, "."+b) || strings.HasSuffix(b, "."+a) {
		return
	}
	if len(r.mismatches) < 20 {
		r.mismatches = append(r.mismatches, "shows "+a+", leads to "+b)
	}
}

// sameLink reports whether the visible text already is the target.
func sameLink(text, target string) bool {
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		for _, p := range []string{"mailto:", "https://", "http://"} {
			s = strings.TrimPrefix(s, p)
		}
		return strings.TrimSuffix(s, "/")
	}
	return norm(text) == norm(target)
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

// table renders a data table one line per row with aligned columns, and a
// layout table (nested tables, single column, or block content in cells)
// as the sequence of its cells' blocks.
func (r *htmlRenderer) table(w *textBuilder, n *html.Node) {
	rows := tableRows(n)
	if r.deep() || isLayoutTable(n, rows) {
		w.block(1)
		for _, row := range rows {
			for _, cell := range row {
				w.block(1)
				r.children(w, cell)
				w.block(1)
			}
		}
		w.block(1)
		return
	}
	var cells [][]string
	cols := 0
	for _, row := range rows {
		var line []string
		for _, cell := range row {
			line = append(line, strings.Join(strings.Fields(r.sub(cell)), " "))
		}
		for len(line) > 0 && line[len(line)-1] == "" {
			line = line[:len(line)-1]
		}
		if len(line) == 0 {
			continue
		}
		cells = append(cells, line)
		cols = max(cols, len(line))
	}
	widths := make([]int, cols)
	for _, line := range cells {
		for i, c := range line {
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	align := true
	for _, wd := range widths {
		if wd > 30 {
			align = false
		}
	}
	var b strings.Builder
	for i, line := range cells {
		if i > 0 {
			b.WriteByte('\n')
		}
		for j, c := range line {
			if j > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(c)
			if align && j < len(line)-1 {
				b.WriteString(strings.Repeat(" ", widths[j]-displayWidth(c)))
			}
		}
	}
	w.block(2)
	w.raw(b.String())
	w.block(2)
}

// tableRows returns the cells of each row of n, not descending into nested
// tables.
func tableRows(n *html.Node) [][]*html.Node {
	var rows [][]*html.Node
	var walk func(*html.Node)
	walk = func(p *html.Node) {
		for c := p.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode || isHiddenElement(c) {
				continue
			}
			switch c.DataAtom {
			case atom.Tr:
				var row []*html.Node
				for td := c.FirstChild; td != nil; td = td.NextSibling {
					if td.Type == html.ElementNode && (td.DataAtom == atom.Td || td.DataAtom == atom.Th) && !isHiddenElement(td) {
						row = append(row, td)
					}
				}
				rows = append(rows, row)
			case atom.Thead, atom.Tbody, atom.Tfoot:
				walk(c)
			}
		}
	}
	walk(n)
	return rows
}

func isLayoutTable(n *html.Node, rows [][]*html.Node) bool {
	if attr(n, "role") == "presentation" {
		return true
	}
	multi := false
	for _, row := range rows {
		if len(row) > 1 {
			multi = true
		}
		for _, cell := range row {
			if hasBlockContent(cell) {
				return true
			}
		}
	}
	return !multi
}

func hasBlockContent(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		switch c.DataAtom {
		case atom.Table, atom.P, atom.Div, atom.Ul, atom.Ol, atom.H1, atom.H2, atom.H3, atom.Blockquote, atom.Pre:
			return true
		}
		if hasBlockContent(c) {
			return true
		}
	}
	return false
}

func preText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(p *html.Node) {
		for c := p.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == html.TextNode:
				b.WriteString(c.Data)
			case c.Type == html.ElementNode && c.DataAtom == atom.Br:
				b.WriteByte('\n')
			case c.Type == html.ElementNode && !isHiddenElement(c) && c.DataAtom != atom.Script && c.DataAtom != atom.Style:
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

// isHiddenElement reports elements a mail client would not show.
func isHiddenElement(n *html.Node) bool {
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
				strings.Contains(s, "font-size:0;") || strings.HasSuffix(s, "font-size:0") ||
				strings.Contains(s, "font-size:0px") || strings.Contains(s, "max-height:0") && strings.Contains(s, "overflow:hidden") {
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

// isWide reports East Asian wide and fullwidth characters.
func isWide(r rune) bool {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return true
	}
	return false
}

// displayWidth counts East Asian wide and fullwidth characters as two
// columns, so columns of Japanese tables line up in a monospaced font.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// HTMLTokensToText reads a document the parser refused (nested deeper
// than 512 open elements) token by token, with no tree and so without its
// layout: text, block elements as line breaks, list items bulleted, links
// as the renderer writes them, image alt text; the content of scripts,
// styles, forms, media and the like, and of hidden elements, left out (and
// hidden ones counted). It never fails: what cannot be laid out is still
// read.
func HTMLTokensToText(doc []byte, links string, limit int) Rendering {
	z := html.NewTokenizer(bytes.NewReader(doc))
	r := &htmlRenderer{links: links, limit: limit}
	w := r.builder()
	r.root = w
	var (
		skip      string // the element whose content is being left out
		skipDepth int    // how many of it are open
		pre       int
		inLink    bool
		href      string
		linkStart int
	)
	endLink := func() {
		if !inLink {
			return
		}
		inLink = false
		text := ""
		if linkStart <= w.b.Len() {
			text = strings.TrimSpace(w.b.String()[linkStart:])
		}
		if len(text) < 2048 {
			r.checkLink(text, href)
		}
		switch target := linkTarget(href, r.links); {
		case target == "":
		case text == "":
			w.inline(target)
		case !sameLink(text, target):
			w.inline(" <" + target + "> ")
		}
	}
	for !w.stopped {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		if skip == "head" && tt == html.StartTagToken && tok.DataAtom == atom.Body {
			skip = "" // a head left open ends where the body starts
		}
		if skip != "" {
			switch {
			case tt == html.StartTagToken && tok.Data == skip:
				skipDepth++
			case tt == html.EndTagToken && tok.Data == skip:
				if skipDepth--; skipDepth == 0 {
					skip = ""
				}
			}
			continue
		}
		a := tok.DataAtom
		switch tt {
		case html.TextToken:
			if pre > 0 {
				w.raw(strings.Map(func(r rune) rune {
					if r == '\r' || IsInvisible(r) {
						return -1
					}
					return r
				}, tok.Data))
			} else {
				w.inline(tok.Data)
			}
			continue
		case html.StartTagToken, html.SelfClosingTagToken:
		case html.EndTagToken:
			switch a {
			case atom.A:
				endLink()
			case atom.Pre:
				pre = max(0, pre-1)
				w.block(2)
			case atom.Rt:
				w.inline("）")
			case atom.Td, atom.Th:
				w.inline(" ")
			}
			if n := tokenBlock(a); n > 0 {
				w.block(n)
			}
			continue
		default: // comments, doctype
			continue
		}
		n := &html.Node{Type: html.ElementNode, DataAtom: a, Data: tok.Data, Attr: tok.Attr}
		hidden := isHiddenElement(n)
		if hidden || tokenSkipped(a) {
			if hidden {
				r.hidden++
			}
			if tt == html.StartTagToken && !voidElement(a) {
				skip, skipDepth = tok.Data, 1
			}
			continue
		}
		if b := tokenBlock(a); b > 0 {
			w.block(b)
		}
		switch a {
		case atom.Br:
			w.lineBreak()
		case atom.Hr:
			w.rule()
		case atom.Pre:
			pre++
		case atom.Li:
			w.inline("・")
		case atom.Rt:
			w.inline("（")
		case atom.A:
			endLink() // links do not nest
			inLink, href, linkStart = true, attr(n, "href"), w.b.Len()
		case atom.Img:
			if alt := strings.TrimSpace(attr(n, "alt")); alt != "" {
				w.inline(" [画像: " + alt + "] ")
			}
		}
	}
	endLink()
	return Rendering{Text: w.String(), Hidden: r.hidden + w.invisible, Mismatches: r.mismatches, Cut: r.cut, TooDeep: true}
}

// tokenBlock says what an element's start and end ask for when read as
// tokens: a blank line (2), a line break (1) or nothing (0).
func tokenBlock(a atom.Atom) int {
	switch a {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Dl, atom.Blockquote,
		atom.Ul, atom.Ol, atom.Table, atom.Pre:
		return 2
	case atom.Div, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Nav, atom.Aside,
		atom.Main, atom.Center, atom.Address, atom.Form, atom.Fieldset, atom.Figure, atom.Figcaption,
		atom.Dt, atom.Dd, atom.Tr, atom.Caption, atom.Body, atom.Html, atom.Li:
		return 1
	}
	return 0
}

// tokenSkipped lists the elements whose content the renderer leaves out.
func tokenSkipped(a atom.Atom) bool {
	switch a {
	case atom.Head, atom.Title, atom.Script, atom.Style, atom.Template, atom.Noscript,
		atom.Object, atom.Embed, atom.Iframe, atom.Frame, atom.Frameset, atom.Applet,
		atom.Audio, atom.Video, atom.Canvas, atom.Svg, atom.Math, atom.Select, atom.Button, atom.Input, atom.Textarea,
		atom.Rp, atom.Xmp, atom.Noembed, atom.Noframes:
		return true
	}
	return false
}

// voidElement lists the elements that have no end tag.
func voidElement(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img, atom.Input, atom.Link,
		atom.Meta, atom.Param, atom.Source, atom.Track, atom.Wbr:
		return true
	}
	return false
}
