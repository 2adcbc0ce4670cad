package text

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTMLTokensToText reads a document the parser refused (nested deeper
// than 512 open elements) token by token, with no tree and so without its
// layout: text, block elements as line breaks, list items bulleted, links
// as the renderer writes them, image alt text; the content of scripts,
// styles, forms, media and the like, and of hidden elements, left out (and
// hidden ones counted); at most limit bytes, as HTMLToTextLimit. It never
// fails: what cannot be laid out is still read.
func HTMLTokensToText(doc []byte, links string, limit int) Rendering {
	z := html.NewTokenizer(bytes.NewReader(doc))
	r := &htmlRenderer{links: links, limit: limit}
	t := &tokenReader{r: r, w: r.builder()}
	r.root = t.w
	for !t.w.stopped {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		t.token(tt, z.Token())
	}
	t.endLink()
	return Rendering{Text: t.w.String(), Hidden: r.hidden + t.w.invisible, Mismatches: r.mismatches, Cut: r.cut, TooDeep: true}
}

// tokenReader is what HTMLTokensToText knows between tokens.
type tokenReader struct {
	r         *htmlRenderer
	w         *textBuilder
	skip      string // the element whose content is being left out
	skipDepth int    // how many of it are open
	pre       int    // open pre elements
	inLink    bool
	href      string // of the open link
	linkStart int    // where the open link's text starts in w
}

// token reads one token.
func (t *tokenReader) token(tt html.TokenType, tok html.Token) {
	if t.skipping(tt, tok) {
		return
	}
	switch tt {
	case html.TextToken:
		t.text(tok.Data)
	case html.StartTagToken, html.SelfClosingTagToken:
		t.start(tt, tok)
	case html.EndTagToken:
		t.end(tok.DataAtom)
	} // comments, doctype: nothing
}

// skipping reports whether tok is inside an element whose content is left
// out, keeping count of how many of it are open.
func (t *tokenReader) skipping(tt html.TokenType, tok html.Token) bool {
	if t.skip == "head" && tt == html.StartTagToken && tok.DataAtom == atom.Body {
		t.skip = "" // a head left open ends where the body starts
	}
	if t.skip == "" {
		return false
	}
	switch {
	case tt == html.StartTagToken && tok.Data == t.skip:
		t.skipDepth++
	case tt == html.EndTagToken && tok.Data == t.skip:
		if t.skipDepth--; t.skipDepth == 0 {
			t.skip = ""
		}
	}
	return true
}

// text writes text: flowing, or inside pre as it is.
func (t *tokenReader) text(s string) {
	if t.pre == 0 {
		t.w.inline(s)
		return
	}
	t.w.raw(strings.Map(func(r rune) rune {
		if r == '\r' || IsInvisible(r) {
			return -1
		}
		return r
	}, s))
}

// start opens an element: a hidden or dropped one starts a skip.
func (t *tokenReader) start(tt html.TokenType, tok html.Token) {
	a := tok.DataAtom
	n := &html.Node{Type: html.ElementNode, DataAtom: a, Data: tok.Data, Attr: tok.Attr}
	hidden := isHiddenElement(n)
	if hidden || tokenSkipped(a) {
		if hidden {
			t.r.hidden++
		}
		if tt == html.StartTagToken && !voidElement(a) {
			t.skip, t.skipDepth = tok.Data, 1
		}
		return
	}
	if b := tokenBlock(a); b > 0 {
		t.w.block(b)
	}
	switch a {
	case atom.Br:
		t.w.lineBreak()
	case atom.Hr:
		t.w.rule()
	case atom.Pre:
		t.pre++
	case atom.Li:
		t.w.inline("・")
	case atom.Rt:
		t.w.inline("（")
	case atom.A:
		t.endLink() // links do not nest
		t.inLink, t.href, t.linkStart = true, attr(n, "href"), t.w.b.Len()
	case atom.Img:
		if alt := strings.TrimSpace(attr(n, "alt")); alt != "" {
			t.w.inline(" [画像: " + alt + "] ")
		}
	}
}

// end closes an element.
func (t *tokenReader) end(a atom.Atom) {
	switch a {
	case atom.A:
		t.endLink()
	case atom.Pre:
		t.pre = max(0, t.pre-1)
		t.w.block(2)
	case atom.Rt:
		t.w.inline("）")
	case atom.Td, atom.Th:
		t.w.inline(" ")
	}
	if n := tokenBlock(a); n > 0 {
		t.w.block(n)
	}
}

// endLink ends the open link, if any: its target is written after its
// text as the renderer writes it, and a text naming another host is
// reported.
func (t *tokenReader) endLink() {
	if !t.inLink {
		return
	}
	t.inLink = false
	text := ""
	if t.linkStart <= t.w.b.Len() {
		text = strings.TrimSpace(t.w.b.String()[t.linkStart:])
	}
	if len(text) < 2048 {
		t.r.checkLink(text, t.href)
	}
	switch target := linkTarget(t.href, t.r.links); {
	case target == "":
	case text == "":
		t.w.inline(target)
	case !sameLink(text, target):
		t.w.inline(" <" + target + "> ")
	}
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
