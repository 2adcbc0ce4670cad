package load

import (
	"bytes"
	"encoding/base64"
	"fmt"
)

func base64Append(dst, src []byte) []byte {
	return base64.StdEncoding.AppendEncode(dst, src)
}

// minimalPDF is a one-page PDF of about size bytes: a page with a line of
// text and an uncompressed content stream padded with comments.
func minimalPDF(size int) []byte {
	var content bytes.Buffer
	content.WriteString("BT /F1 12 Tf 72 720 Td (Quote) Tj ET\n")
	for content.Len() < size-800 {
		content.WriteString("% padding to the size of a real attachment .........................\n")
	}
	var b bytes.Buffer
	offsets := []int{}
	obj := func(s string) {
		offsets = append(offsets, b.Len())
		b.WriteString(s)
	}
	b.WriteString("%PDF-1.4\n")
	obj("1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n")
	obj("2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n")
	obj("3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >> endobj\n")
	obj(fmt.Sprintf("4 0 obj << /Length %d >> stream\n%sendstream endobj\n", content.Len(), content.String()))
	obj("5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}
