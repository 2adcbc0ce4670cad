package text

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Zero font size. font-size:0 hides an element's own text, but newsletters
// built for every client (hybrid "spongy" layouts, Litmus and Cerberus
// templates) set it on a cell to remove the gaps between inline-block
// columns and set the columns' font size again inside: that text is shown.
// Images, too, are shown at any font size. So an element whose font size
// is zero is hidden as a whole only when nothing inside it sets a font
// size again and it holds no image; otherwise it is rendered, and only the
// text that stays at size zero is left out and counted.

// fontSize is what an element's style says about its font size.
type fontSize int

const (
	fontInherit fontSize = iota // says nothing
	fontZero                    // font-size:0 or 0px
	fontSet                     // any other size
)

// styleFontSize reads the last font-size declaration of n's style.
func styleFontSize(n *html.Node) fontSize {
	if n.Type != html.ElementNode {
		return fontInherit
	}
	fs := fontInherit
	for _, a := range n.Attr {
		if a.Key != "style" {
			continue
		}
		s := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
		for _, decl := range strings.Split(s, ";") {
			v, ok := strings.CutPrefix(decl, "font-size:")
			if !ok {
				continue
			}
			switch strings.TrimSuffix(v, "!important") {
			case "0", "0px":
				fs = fontZero
			case "":
			default:
				fs = fontSet
			}
		}
	}
	return fs
}

// hideScan says which elements of one document are hidden as a whole; it
// remembers what it found inside elements, so that every element is
// looked at once.
type hideScan struct {
	shows map[*html.Node]bool // whether an element holds one that sets a font size, or an image
}

// hiddenBy reports an element hidden as a whole: its box is hidden, or
// its font size is zero and nothing inside it is shown at another size.
func (s *hideScan) hiddenBy(n *html.Node) bool {
	if isHiddenBox(n) {
		return true
	}
	return styleFontSize(n) == fontZero && !s.showsInside(n)
}

// showsInside reports whether n holds an element that sets a font size,
// or an image.
func (s *hideScan) showsInside(n *html.Node) bool {
	if v, ok := s.shows[n]; ok {
		return v
	}
	found := false
	for c := n.FirstChild; c != nil && !found; c = c.NextSibling {
		found = c.Type == html.ElementNode && (c.DataAtom == atom.Img || styleFontSize(c) == fontSet || s.showsInside(c))
	}
	if s.shows == nil {
		s.shows = map[*html.Node]bool{}
	}
	s.shows[n] = found
	return found
}

// withFont renders with n's font size in effect: text inside an element of
// size zero is hidden until an element inside sets a size again.
func (r *htmlRenderer) withFont(n *html.Node, render func()) {
	saved := r.zeroFont
	switch styleFontSize(n) {
	case fontZero:
		r.zeroFont = true
	case fontSet:
		r.zeroFont = false
	}
	render()
	r.zeroFont = saved
}
