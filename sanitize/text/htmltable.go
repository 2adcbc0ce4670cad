package text

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/width"
)

// table renders a data table one line per row with aligned columns, and a
// layout table (nested tables, single column, or block content in cells)
// as the sequence of its cells' blocks.
func (r *htmlRenderer) table(w *textBuilder, n *html.Node) {
	rows := r.tableRows(n)
	if r.deep() || isLayoutTable(n, rows) {
		w.block(1)
		for _, row := range rows {
			for _, cell := range row {
				w.block(1)
				r.withFont(cell, func() { r.children(w, cell) })
				w.block(1)
			}
		}
		w.block(1)
		return
	}
	lines := alignCells(r.cellTexts(rows))
	w.block(2)
	w.raw(lines)
	w.block(2)
}

// cellTexts renders each cell of a data table as one line of text; empty
// cells at the end of a row, and rows left empty, are dropped.
func (r *htmlRenderer) cellTexts(rows [][]*html.Node) [][]string {
	var cells [][]string
	for _, row := range rows {
		var line []string
		for _, cell := range row {
			var text string
			r.withFont(cell, func() { text = r.sub(cell) })
			line = append(line, strings.Join(strings.Fields(text), " "))
		}
		for len(line) > 0 && line[len(line)-1] == "" {
			line = line[:len(line)-1]
		}
		if len(line) == 0 {
			continue
		}
		cells = append(cells, line)
	}
	return cells
}

// alignCells writes the rows one line each, cells separated by " | " and
// padded to line up in a monospaced font, unless a column is wider than
// 30 columns (then it is not padded at all).
func alignCells(cells [][]string) string {
	cols := 0
	for _, line := range cells {
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
	return b.String()
}

// tableRows returns the cells of each row of n, not descending into nested
// tables; hidden rows and cells are left out and counted.
func (r *htmlRenderer) tableRows(n *html.Node) [][]*html.Node {
	var rows [][]*html.Node
	var walk func(*html.Node)
	walk = func(p *html.Node) {
		for c := p.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if r.scan.hiddenBy(c) {
				r.hiddenElement(c)
				continue
			}
			switch c.DataAtom {
			case atom.Tr:
				var row []*html.Node
				for td := c.FirstChild; td != nil; td = td.NextSibling {
					if td.Type != html.ElementNode || td.DataAtom != atom.Td && td.DataAtom != atom.Th {
						continue
					}
					if r.scan.hiddenBy(td) {
						r.hiddenElement(td)
						continue
					}
					row = append(row, td)
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
