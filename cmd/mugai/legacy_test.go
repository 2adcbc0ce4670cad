package main

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
	"mugai/sanitize/sanitizetest"
)

// legacyPolicy is the default policy whose office-extract rule also
// takes Word and PowerPoint 97-2003 files (the default's own rule may
// already name them).
func legacyPolicy(t *testing.T) *policy.Policy {
	t.Helper()
	y := string(policy.DefaultYAML())
	if !strings.Contains(y, "- "+detect.TypeDOC+"\n") {
		old := "        - application/rtf\n    action: extract"
		if !strings.Contains(y, old) {
			t.Fatal("the default policy's office-extract rule has changed shape")
		}
		y = strings.Replace(y, old, "        - application/rtf\n        - "+detect.TypeDOC+"\n        - "+detect.TypePPT+"\n    action: extract", 1)
	}
	p, err := policy.Parse("legacy.yaml", []byte(y), policy.DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func attach(name, ctype string, data []byte) string {
	return "--b\r\nContent-Type: " + ctype + "\r\nContent-Disposition: attachment; filename=\"" + name + "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString(data) + "\r\n"
}

// TestLegacyOfficeExtract: a mail with a .doc, a .ppt and a
// password-protected .doc comes out with the text of the first two as
// .txt files and the third removed as encrypted.
func TestLegacyOfficeExtract(t *testing.T) {
	docData, err := os.ReadFile("../../sanitize/legacy/testdata/sample.doc")
	if err != nil {
		t.Fatal(err)
	}
	pptData, err := os.ReadFile("../../sanitize/legacy/testdata/sample.ppt")
	if err != nil {
		t.Fatal(err)
	}
	// The same document with the FIB's fEncrypted flag set.
	locked := bytes.Clone(docData)
	i := bytes.Index(locked, []byte{0xEC, 0xA5}) // wIdent, at the start of the WordDocument stream
	if i < 0 || i%512 != 0 {
		t.Fatal("no FIB in sample.doc")
	}
	locked[i+11] |= 0x01
	msg := "From: a@example.jp\r\nTo: b@example.lg.jp\r\nSubject: docs\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n資料を送ります。\r\n" +
		attach("会議.doc", "application/msword", docData) +
		attach("説明会.ppt", "application/vnd.ms-powerpoint", pptData) +
		attach("秘密.doc", "application/msword", locked) + "--b--\r\n"
	rb := &sanitize.Rebuilder{Policy: legacyPolicy(t), Sanitizers: sanitizers(t.TempDir())}
	res, err := rb.Rebuild(sanitize.Envelope{Received: time.Now()}, strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	files, err := sanitizetest.Attachments(res.Message)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(files["会議.txt"]); !strings.Contains(got, "会議のお知らせ\r\n") || !strings.Contains(got, "日時\t場所\t担当") || strings.Contains(got, "HYPERLINK") {
		t.Errorf("会議.txt:\n%s", got)
	}
	if got := string(files["説明会.txt"]); !strings.Contains(got, "--- スライド 1 / slide 1 ---\r\n住民説明会の資料\r\n") {
		t.Errorf("説明会.txt:\n%s", got)
	}
	if len(files) != 2 {
		t.Errorf("attachments: %d, want the two .txt", len(files))
	}
	reasons := map[string]policy.Reason{}
	for _, d := range res.Decisions {
		reasons[d.Filename] = d.Reason
		if d.Filename == "会議.doc" && !strings.Contains(d.Detail, "only the text of the Word document") {
			t.Errorf("detail %q", d.Detail)
		}
	}
	if reasons["会議.doc"] != policy.ReasonExtracted || reasons["説明会.ppt"] != policy.ReasonExtracted || reasons["秘密.doc"] != policy.ReasonEncrypted {
		t.Errorf("reasons %v", reasons)
	}
}
