package pdf

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// imagePDF writes a PDF of one page per image (JPEG or Flate, see
// encodePage), each page as large as its source page (MediaBox in
// points) with the image scaled onto it, and nothing else: no fonts, no annotations, no actions, no metadata. Written
// here rather than by pdfcpu's image import, which sizes every page by
// the image's pixels or one fixed paper size.
func imagePDF(pages []pageImage) []byte {
	var b bytes.Buffer
	offsets := []int{0} // object 0 is the free head of the xref table
	obj := func(body string, stream []byte) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s", len(offsets)-1, body)
		if stream != nil {
			b.WriteString("\nstream\n")
			b.Write(stream)
			b.WriteString("\nendstream")
		}
		b.WriteString("\nendobj\n")
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>", nil)
	kids := make([]string, len(pages))
	for i := range pages {
		kids[i] = strconv.Itoa(3+3*i) + " 0 R"
	}
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages)), nil)
	for i, p := range pages {
		content, image := 4+3*i, 5+3*i
		w, h := num(p.ptW), num(p.ptH)
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>",
			w, h, image, content), nil)
		draw := []byte(fmt.Sprintf("q %s 0 0 %s 0 0 cm /Im0 Do Q", w, h))
		obj(fmt.Sprintf("<< /Length %d >>", len(draw)), draw)
		obj(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent %d /Filter /%s /Length %d >>",
			p.width, p.height, p.colorSpace, p.bits, p.filter, len(p.data)), p.data)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets))
	for _, off := range offsets[1:] {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets), xref)
	return b.Bytes()
}

// num writes a number of points with at most two decimals.
func num(f float64) string { return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) }
