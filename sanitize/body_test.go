package sanitize

import (
	"bytes"
	"strings"
	"testing"

	"mugai/policy"
	"mugai/sanitize/text"
)

func TestBodyChoice(t *testing.T) {
	alt := func(plain string) string {
		return crlf("From: a@example.jp\nContent-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\n\n" + plain +
			"\n--b\nContent-Type: text/html; charset=utf-8\n\n<p>The full newsletter text with many words in it, far longer than any stub line could be.</p>\n--b--\n")
	}
	tests := []struct {
		name, msg, prefer, want string
	}{
		{"plain preferred", alt("Plain version of the newsletter."), "plain", "Plain version"},
		{"empty plain", alt("  "), "plain", "The full newsletter"},
		{"stub plain", alt("このメールはHTML形式です。HTML対応のメールソフトでご覧ください。"), "plain", "The full newsletter"},
		{"prefer html", alt("Plain version of the newsletter."), "html", "The full newsletter"},
	}
	for _, tc := range tests {
		p := policy.Default()
		p.Body.Prefer = tc.prefer
		res, err := (&Rebuilder{Policy: p}).Rebuild(testEnvelope, strings.NewReader(tc.msg))
		if err != nil {
			t.Fatal(err)
		}
		out, err := parseOutput(res.Message)
		if err != nil || !strings.Contains(out.text, tc.want) {
			t.Errorf("%s: body lacks %q (%v):\n%s", tc.name, tc.want, err, out.text)
		}
	}
}

// TestOutputISO2022JP: the legacy output charset, and the fallback to UTF-8
// when the text does not fit.
func TestOutputISO2022JP(t *testing.T) {
	p := policy.Default()
	p.Body.Charset = policy.CharsetISO2022JP
	rb := &Rebuilder{Policy: p}
	msg := crlf("From: =?UTF-8?B?5bGx55Sw?= <y@example.jp>\nSubject: " + bEncode("会議のお知らせ（ｶﾀｶﾅ）") + "\nContent-Type: text/plain; charset=utf-8\n\n会議は①番会議室、ｶﾀｶﾅは全角に。\n")
	res, err := rb.Rebuild(testEnvelope, strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(res.Message, []byte("Content-Type: text/plain; charset=ISO-2022-JP")) || !bytes.Contains(res.Message, []byte("Subject: =?ISO-2022-JP?B?")) {
		t.Fatalf("not ISO-2022-JP:\n%s", res.Message)
	}
	for _, b := range res.Message {
		if b >= 0x80 {
			t.Fatal("8-bit byte in an ISO-2022-JP message")
		}
	}
	body := res.Message[bytes.Index(res.Message, []byte("\r\n\r\n"))+4:]
	decoded, _, _ := text.Decode(body, "iso-2022-jp")
	if !strings.Contains(decoded, "会議は①番会議室、カタカナは全角に。") || !strings.Contains(decoded, "無害化処理のお知らせ") {
		t.Errorf("decoded body:\n%s", decoded)
	}
	if subj := text.DecodeHeader(headerValue(res.Message, "Subject")); subj != "会議のお知らせ（カタカナ）" {
		t.Errorf("subject %q", subj)
	}

	emoji := crlf("From: y@example.jp\nSubject: hi\nContent-Type: text/plain; charset=utf-8\n\nお祝い🎉\n")
	res, _ = rb.Rebuild(testEnvelope, strings.NewReader(emoji))
	if out, err := parseOutput(res.Message); err != nil || !strings.Contains(out.text, "お祝い🎉") {
		t.Errorf("fallback to UTF-8 failed: %v\n%s", err, res.Message)
	}
}

func headerValue(msg []byte, key string) string {
	head := string(msg[:bytes.Index(msg, []byte("\r\n\r\n"))])
	head = strings.ReplaceAll(head, "\r\n ", " ")
	for _, l := range strings.Split(head, "\r\n") {
		if k, v, ok := strings.Cut(l, ": "); ok && strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

// TestKeptAttachmentNames: a kept file is re-attached with an RFC 2231
// UTF-8 filename and an RFC 2047 name, both decoding to the original name.
func TestKeptAttachmentNames(t *testing.T) {
	p, err := policy.Parse("keep.yaml", []byte(`
rules:
  - id: keep-text
    clause: "6(6)"
    match: {role: attachment, type: text/plain, extension: txt}
    action: keep
    reason: {ja: "テキストは添付します。", en: "Text files are attached."}
  - id: body
    clause: "2(13)"
    match: {role: body}
    action: textify
    reason: {ja: "本文", en: "body"}
`), policy.DefaultClauses())
	if err != nil {
		t.Fatal(err)
	}
	msg := crlf("From: a@example.jp\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee file\n--b\n" +
		"Content-Type: text/plain; charset=utf-8\nContent-Disposition: attachment; filename*=UTF-8''%E8%AD%B0%E4%BA%8B%E9%8C%B2.txt\n\n議事録の本文\n--b--\n")
	res, err := (&Rebuilder{Policy: p}).Rebuild(testEnvelope, strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	out, err := parseOutput(res.Message)
	if err != nil || strings.Join(out.types, ",") != "multipart/mixed,text/plain,text/plain" {
		t.Fatalf("parts %v, %v\n%s", out.types, err, res.Message)
	}
	for _, want := range []string{`filename*=utf-8''%E8%AD%B0%E4%BA%8B%E9%8C%B2.txt`, `name="=?UTF-8?B?6K2w5LqL6YyyLnR4dA==?="`} {
		if !bytes.Contains(res.Message, []byte(want)) {
			t.Errorf("output lacks %s:\n%s", want, res.Message)
		}
	}
	if res.Decisions[1].Action != policy.ActionKeep || res.Decisions[1].Filename != "議事録.txt" {
		t.Errorf("decision %+v", res.Decisions[1])
	}
}
