package sanitize

import (
	"strings"
	"testing"

	"mugai/policy"
)

func TestDeliveredName(t *testing.T) {
	tests := []struct{ proposed, ctype, want string }{
		{"notes.txt", "text/plain; charset=utf-8", "notes.txt"},
		{"server.LOG", "text/plain; charset=utf-8", "server.LOG"},
		{"table.csv", "text/csv; charset=utf-8", "table.csv"},
		{"table.tsv", "text/csv; charset=utf-8", "table.tsv"},
		{"plain.tsv", "text/plain; charset=utf-8", "plain.tsv.txt"}, // a .tsv that was not written as CSV
		{"macro.slk", "text/plain; charset=utf-8", "macro.slk.txt"},
		{"page.shtml", "text/plain", "page.shtml.txt"},
		{"evil.library-ms", "text/plain", "evil.library-ms.txt"},
		{"noext", "text/plain", "noext.txt"},
		{"trailing.txt. ", "text/plain", "trailing.txt.txt"},
		{"", "text/plain", "attachment.txt"},
		{"...", "application/pdf", "attachment.pdf"},
		{". .", "text/plain", "attachment.txt"},
		{"photo.png", "image/jpeg", "photo.png.jpg"},
		{"photo.JPEG", "image/jpeg", "photo.JPEG"},
		{"report.docm", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "report.docm.docx"},
		{"fwd", "message/rfc822", "fwd.eml"},
		{"odd.xyz", "application/x-unknown", "odd.xyz.bin"},
		{`..\..\x.txt`, "text/plain", "x.txt"},
	}
	for _, tt := range tests {
		if got := deliveredName(tt.proposed, tt.ctype); got != tt.want {
			t.Errorf("deliveredName(%q, %q) = %q; want %q", tt.proposed, tt.ctype, got, tt.want)
		}
	}
}

// TestRenamedTextSaysSo: a text file kept under another extension is
// delivered as .txt, and the decision records the name and why.
func TestRenamedTextSaysSo(t *testing.T) {
	res, err := testRebuilder().Rebuild(testEnvelope, strings.NewReader(withAttachment("application/octet-stream", "query.iqy", []byte("WEB\r\n1\r\nplain words\r\n"))))
	if err != nil {
		t.Fatal(err)
	}
	files := attachmentsOf(t, res.Message)
	if _, ok := files["query.iqy.txt"]; !ok || len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	if d := res.Decisions[1]; d.Delivered != "query.iqy.txt" {
		t.Errorf("decision %+v", d)
	}
	out, _ := parseOutput(res.Message)
	if !strings.Contains(out.text, "添付名: query.iqy.txt（ファイルの種類は名前ではなく内容から判定し") || !strings.Contains(out.text, "not for the name it came with") {
		t.Errorf("notice does not say the file was renamed:\n%s", out.text)
	}
	// Kept under its own name: nothing to say.
	res, _ = testRebuilder().Rebuild(testEnvelope, strings.NewReader(withAttachment("text/plain", "memo.txt", []byte("plain words\r\n"))))
	if out, _ := parseOutput(res.Message); strings.Contains(out.text, "添付名") || res.Decisions[1].Delivered != "memo.txt" {
		t.Errorf("renamed a .txt:\n%s", out.text)
	}
}

// TestMessageInFile: a mail saved as a file is found by its structure,
// whatever its name and first field, and rebuilt like a forwarded one.
func TestMessageInFile(t *testing.T) {
	inner := "X-Campaign: 7\r\nFrom: bank@example.com\r\nSubject: verify\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n" +
		"--zz\r\nContent-Type: text/html\r\n\r\n<p>本人確認</p><form action=\"https://evil.example/\"><input name=pw></form>\r\n" +
		"--zz\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=run.exe\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--zz--\r\n"
	for _, c := range []struct{ name, ctype, data string }{
		{"saved.eml", "application/octet-stream", inner},
		{"page.mht", "application/octet-stream", "\r\n\r\n" + inner},
		{"mailbox", "application/octet-stream", "From bank@example.com Mon Nov 30 00:00:00 2026\r\n" + inner},
		{"letter", "application/octet-stream", inner},
	} {
		res, err := testRebuilder().Rebuild(testEnvelope, strings.NewReader(withAttachment(c.ctype, c.name, []byte(c.data))))
		if err != nil {
			t.Fatal(err)
		}
		d := res.Decisions[1]
		if d.DetectedType != "message/rfc822" || d.Reason != policy.ReasonDisarmed || d.RuleID != "forwarded-rebuild" {
			t.Errorf("%s: decision %+v", c.name, d)
			continue
		}
		files := attachmentsOf(t, res.Message)
		eml, ok := files[strings.TrimSuffix(c.name, ".eml")+".eml"]
		if !ok || len(files) != 1 {
			t.Errorf("%s: files %v", c.name, files)
			continue
		}
		out, err := parseOutput(eml)
		if err != nil {
			t.Fatalf("%s: rebuilt message does not parse: %v", c.name, err)
		}
		if strings.Join(out.types, ",") != "text/plain" || !strings.Contains(out.text, "本人確認") || strings.Contains(string(eml), "<form") ||
			strings.Contains(string(eml), "TVqQ") {
			t.Errorf("%s: rebuilt:\n%s", c.name, eml)
		}
	}
}

// TestMessageNamedAsText: a mail named as text disagrees with its name, so
// it is removed by the type check, never delivered as text.
func TestMessageNamedAsText(t *testing.T) {
	msg := "X-A: 1\r\nFrom: a@example.com\r\nContent-Type: text/html\r\n\r\n<form>\r\n"
	res, err := testRebuilder().Rebuild(testEnvelope, strings.NewReader(withAttachment("text/plain", "letter.txt", []byte(msg))))
	if err != nil {
		t.Fatal(err)
	}
	if d := res.Decisions[1]; d.Reason != policy.ReasonTypeMismatch || len(attachmentsOf(t, res.Message)) != 0 {
		t.Errorf("letter.txt: %+v", d)
	}
}

// TestRTFAsWordReadsIt: every RTF goes through the RTF rules, found as
// Word finds it ("{\rt"), whatever its name says.
func TestRTFAsWordReadsIt(t *testing.T) {
	tests := []struct {
		name, data string
		reason     policy.Reason
	}{
		{"template.dot", `{\rt{\object\objemb{\*\objdata 0105000002000000}}}`, policy.ReasonDangerousType},
		{"split.doc", "{\\rtf1{\\ob\r\nject\\objemb{\\*\\objdata 01}}}", policy.ReasonDangerousType},
		{"upper.rtf", `{\rtf1{\OBJECT\OBJEMB 01}}`, policy.ReasonDangerousType},
		{"letter.rtf", `{\rtx{\fonttbl{\f0 Arial;}}\f0 Dear staff\par}`, policy.ReasonExtracted},
		{"memo", "\r\n {\\rt1 memo text\\par}", policy.ReasonExtracted},
	}
	for _, tt := range tests {
		res, err := testRebuilder().Rebuild(testEnvelope, strings.NewReader(withAttachment("application/octet-stream", tt.name, []byte(tt.data))))
		if err != nil {
			t.Fatal(err)
		}
		d := res.Decisions[1]
		if d.DetectedType != "text/rtf" || d.Reason != tt.reason {
			t.Errorf("%s: %+v", tt.name, d)
		}
		for name, data := range attachmentsOf(t, res.Message) {
			if !strings.HasSuffix(name, ".txt") || strings.Contains(string(data), `\`) {
				t.Errorf("%s: delivered %s: %q", tt.name, name, data)
			}
		}
	}
}

func TestSafeDir(t *testing.T) {
	for in, want := range map[string]string{
		".":    "",
		"docs": "docs",
		"a/b":  "a/b",
		"x.{20D04FE0-3AEA-1069-A2D8-08002B30309D}": "x.20D04FE0-3AEA-1069-A2D8-08002B30309D",
		"trail. /ok":         "trail/ok",
		"rlo\u202egpj.exe/x": "rlogpj.exe/x",
		"line\u2028break":    "linebreak",
		"...":                "",
	} {
		if got := safeDir(in); got != want {
			t.Errorf("safeDir(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTextIntoBodyIsDefanged: text extracted into the body follows the
// body's link mode, the filename in its heading too.
func TestTextIntoBodyIsDefanged(t *testing.T) {
	pol, err := policy.Parse("into.yaml", []byte(`
rules:
`+bodyRuleYAML+`  - id: rtf-into-body
    clause: "2(13)"
    match: {role: attachment, type: text/rtf}
    action: extract
    options: {into: body}
    reason: {ja: 本文へ, en: into the body}
`), policy.DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	rb := &Rebuilder{Policy: pol, Hostname: "mugai.test", Sanitizers: fastSanitizers()}
	rtf := []byte(`{\rtf1 visit https://evil.example/pay now\par}`)
	res, err := rb.Rebuild(testEnvelope, strings.NewReader(withAttachment("application/rtf", "https://evil.example/a.rtf", rtf)))
	if err != nil {
		t.Fatal(err)
	}
	out, err := parseOutput(res.Message)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.text, "visit") || strings.Contains(out.text, "https://") {
		t.Errorf("body:\n%s", out.text)
	}
	// A file written as text in the document is cut out of the body too.
	uu := []byte("{\\rtf1 invoice\\par begin 644 invoice.exe\\par M35J0``,````$````__\\_``\\par `\\par end\\par thanks\\par}")
	res, err = rb.Rebuild(testEnvelope, strings.NewReader(withAttachment("application/rtf", "a.rtf", uu)))
	if err != nil {
		t.Fatal(err)
	}
	out, _ = parseOutput(res.Message)
	found := false
	for _, d := range res.Decisions {
		found = found || d.Reason == policy.ReasonEmbeddedFile
	}
	if strings.Contains(out.text, "begin 644") || strings.Contains(out.text, "M35J0") || !strings.Contains(out.text, "thanks") || !found {
		t.Errorf("embedded file in the body:\n%s\n%+v", out.text, res.Decisions)
	}
}
