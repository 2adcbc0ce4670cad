package detect

import "testing"

// TestTextFormats: text-looking formats are named by their content, as the
// program that opens them reads it, not as text.
func TestTextFormats(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		// RTF as Word reads it: "{\rt" is enough, after spaces or a BOM.
		{"rtf1", `{\rtf1\ansi hello}`, TypeRTF},
		{"rt only", `{\rt{\object\objemb}}`, TypeRTF},
		{"rtf after blank lines", "\r\n\r\n  {\\rtf1 x}", TypeRTF},
		{"rtf after bom", "\xef\xbb\xbf{\\rtx}", TypeRTF},
		{"not rtf", `{\r not rtf}`, TypeText},
		// SYLK: Excel opens it by its first bytes.
		{"sylk", "ID;PWXL;N;E\r\nC;X1;Y1;K0;EEXEC(\"x\")\r\n", TypeSYLK},
		// Office XML.
		{"word 2003 xml", `<?xml version="1.0"?><?mso-application progid="Word.Document"?><w:wordDocument xmlns:w="http://schemas.microsoft.com/office/word/2003/wordml"/>`, TypeWordXML},
		{"word xml without pi", `<w:wordDocument xmlns:w="http://schemas.microsoft.com/office/word/2003/wordml"><w:body/></w:wordDocument>`, TypeWordXML},
		{"excel 2003 xml", `<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>`, TypeExcelXML},
		{"excel pi single quotes", `<?xml version='1.0'?><?mso-application progid='Excel.Sheet'?><Workbook/>`, TypeExcelXML},
		{"flat opc word", `<?xml version="1.0"?><pkg:package xmlns:pkg="http://schemas.microsoft.com/office/2006/xmlPackage"><pkg:part pkg:contentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></pkg:package>`, TypeWordXML},
		{"flat opc powerpoint", `<pkg:package xmlns:pkg="http://schemas.microsoft.com/office/2006/xmlPackage"><pkg:part pkg:contentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/></pkg:package>`, TypePowerPointXML},
		{"infopath", `<?xml version="1.0"?><?mso-infoPathSolution name="x"?><?mso-application progid="InfoPath.Document"?><my:f/>`, TypeOfficeXML},
		{"plain xml", `<?xml version="1.0"?><note>plain</note>`, "text/xml"},
		// Messages by structure, whatever the first field.
		{"eml", "From: a@example.jp\r\nSubject: x\r\n\r\nbody", TypeMessage},
		{"x- first", "X-Campaign: 7\r\nX-Other: y\r\nContent-Type: text/html\r\n\r\n<form>", TypeMessage},
		{"leading blank lines", "\r\n\r\nX-MimeOLE: y\r\nContent-Location: file:///a.htm\r\nContent-Type: text/html\r\n\r\n<p>x", TypeMessage},
		{"folded field", "X-A: one\r\n two\r\nMIME-Version: 1.0\r\n\r\nx", TypeMessage},
		{"mbox", "From sender@example.jp Mon Nov 30 00:00:00 2026\nReturn-Path: <x@y>\nSubject: s\n\nbody\n", TypeMessage},
		{"header only", "Subject: hello\r\nFrom: a@b", TypeMessage},
		{"obsolete spacing", "Subject : hello\r\n\r\nx", TypeMessage},
		{"no mail field", "Note: remember\r\nTodo: this\r\n\r\nwords", TypeText},
		{"rdp is not a message", "full address:s:evil.example\r\nusername:s:x\r\n", TypeText},
		{"prose with colon", "Dear sir: hello\r\nFrom: me\r\n", TypeText},
		{"continuation first", " From: a@b\r\n\r\nx", TypeText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Detect([]byte(tt.data), "", nil).Type; got != tt.want {
				t.Errorf("Detect = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestOutlookMessage: an OLE2 file with the property streams of an Outlook
// item is a .msg, not an unknown OLE2 file.
func TestOutlookMessage(t *testing.T) {
	if !isOutlookMessage([]byte("junk _\x00_\x00s\x00u\x00b\x00s\x00t\x00g\x001\x00.\x000\x00_\x000\x00")) {
		t.Error("property stream name not seen")
	}
	if isOutlookMessage([]byte("WordDocument")) {
		t.Error("a Word document taken for a .msg")
	}
}
