package pdf

import (
	"fmt"
	"strings"
	"unicode/utf16"
)

// jaSentences are the text of the Japanese documents the tests build: the
// kind of notice a city hall sends and receives.
var jaSentences = []string{
	"令和八年度の住民税の申告受付は、二月十六日から三月十五日まで市役所本庁舎一階の市民課窓口で行います。",
	"申告書の提出にあたっては、マイナンバーカード又は通知カードと本人確認書類の写しを添付してください。",
	"給与所得者で年末調整を受けた方、公的年金等の収入のみの方は、原則として申告の必要はありません。",
	"医療費控除を受ける場合は、医療費控除の明細書を作成のうえ、領収書は五年間ご自宅で保管してください。",
	"郵送による提出も受け付けております。封筒の表に「住民税申告書在中」と朱書きしてお送りください。",
	"障害者控除対象者認定書の交付を希望される方は、高齢福祉課までお問い合わせください（内線二三四五）。",
	"なお、期限を過ぎた申告は延滞金の対象となる場合がありますので、お早めの手続きにご協力をお願いします。",
	"詳しくは市のホームページ、または広報誌二月号の特集記事「くらしの税金ガイド」をご覧ください。",
}

// utf16Hex is s as a PDF hex string for the UniJIS-UCS2-H encoding.
func utf16Hex(s string) string {
	var b strings.Builder
	b.WriteByte('<')
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteByte('>')
	return b.String()
}

// jaTextPage is the content of a page 595 points wide and height high
// (842: A4): a heading, then body lines of Japanese text at size points,
// wrapped to the page's width, a ruled table when table is set, and a
// red seal when seal is set.
func jaTextPage(page int, size, height float64, table, seal bool) string {
	var c strings.Builder
	fmt.Fprintf(&c, "BT /F2 16 Tf 50 %g Td %s Tj ET\n", height-52, utf16Hex(fmt.Sprintf("住民税の申告について（第%d面）", page+1)))
	perLine := int(495 / size)
	y := height - 82
	text := []rune(strings.Join(jaSentences, ""))
	pos := page * 97
	bottom := 60.0
	if table {
		bottom = 260
	}
	for y > bottom {
		line := make([]rune, perLine)
		for i := range line {
			line[i] = text[(pos+i)%len(text)]
		}
		fmt.Fprintf(&c, "BT /F2 %g Tf 50 %.1f Td %s Tj ET\n", size, y, utf16Hex(string(line)))
		pos += perLine
		y -= size * 1.6
	}
	if table {
		c.WriteString("0.5 w\n")
		for r := range 9 {
			ry := 240 - 20*r
			fmt.Fprintf(&c, "50 %d m 545 %d l S\n", ry, ry)
			if r < 8 {
				fmt.Fprintf(&c, "BT /F2 9 Tf 55 %d Td %s Tj ET\n", ry-14, utf16Hex(fmt.Sprintf("第%d区分　所得割額", r+1)))
				fmt.Fprintf(&c, "BT /F1 9 Tf 420 %d Td (%d,%03d yen) Tj ET\n", ry-14, 12+r*7, (r*379)%1000)
			}
		}
		c.WriteString("50 80 m 50 240 l S 300 80 m 300 240 l S 545 80 m 545 240 l S\n")
	}
	if seal {
		fmt.Fprintf(&c, "q 1 0 0 1 0 %g cm 0.85 0.1 0.1 RG 0.85 0.1 0.1 rg 2 w 500 0 m 500 17 513 30 530 30 c 547 30 560 17 560 0 c 560 -17 547 -30 530 -30 c 513 -30 500 -17 500 0 c S\n", height-42)
		fmt.Fprintf(&c, "BT /F2 14 Tf 516 -5 Td %s Tj ET Q\n", utf16Hex("市長"))
	}
	fmt.Fprintf(&c, "0 g BT /F1 8 Tf 290 30 Td (- %d -) Tj ET\n", page+1)
	return c.String()
}

// japaneseTextPDF is a document of n pages 595 points wide and height
// high (842: A4) of Japanese text at size points in a font that is not
// embedded (pdfium takes IPAex Gothic from the font root), as a word
// processor writes a notice: a ruled table on every third page and a red
// seal on the first.
func japaneseTextPDF(n int, size, height float64) []byte {
	fonts := 3 + 2*n
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", ""}
	var kids []string
	for p := range n {
		kids = append(kids, fmt.Sprintf("%d 0 R", 3+2*p))
		objs = append(objs, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 %g] /Contents %d 0 R /Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> >>",
			height, 4+2*p, fonts, fonts+1),
			stream("", jaTextPage(p, size, height, p%3 == 2, p == 0)))
	}
	objs[1] = "<< /Type /Pages /Kids [" + strings.Join(kids, " ") + fmt.Sprintf("] /Count %d >>", n)
	objs = append(objs, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /MS-Mincho /Encoding /UniJIS-UCS2-H /DescendantFonts [%d 0 R] >>", fonts+2),
		fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /MS-Mincho /CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 6 >> /FontDescriptor %d 0 R >>", fonts+3),
		"<< /Type /FontDescriptor /FontName /MS-Mincho /Flags 6 /FontBBox [0 -141 1000 859] /ItalicAngle 0 /Ascent 859 /Descent -141 /CapHeight 700 /StemV 80 >>")
	return buildPDF(objs, nil)
}
