package text

import (
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Preheaders. Most commercial HTML mail (Mailchimp, Litmus templates,
// Japanese shopping and education newsletters) opens its body with a
// hidden preview line, the "preheader": a display:none (or max-height:0;
// overflow:hidden, font-size:0, mso-hide:all) element holding one short
// sentence that mail clients show beside the subject in the message list,
// often followed by runs of &zwnj;&nbsp; or &#847; that push the body's
// own first words out of the preview. It is hidden text, but not the
// hidden text of a phishing mail, so it is not counted as hidden:
//
//   - it comes before the first visible text of the document (an image
//     without alt text is not text), and not inside a link or form;
//   - at most one hidden element before that text holds text; the others
//     hold only padding (white space, zero-width characters, U+034F);
//   - its text, padding removed, is at most maxPreheader characters;
//   - it and what it holds are plain text containers (span, div, p, font,
//     b, table cells…): no link, form, image, media, script, nor any
//     attribute that names a URL.
//
// Anything else about it (a second text, a link, 201 characters, text
// after the first visible word) and none of the hidden elements before
// the first visible text are excused: they are counted as before. A
// document read by the tokenizer (nested too deeply to parse) gets no
// preheader. The preheader's text is not written into the rebuilt text:
// it is a preview of the body, which follows in full.

// maxPreheader is the most characters (padding removed) a preheader may
// hold: preview panes show 40–140.
const maxPreheader = 200

// preheader is what findPreheader found.
type preheader struct {
	text    string              // the preview text, padding removed and spaces collapsed
	excused map[*html.Node]bool // the hidden elements that are the preheader and its padding
	lead    map[*html.Node]bool // visible text nodes before the first text: padding whose zero-width characters are not counted
}

// findPreheader looks for a newsletter preheader in a parsed document.
func findPreheader(root *html.Node, scan *hideScan) preheader {
	f := &preheaderFinder{excused: map[*html.Node]bool{}, lead: map[*html.Node]bool{}, scan: scan}
	f.walk(root, false)
	if f.bad || f.texts > 1 || len(f.excused) == 0 {
		return preheader{}
	}
	return preheader{text: f.text, excused: f.excused, lead: f.lead}
}

// preheaderFinder walks a document in order up to its first visible text.
type preheaderFinder struct {
	excused map[*html.Node]bool
	lead    map[*html.Node]bool
	scan    *hideScan
	text    string
	texts   int  // hidden elements holding text
	bad     bool // a hidden element that cannot be a preheader's: nothing is excused
	done    bool // the first visible text was reached
}

func (f *preheaderFinder) walk(n *html.Node, inLink bool) {
	for c := n.FirstChild; c != nil && !f.done && !f.bad; c = c.NextSibling {
		switch {
		case c.Type == html.TextNode:
			if f.done = !isPadding(c.Data); !f.done {
				f.lead[c] = true
			}
		case c.Type != html.ElementNode: // comments, doctype
		case f.scan.hiddenBy(c):
			f.hidden(c, inLink)
		default:
			switch c.DataAtom {
			case atom.Head, atom.Title, atom.Script, atom.Style, atom.Template, atom.Noscript:
				// shown by no client, read by nobody
			case atom.Pre, atom.Caption, atom.Rp:
				// read apart (or not at all): its text ends the search,
				// its padding is not excused
				f.done = holdsText(c)
			case atom.Img:
				f.done = strings.TrimSpace(attr(c, "alt")) != ""
			case atom.Object, atom.Embed, atom.Iframe, atom.Frame, atom.Frameset, atom.Applet, atom.Audio,
				atom.Video, atom.Canvas, atom.Svg, atom.Math, atom.Select, atom.Button, atom.Input, atom.Textarea:
				f.done = true // something a client may show
			default:
				f.walk(c, inLink || c.DataAtom == atom.A || c.DataAtom == atom.Form)
			}
		}
	}
}

// hidden judges one hidden element before the first visible text.
func (f *preheaderFinder) hidden(n *html.Node, inLink bool) {
	t, ok := preheaderContent(n)
	switch {
	case !ok || inLink:
		f.bad = true
	case t == "":
		f.excused[n] = true // padding
	default:
		f.texts++
		f.text = t
		f.excused[n] = true
	}
}

// preheaderContent returns the text of a hidden element, padding removed
// and spaces collapsed, and whether it may be a preheader's: only text
// containers, no URL, at most maxPreheader characters.
func preheaderContent(n *html.Node) (string, bool) {
	var b strings.Builder
	count, space := 0, false
	ok := preheaderElement(n)
	var walk func(*html.Node)
	walk = func(p *html.Node) {
		for c := p.FirstChild; c != nil && ok; c = c.NextSibling {
			switch c.Type {
			case html.ElementNode:
				if ok = preheaderElement(c); ok {
					walk(c)
				}
			case html.TextNode:
				for _, r := range c.Data {
					if isPaddingRune(r) {
						space = b.Len() > 0
						continue
					}
					if count++; count > maxPreheader {
						ok = false
						return
					}
					if space {
						b.WriteByte(' ')
						space = false
					}
					b.WriteRune(r)
				}
			}
		}
	}
	if ok {
		walk(n)
	}
	return b.String(), ok
}

// preheaderElement reports whether an element may be part of a
// preheader: a text container naming no URL.
func preheaderElement(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Span, atom.Div, atom.P, atom.Br, atom.Wbr, atom.Font, atom.B, atom.I, atom.U, atom.S, atom.Strong,
		atom.Em, atom.Small, atom.Big, atom.Sup, atom.Sub, atom.Center, atom.Strike, atom.Tt,
		atom.Table, atom.Tbody, atom.Thead, atom.Tfoot, atom.Tr, atom.Td, atom.Th:
	default:
		return false
	}
	for _, a := range n.Attr {
		switch strings.ToLower(a.Key) {
		case "href", "src", "srcset", "lowsrc", "dynsrc", "action", "formaction", "background", "data",
			"poster", "xlink:href", "longdesc", "cite", "usemap", "ping":
			return false
		case "style":
			if strings.Contains(strings.ToLower(a.Val), "url(") {
				return false
			}
		}
		if strings.HasPrefix(strings.ToLower(a.Key), "on") {
			return false // event handlers
		}
	}
	return true
}

// holdsText reports whether n holds any text but padding.
func holdsText(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode && !isPadding(c.Data) || c.Type == html.ElementNode && holdsText(c) {
			return true
		}
	}
	return false
}

// isPadding reports text made only of padding.
func isPadding(s string) bool {
	for _, r := range s {
		if !isPaddingRune(r) {
			return false
		}
	}
	return true
}

// isPaddingRune reports the characters newsletters pad a preheader with
// (and that show nothing): white space (no-break and figure spaces
// included), zero-width characters and the soft hyphen, U+034F COMBINING
// GRAPHEME JOINER (&#847;), the braille blank and the Hangul fillers.
// Direction controls are not padding.
func isPaddingRune(r rune) bool {
	switch r {
	case '\u034f', '\u2800', '\u3164', '\uffa0', '\u115f', '\u1160', '\u17b4', '\u17b5':
		return true
	}
	return unicode.IsSpace(r) || IsInvisible(r)
}
