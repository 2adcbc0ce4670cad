package detect

import (
	"bytes"
)

// Formats that look like text but that a client opens as something
// active: found by content, whatever the name says.
const (
	TypeRTF            = "text/rtf"
	TypeMessage        = "message/rfc822"             // a whole mail (.eml, .mht, mbox), by structure
	TypeOutlookMessage = "application/vnd.ms-outlook" // .msg: an OLE2 file holding a mail
	TypeSYLK           = "application/x-sylk"         // Excel opens it by content; carries Excel 4 macros
	TypeWordXML        = "application/x-ms-wordml"    // Word 2003 XML, Flat OPC Word
	TypeExcelXML       = "application/x-ms-spreadsheetml"
	TypePowerPointXML  = "application/x-ms-presentationml"
	TypeOfficeXML      = "application/x-ms-office-xml" // an mso-application instruction for another program
)

// textFormat recognises, from the bytes, the text-looking formats that
// are not text to the programs that open them: RTF as Word reads it
// ("{\rt", not only "{\rtf1"), SYLK, Office XML documents (Word 2003 XML,
// Excel 2003 XML Spreadsheet, Flat OPC, any mso-application processing
// instruction), messages (RFC 5322 header block, mbox), and calendars and
// contact cards (BEGIN:VCALENDAR, BEGIN:VCARD). "" when none.
func textFormat(b []byte) string {
	head := b[:min(len(b), 64<<10)]
	trim := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n\f\v")
	switch {
	case bytes.HasPrefix(trim, []byte(`{\rt`)):
		return TypeRTF
	case bytes.HasPrefix(head, []byte("ID;")) || bytes.HasPrefix(head, []byte("\xef\xbb\xbfID;")):
		return TypeSYLK
	case hasPrefixFold(trim, "BEGIN:VCALENDAR"):
		return TypeCalendar
	case hasPrefixFold(trim, "BEGIN:VCARD"):
		return TypeVCard
	}
	if t := officeXML(trim); t != "" {
		return t
	}
	if isMessage(head) {
		return TypeMessage
	}
	return ""
}

// officeXML names XML that Office opens as a document: by its
// mso-application processing instruction or the namespace of its root.
// Only XML-looking input is examined.
func officeXML(trim []byte) string {
	if !bytes.HasPrefix(trim, []byte("<")) {
		return ""
	}
	lower := asciiLower(trim[:min(len(trim), 64<<10)])
	has := func(s string) bool { return bytes.Contains(lower, []byte(s)) }
	office := has("<?mso-application") || has("<?mso-infopath") || has("schemas.microsoft.com/office/2006/xmlpackage") ||
		has("schemas.microsoft.com/office/word/2003/wordml") || has("urn:schemas-microsoft-com:office:spreadsheet")
	if !office {
		return "" // most often an HTML body: the other ten searches are not needed
	}
	word := has("wordprocessingml") || has("schemas.microsoft.com/office/word/2003/wordml") || has("progid=\"word.document\"") || has("progid='word.document'")
	excel := has("spreadsheetml") || has("urn:schemas-microsoft-com:office:spreadsheet") || has("progid=\"excel.sheet\"") || has("progid='excel.sheet'")
	ppt := has("presentationml") || has("progid=\"powerpoint.show\"") || has("progid='powerpoint.show'")
	switch {
	case word:
		return TypeWordXML
	case excel:
		return TypeExcelXML
	case ppt:
		return TypePowerPointXML
	}
	return TypeOfficeXML
}

// messageFields are fields that mark a header block as a mail's: one of
// them, in a block of well-formed fields at the start of the file, makes
// the file a message (Outlook and Thunderbird open such a file as one,
// whatever its first field is).
var messageFields = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "subject": true, "date": true, "message-id": true,
	"mime-version": true, "content-type": true, "content-transfer-encoding": true, "content-location": true,
	"received": true, "return-path": true, "reply-to": true, "sender": true, "x-unsent": true,
	"in-reply-to": true, "references": true, "delivered-to": true, "content-disposition": true,
}

// isMessage reports a file that is a mail by structure: after optional
// blank lines (and an mbox "From " line), a block of header fields (any
// names, continuation lines allowed) ended by an empty line or the end of
// the file, holding at least one field that mails carry.
func isMessage(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	for len(b) > 0 && (b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	if bytes.HasPrefix(b, []byte("From ")) {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return false
		}
		b = b[i+1:]
	}
	fields, marked := 0, false
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if fields == 0 {
				return false
			}
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return false
		}
		name := bytes.TrimRight(line[:colon], " \t") // obsolete "Subject :" syntax
		if len(name) == 0 {
			return false
		}
		for _, c := range name {
			if c < 33 || c > 126 {
				return false
			}
		}
		fields++
		if messageFields[string(asciiLower(name))] {
			marked = true
		}
	}
	return marked
}

// isOutlookMessage reports an OLE2 file with the property streams of an
// Outlook item (.msg): their names are UTF-16 in the directory.
func isOutlookMessage(b []byte) bool {
	return bytes.Contains(b, []byte("_\x00_\x00s\x00u\x00b\x00s\x00t\x00g\x001\x00.\x000\x00_\x00")) ||
		bytes.Contains(b, []byte("_\x00_\x00p\x00r\x00o\x00p\x00e\x00r\x00t\x00i\x00e\x00s\x00_\x00v\x00e\x00r\x00s\x00i\x00o\x00n\x00"))
}

// hasPrefixFold reports whether b starts with the ASCII prefix p, ignoring
// case (iCalendar and vCard names are case-insensitive).
func hasPrefixFold(b []byte, p string) bool {
	return len(b) >= len(p) && bytes.EqualFold(b[:len(p)], []byte(p))
}
