package xls_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"os"
	"strings"
	"testing"

	"mugai/policy"
	"mugai/sanitize"
	"mugai/sanitize/detect"
	"mugai/sanitize/format"
	"mugai/sanitize/legacy/xls"
	"mugai/sanitize/sanitizetest"
)

// mailWith is a message with a text body and one attachment.
func mailWith(name, ctype string, data []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: sender@example.jp\r\nTo: staff@city.example.lg.jp\r\nSubject: =?UTF-8?B?%s?=\r\n",
		base64.StdEncoding.EncodeToString([]byte("名簿の送付")))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n")
	b.WriteString("--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n名簿を送ります。\r\n")
	fmt.Fprintf(&b, "--b1\r\nContent-Type: %s\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"%s\"\r\n\r\n",
		ctype, mime.BEncoding.Encode("utf-8", name))
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b1--\r\n")
	return []byte(b.String())
}

func rebuilder() *sanitize.Rebuilder {
	reg := &format.Registry{}
	reg.Register(policy.ActionExtract, &xls.Extractor{}, detect.TypeXLS)
	return &sanitize.Rebuilder{Policy: policy.Default(), Hostname: "mugai.test", Sanitizers: reg}
}

// attachmentDecision is the decision about the attachment (part 2).
func attachmentDecision(t *testing.T, res *sanitize.Result) policy.Decision {
	t.Helper()
	for _, d := range res.Decisions {
		if d.Path == "2" {
			return d
		}
	}
	t.Fatalf("no decision for part 2: %+v", res.Decisions)
	return policy.Decision{}
}

// TestRebuild sends a mail with a LibreOffice-written .xls through the
// whole Rebuilder with the default policy: the workbook arrives as its
// text, decided by office-extract.
func TestRebuild(t *testing.T) {
	file, err := os.ReadFile("testdata/city.xls")
	if err != nil {
		t.Fatal(err)
	}
	res, err := rebuilder().Rebuild(sanitize.Envelope{}, bytes.NewReader(mailWith("名簿.xls", "application/vnd.ms-excel", file)))
	if err != nil {
		t.Fatal(err)
	}
	d := attachmentDecision(t, res)
	if d.Action != policy.ActionExtract || d.Reason != policy.ReasonExtracted || d.RuleID != "office-extract" ||
		d.DetectedType != detect.TypeXLS || !strings.Contains(d.Detail, "only the text and values were kept") {
		t.Errorf("decision %+v", d)
	}
	files, err := sanitizetest.Attachments(res.Message)
	if err != nil {
		t.Fatal(err)
	}
	text, ok := files["名簿.txt"]
	if !ok || len(files) != 1 {
		t.Fatalf("attachments %v, want 名簿.txt only", keys(files))
	}
	for _, want := range []string{"## 名簿\r\n", "山田 太郎\t1985/4/1\t2026年11月30日\t令和8年11月30日\t1,500円\t12.5%\t9:30\r\n",
		"## 非表示（非表示シート / hidden sheet）\r\n"} {
		if !bytes.Contains(text, []byte(want)) {
			t.Errorf("the text lacks %q", want)
		}
	}
}

// TestRebuildRefused: what detection flags never reaches the extractor.
func TestRebuildRefused(t *testing.T) {
	tests := []struct {
		name   string
		stream []byte
		reason policy.Reason
	}{
		{"encrypted (FILEPASS)", workbook(rec(0x002F, []byte{1, 0}, make([]byte, 52))), policy.ReasonEncrypted},
		{"Excel 4 macro sheet", workbook(rec(0x0085, []byte{0, 0, 0, 0, 0, 1, 2, 0, 'M', '1'})), policy.ReasonDangerousType},
	}
	for _, tc := range tests {
		file := cfb(t, tc.stream)
		res, err := rebuilder().Rebuild(sanitize.Envelope{}, bytes.NewReader(mailWith("a.xls", "application/vnd.ms-excel", file)))
		if err != nil {
			t.Fatal(err)
		}
		if d := attachmentDecision(t, res); d.Action != policy.ActionStrip || d.Reason != tc.reason {
			t.Errorf("%s: decision %s %s (%s), want strip %s", tc.name, d.Action, d.Reason, d.Detail, tc.reason)
		}
		if files, _ := sanitizetest.Attachments(res.Message); len(files) != 0 {
			t.Errorf("%s: attachments %v", tc.name, keys(files))
		}
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func rec(typ uint16, data ...[]byte) []byte {
	d := bytes.Join(data, nil)
	return append([]byte{byte(typ), byte(typ >> 8), byte(len(d)), byte(len(d) >> 8)}, d...)
}

// workbook is a BIFF8 globals substream holding the records given.
func workbook(recs ...[]byte) []byte {
	bof := rec(0x0809, []byte{0, 6, 5, 0}, make([]byte, 12))
	return bytes.Join(append(append([][]byte{bof}, recs...), rec(0x000A)), nil)
}

// cfb is a compound file with the stream as Workbook (the writer of
// package xls's tests, exported to these in export_test.go).
func cfb(t *testing.T, stream []byte) []byte {
	t.Helper()
	return xls.BuildXLS(t, stream)
}
