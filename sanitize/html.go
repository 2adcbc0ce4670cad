package sanitize

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"net/url"
	"regexp"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/width"

	"mugai/policy"
)

// htmlToText renders an HTML document as readable plain text: block
// structure kept as line breaks, lists bulleted, data tables row by row,
// links as "text <url>" (or text only when links are removed), image alt
// text; scripts, styles, comments, the head and hidden elements dropped and
// counted, and links whose text names another host than their target
// reported.
func htmlToText(doc []byte, links string) rendered {
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil { // x/net/html only fails on reader errors
		return rendered{}
	}
	r := &htmlRenderer{links: links}
	w := &textBuilder{}
	r.children(w, root)
	return rendered{text: w.String(), hidden: r.hidden + w.invisible, mismatches: r.mismatches}
}

type htmlRenderer struct {
	links      string
	hidden     int
	listNest   int
	mismatches []string
}

// textBuilder accumulates text with collapsed whitespace and at most one
// blank line in a row.
type textBuilder struct {
	b         strings.Builder
	pendNL    int  // newlines owed before the next text
	pendSp    bool // a space owed before the next word
	spNL      bool // the owed space came from a line break in the source
	atStart   bool // nothing written yet on this line
	anything  bool
	last      rune // the last character written
	invisible int  // zero-width and bidi characters left out
}

func (w *textBuilder) flushNL() {
	if !w.anything {
		w.pendNL = 0
		return
	}
	for ; w.pendNL > 0; w.pendNL-- {
		w.b.WriteByte('\n')
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
		case isInvisible(r), isBidiControl(r):
			w.invisible++
		default:
			if w.pendNL > 0 {
				w.flushNL()
				w.pendSp = false
			}
			// A source line break between two CJK characters is not a
			// space (CSS Text 3 segment break rules).
			cjkJoin := w.spNL && isWide(w.last) && isWide(r)
			if w.pendSp && w.anything && !w.atStart && !cjkJoin {
				w.b.WriteByte(' ')
			}
			w.pendSp, w.spNL = false, false
			w.b.WriteRune(r)
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
		w.b.WriteByte(' ')
	}
	w.pendSp = false
	w.b.WriteString(s)
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
	for i, l := range strings.Split(s, "\n") {
		if i > 0 {
			w.b.WriteByte('\n')
		}
		p := rest
		if i == 0 {
			p = first
		}
		if l == "" {
			p = strings.TrimRight(p, " ")
		}
		w.b.WriteString(p + l)
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
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		r.node(w, c)
	}
}

// sub renders n's children into a fresh builder and returns the text.
func (r *htmlRenderer) sub(n *html.Node) string {
	w := &textBuilder{}
	r.children(w, n)
	return w.String()
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
		w.block(1)
		w.flushNL()
		w.atStart = true
	case atom.Hr:
		w.block(1)
		w.raw("――――――――――――――――――――")
		w.block(1)
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
		w.lines(r.sub(n), "> ", "> ")
		w.block(2)
	case atom.Ul, atom.Ol:
		r.list(w, n)
	case atom.Li: // outside a list
		w.block(1)
		w.lines(r.sub(n), "・", "  ")
		w.block(1)
	case atom.Dd:
		w.block(1)
		w.lines(r.sub(n), "  ", "  ")
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
			w.lines(r.sub(&html.Node{FirstChild: c}), "  ", "  ")
			w.block(1)
			continue
		}
		i++
		bullet := "・"
		if ordered {
			bullet = fmt.Sprintf("%d. ", i)
		}
		w.block(1)
		w.lines(r.sub(c), bullet, strings.Repeat(" ", displayWidth(bullet)))
		w.block(1)
	}
	r.listNest--
	if r.listNest == 0 {
		w.block(2)
	}
}

func (r *htmlRenderer) link(w *textBuilder, n *html.Node) {
	text := r.sub(n)
	r.checkLink(text, attr(n, "href"))
	href := strings.TrimSpace(attr(n, "href"))
	lower := strings.ToLower(href)
	target := ""
	switch {
	case href == "", strings.HasPrefix(lower, "#"):
	case strings.HasPrefix(lower, "javascript:"), strings.HasPrefix(lower, "vbscript:"), strings.HasPrefix(lower, "data:"):
	case strings.HasPrefix(lower, "mailto:"):
		target = strings.SplitN(href[len("mailto:"):], "?", 2)[0]
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"), strings.HasPrefix(lower, "ftp://"):
		target = href
	}
	target = cleanLine(target)
	if r.links == policy.LinksRemove && !strings.HasPrefix(strings.ToLower(href), "mailto:") {
		target = ""
	}
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
	var base, reading strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch {
		case c.Type == html.ElementNode && c.DataAtom == atom.Rt:
			reading.WriteString(r.sub(c))
		case c.Type == html.ElementNode && c.DataAtom == atom.Rp:
		case c.Type == html.TextNode:
			base.WriteString(c.Data)
		default:
			base.WriteString(r.sub(&html.Node{FirstChild: c}))
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
	if isLayoutTable(n, rows) {
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
		if isInvisible(r) || r == '\r' {
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
