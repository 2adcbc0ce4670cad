package officepdf

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"mugai/sanitize/detect"
)

// odp is a one-slide OpenDocument presentation.
func odp(t *testing.T, text string) []byte {
	content := `<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.3">
<office:body><office:presentation><draw:page draw:name="p1"><draw:frame svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="3cm"><draw:text-box><text:p>` + text + `</text:p></draw:text-box></draw:frame></draw:page></office:presentation></office:body></office:document-content>`
	return zipOf(t, member{"mimetype", "application/vnd.oasis.opendocument.presentation"},
		member{"META-INF/manifest.xml", `<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.presentation"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>`},
		member{"content.xml", content})
}

// legacyFiles has LibreOffice, in one sandbox, write Word, Excel and
// PowerPoint 97-2003 files from documents the tests build (the fixtures,
// made at test time instead of committed), then convert those to PDF as
// Convert does, each read under the extension of its detected type (one
// sandbox for all: a cold start of LibreOffice per file is slow on a
// shared machine).
func legacyFiles(t *testing.T, c *Converter) map[string][]byte {
	t.Helper()
	in := []inFile{
		{"/tmp/in/doc.docx", docx(t, para("LEGACY-DOC 文書"), "", false)},
		{"/tmp/in/xls.xlsx", xlsx(t, 0, false)},
		{"/tmp/in/ppt.odp", odp(t, "LEGACY-PPT スライド")},
		{"/tmp/profile/user/registrymodifications.xcu", profile(false)},
	}
	script := `for f in doc:docx xls:xlsx ppt:odp; do "$0" "$@" --convert-to "${f%%:*}" --outdir /tmp/out "/tmp/in/${f%%:*}.${f#*:}" >&2 || exit 1; done
"$0" "$@" --convert-to pdf --outdir /tmp/out /tmp/out/doc.doc /tmp/out/xls.xls /tmp/out/ppt.ppt >&2 && cd /tmp/out && exec tar c .`
	ctx, cancel := context.WithTimeout(context.Background(), 2*convTimeout)
	defer cancel()
	res, err := c.box.run(ctx, in, []string{"/bin/sh", "-c", script, c.soffice, "--headless", "--norestore", "--nolockcheck", profileArg})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(res.stdout))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[strings.TrimPrefix(h.Name, "./")] = b
	}
}

// TestLegacy: Word, Excel and PowerPoint 97-2003 files are detected as
// the legacy types the Flattener registers, under the extensions it gives
// LibreOffice, and convert to PDF with their text.
func TestLegacy(t *testing.T) {
	slow(t)
	c := converter(t, &Converter{Timeout: convTimeout})
	files := legacyFiles(t, c)
	for _, tt := range []struct{ name, typ, text string }{
		{"doc", detect.TypeDOC, "LEGACY-DOC"},
		{"xls", detect.TypeXLS, "PLAIN-XLSX"},
		{"ppt", detect.TypePPT, "LEGACY-PPT"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc, ok := files[tt.name+"."+tt.name]
			if !ok {
				t.Fatalf("LibreOffice wrote no .%s", tt.name)
			}
			if got := detect.Detect(doc, "", nil).Type; got != tt.typ || exts[got] != tt.name {
				t.Fatalf("detected as %q (extension %q); want %q", got, exts[got], tt.typ)
			}
			if txt := textOf(t, files[tt.name+".pdf"]); !strings.Contains(txt, tt.text) {
				t.Errorf("text of the PDF %q; want %q", txt, tt.text)
			}
		})
	}
}
