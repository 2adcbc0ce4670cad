package mailwrite

import (
	"mime"
	"strings"
	"testing"
)

// hostileNames are filenames a sender chooses: quotes, semicolons and
// backslashes that would end a parameter, Japanese, a forged encoded word,
// and names long enough to need RFC 2231 sections.
var hostileNames = []string{
	"report.pdf",
	"my report (final).pdf",
	`say "hi".txt`,
	`a;b=c; filename="evil.exe".txt`,
	`back\slash.txt`,
	"見積書（第2版）.pdf",
	"議事録_令和8年度;\"最終\".docx",
	"=?utf-8?b?ZXZpbC5leGU=?=.txt",
	"tab\there.txt",
	"two  spaces.txt",
	strings.Repeat("あ", 120) + ".pdf", // 360 bytes of UTF-8: 1,080 characters encoded
	strings.Repeat("x", 950) + ".txt",
	strings.Repeat("😀", 120),
}

// TestAttachment: whatever the name, the Content-Disposition's filename
// and the Content-Type's name read back (with the standard library) as
// that name, and no header line passes 998 octets.
func TestAttachment(t *testing.T) {
	for _, name := range hostileNames {
		ct, cd := Attachment("application/pdf", name)
		var h Header
		h.Add("Content-Type", ct)
		h.Add("Content-Disposition", cd)
		block := h.Bytes()
		for _, line := range strings.Split(string(block), "\r\n") {
			if len(line) > 998 {
				t.Errorf("%.40q: line of %d octets", name, len(line))
			}
		}
		unfolded := strings.ReplaceAll(string(block), "\r\n ", " ")
		fields := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(unfolded), "\r\n") {
			k, v, _ := strings.Cut(line, ": ")
			fields[k] = v
		}
		disp, params, err := mime.ParseMediaType(fields["Content-Disposition"])
		if err != nil || disp != "attachment" || params["filename"] != name || len(params) != 1 {
			t.Errorf("%.40q: disposition %q reads as %q %q, %v", name, fields["Content-Disposition"], disp, params, err)
		}
		typ, params, err := mime.ParseMediaType(fields["Content-Type"])
		if err != nil || typ != "application/pdf" {
			t.Errorf("%.40q: type %q: %v", name, fields["Content-Type"], err)
			continue
		}
		if dec, err := new(mime.WordDecoder).DecodeHeader(params["name"]); err != nil || dec != name {
			t.Errorf("%.40q: type's name %q decodes to %q, %v", name, params["name"], dec, err)
		}
	}
}

// TestMediaTypeAsStandard: a value that fits a line is written as
// mime.FormatMediaType writes it; the order of parameters is kept.
func TestMediaTypeAsStandard(t *testing.T) {
	for _, name := range hostileNames {
		if len(percentEncode(name)) > maxParamValue || strings.ContainsAny(name, "\t") || strings.Contains(name, "=?") || strings.Contains(name, "  ") {
			continue // written in the extended form where FormatMediaType quotes
		}
		if got, want := MediaType("attachment", Param{"filename", name}), mime.FormatMediaType("attachment", map[string]string{"filename": name}); got != want {
			t.Errorf("%q: %q, FormatMediaType %q", name, got, want)
		}
	}
	got := MediaType("multipart/report", Param{"report-type", "delivery-status"}, Param{"boundary", "0a1b"})
	if got != "multipart/report; report-type=delivery-status; boundary=0a1b" {
		t.Errorf("order not kept: %q", got)
	}
}

// TestSections: a long value is cut into numbered sections, an extended
// one never inside an escape.
func TestSections(t *testing.T) {
	v := MediaType("attachment", Param{"filename", strings.Repeat("あ", 400)})
	if !strings.Contains(v, "; filename*0*=utf-8''%E3%81%82") || !strings.Contains(v, "; filename*1*=") || strings.Contains(v, "filename*=") {
		t.Errorf("sections: %.200q", v)
	}
	for _, s := range strings.Split(v, "; ")[1:] {
		_, val, _ := strings.Cut(s, "=")
		val = strings.TrimPrefix(val, "utf-8''")
		if len(val) > sectionLen || strings.Count(val, "%")*3 != len(val) {
			t.Errorf("section %q", s)
		}
	}
}
