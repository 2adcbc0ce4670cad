package officepdf

import (
	"bytes"
	"encoding/base64"
	"os"
	"strings"
	"testing"
	"time"

	"mugai/policy"
	"mugai/sanitize"
	"mugai/sanitize/detect"
	"mugai/sanitize/format"
	"mugai/sanitize/ooxml"
	"mugai/sanitize/pdf"
	"mugai/sanitize/sanitizetest"
)

// TestRebuildOfficeFlattenPolicy: a mail with a Word attachment through
// the rebuilder under policy/examples/office-flatten.yaml, with the
// registry as main builds it: the document is delivered as お知らせ.pdf,
// an A4 page of pixels only, decided by office-flatten, and no
// LibreOffice process is left; without LibreOffice, as text with the
// notice line.
func TestRebuildOfficeFlattenPolicy(t *testing.T) {
	data, err := os.ReadFile("../../policy/examples/office-flatten.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse("office-flatten.yaml", data, policy.DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	doc := docx(t, para("会議のお知らせ")+`<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr>`, "", false)
	msg := "From: a@example.jp\r\nTo: b@example.lg.jp\r\nSubject: test\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n" +
		"--XX\r\nContent-Type: " + detect.TypeDOCX + "\r\nContent-Disposition: attachment; filename*=utf-8''%E3%81%8A%E7%9F%A5%E3%82%89%E3%81%9B.docx\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString(doc) + "\r\n--XX--\r\n"
	for _, tt := range []struct {
		name string
		conv *Converter
		file string
		want func(t *testing.T, out []byte, d policy.Decision)
	}{
		{"without LibreOffice", &Converter{Soffice: "/nonexistent/soffice"}, "お知らせ.txt", func(t *testing.T, out []byte, d policy.Decision) {
			if !bytes.Contains(out, []byte("会議のお知らせ")) || !strings.Contains(d.Detail, noConverter.EN) {
				t.Errorf("text %q, detail %q: want the document's text and the no-converter line", out, d.Detail)
			}
		}},
		{"with LibreOffice", &Converter{Timeout: convTimeout}, "お知らせ.pdf", func(t *testing.T, out []byte, d policy.Decision) {
			onlyPixels(t, out)
			if !bytes.Contains(out, []byte("/MediaBox [0 0 595")) && !bytes.Contains(out, []byte("/MediaBox [0 0 594")) {
				t.Errorf("page is not A4 in points: %q", firstMatch(out, "/MediaBox"))
			}
			if left := waitGone(profileArg, 2*time.Second); len(left) > 0 {
				t.Errorf("processes left behind: %v", left)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.file == "お知らせ.pdf" {
				converter(t, tt.conv)
			}
			reg := &format.Registry{}
			reg.Register(policy.ActionExtract, &ooxml.Extractor{}, ooxml.Types...)
			reg.Register(policy.ActionFlatten, &Flattener{Converter: tt.conv, PDF: &pdf.Flattener{Engine: pdfEngine()}, Fallback: reg}, Types...)
			rb := &sanitize.Rebuilder{Policy: pol, Sanitizers: reg, Limits: sanitize.Limits{SanitizeTimeout: convTimeout + time.Minute}}
			res, err := rb.Rebuild(sanitize.Envelope{From: "a@example.jp", Rcpts: []string{"b@example.lg.jp"}}, strings.NewReader(msg))
			if err != nil {
				t.Fatal(err)
			}
			var d policy.Decision
			for _, x := range res.Decisions {
				if x.Filename == "お知らせ.docx" {
					d = x
				}
			}
			if d.RuleID != "office-flatten" || d.Action != policy.ActionFlatten {
				t.Fatalf("decision %+v; want office-flatten", d)
			}
			files, err := sanitizetest.Attachments(res.Message)
			if err != nil {
				t.Fatal(err)
			}
			out, ok := files[tt.file]
			if !ok {
				t.Fatalf("attachments %v; want %s", keys(files), tt.file)
			}
			tt.want(t, out, d)
		})
	}
}

func keys(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
