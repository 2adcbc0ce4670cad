package sanitize

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"

	"mugai/policy"
)

func TestHTMLToText(t *testing.T) {
	tests := []struct {
		name     string
		html     string
		want     string   // exact output, when given
		contains []string // else these fragments
		absent   []string
		hidden   int
		mismatch int
	}{
		// structure
		{name: "paragraphs and breaks", html: "<p>one<br>two</p><p>three</p>", want: "one\ntwo\n\nthree"},
		{name: "headings and hr", html: "<h1>Title</h1>text<hr>after", want: "Title\n\ntext\n――――――――――――――――――――\nafter"},
		{name: "blockquote", html: "<p>reply</p><blockquote><p>quoted one</p><p>quoted two</p></blockquote>", want: "reply\n\n> quoted one\n>\n> quoted two"},
		{name: "pre kept", html: "<pre>  a   b\n    c</pre>", want: "  a   b\n    c"},
		{name: "whitespace collapsed", html: "<p>  a \n\t b  </p>", want: "a b"},
		{name: "CJK line break joined", html: "<p>会議は\n木曜日です。\nSee\nyou</p>", want: "会議は木曜日です。 See you"},
		{name: "entities", html: "<p>&lt;tag&gt; &amp; &copy; &#x4F1A;&#35696;</p>", want: "<tag> & © 会議"},
		{name: "ruby", html: "<p><ruby>漢字<rp>(</rp><rt>かんじ</rt><rp>)</rp></ruby>です</p>", want: "漢字（かんじ）です"},
		// lists
		{name: "nested lists", html: "<ul><li>one</li><li>two<ol><li>a</li><li>b<ul><li>deep</li></ul></li></ol></li><li>three</li></ul>",
			want: "・one\n・two\n  1. a\n  2. b\n     ・deep\n・three"},
		// tables
		{name: "data table aligned", html: "<table><tr><th>品名</th><th>数量</th></tr><tr><td>りんご</td><td>10</td></tr><tr><td>Banana split</td><td>2</td></tr></table>",
			want: "品名         | 数量\nりんご       | 10\nBanana split | 2"},
		{name: "layout table", html: `<table width="600"><tr><td><table><tr><td><h2>News</h2><p>First story.</p></td></tr></table></td></tr><tr><td><p>Second story.</p></td></tr></table>`,
			want: "News\n\nFirst story.\n\nSecond story.", absent: []string{"|"}},
		{name: "single column table", html: "<table><tr><td>row one</td></tr><tr><td>row two</td></tr></table>", want: "row one\nrow two"},
		// links and images
		{name: "link text and url", html: `<a href="https://example.com/a">our site</a>`, want: "our site <hxxps://example[.]com/a>"},
		{name: "link equal to text shown once", html: `<a href="https://example.com/">https://example.com/</a>`, want: "hxxps://example[.]com/"},
		{name: "dangerous schemes dropped", html: `<a href="javascript:evil()">a</a> <a href="data:text/html,x">b</a> <a href="vbscript:x">c</a>`, want: "a b c"},
		{name: "mailto shown as address", html: `<a href="mailto:info@example.jp?subject=x">問い合わせ</a>`, want: "問い合わせ <info@example.jp>"},
		{name: "image alt", html: `<img src="x.png" alt="ロゴ"><img src="spacer.gif">text`, want: "[画像: ロゴ] text"},
		// dropped content
		{name: "head, scripts, styles, comments", html: "<html><head><title>T</title><style>p{}</style></head><body><script>evil()</script><!-- c --><p>body</p><noscript>ns</noscript></body></html>", want: "body"},
		// hidden text and phishing
		{name: "hidden elements", html: `<p>visible</p><div style="display: none">hidden1</div><span style="font-size:0">hidden2</span><p hidden>hidden3</p><span style="visibility:hidden">hidden4</span>`,
			want: "visible", hidden: 4},
		{name: "zero-width split words", html: "<p>pa\u200bss\u200cword</p>", want: "password", hidden: 2},
		{name: "mismatched link", html: `<a href="https://evil.example.net/login">https://www.bank.example.co.jp/login</a>`,
			contains: []string{"hxxps://www[.]bank[.]example[.]co[.]jp/login <hxxps://evil[.]example[.]net/login>"}, mismatch: 1},
		{name: "subdomain is not a mismatch", html: `<a href="https://mail.example.jp/x">example.jp</a>`, mismatch: 0, contains: []string{"example[.]jp"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := htmlToText([]byte(tc.html), policy.LinksDefang)
			got := transformLinks(r.text, policy.LinksDefang)
			if tc.want != "" && got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			for _, s := range tc.contains {
				if !strings.Contains(got, s) {
					t.Errorf("lacks %q in\n%s", s, got)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(got, s) {
					t.Errorf("contains %q in\n%s", s, got)
				}
			}
			if r.hidden != tc.hidden || len(r.mismatches) != tc.mismatch {
				t.Errorf("hidden %d, mismatches %v; want %d, %d", r.hidden, r.mismatches, tc.hidden, tc.mismatch)
			}
		})
	}
}

func TestLinkModes(t *testing.T) {
	html := `<p>See <a href="https://example.com/x">site</a> or http://plain.example.org/y</p>`
	tests := []struct{ mode, want string }{
		{policy.LinksKeep, "See site <https://example.com/x> or http://plain.example.org/y"},
		{policy.LinksDefang, "See site <hxxps://example[.]com/x> or hxxp://plain[.]example[.]org/y"},
		{policy.LinksRemove, "See site or [リンク削除 link removed]"},
	}
	for _, tc := range tests {
		r := htmlToText([]byte(html), tc.mode)
		if got := transformLinks(r.text, tc.mode); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.mode, got, tc.want)
		}
	}
}

func TestEnrichedAndRTF(t *testing.T) {
	enriched := "<bold>Hello</bold>\nworld\n\nnew <<para>\n<param>ignored</param><nofill>a\nb</nofill>"
	if got := enrichedToText(enriched); got != "Hello world\nnew <para> a\nb" {
		t.Errorf("enriched: %q", got)
	}
	sj := mustEncode(t, japanese.ShiftJIS, "会議")
	var hex strings.Builder
	for _, c := range sj {
		hex.WriteString(`\'` + strings.ToLower(string("0123456789ABCDEF"[c>>4])+string("0123456789ABCDEF"[c&15])))
	}
	rtf := `{\rtf1\ansi\ansicpg932{\fonttbl{\f0\fcharset128 MS Gothic;}{\f1\fcharset0 Arial;}}{\colortbl;\red0\green0\blue0;}` +
		`{\*\generator Msftedit;}\f0 ` + hex.String() + `\par\f1 Hello \u26085?\u26412?\par{\pict\pngblip 89504e47}` +
		`{\field{\*\fldinst HYPERLINK "http://evil.example"}{\fldrslt link}}\tab end}`
	if got := rtfToText([]byte(rtf)); got != "会議\nHello 日本\nlink\tend" {
		t.Errorf("rtf: %q", got)
	}
}

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
	text, _, _ := decodeText(body, "iso-2022-jp")
	if !strings.Contains(text, "会議は①番会議室、カタカナは全角に。") || !strings.Contains(text, "無害化処理のお知らせ") {
		t.Errorf("decoded body:\n%s", text)
	}
	if subj := decodeHeader(headerValue(res.Message, "Subject")); subj != "会議のお知らせ（カタカナ）" {
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

func FuzzHTMLToText(f *testing.F) {
	for _, s := range []string{"<p>a<br>b</p>", "<table><tr><td><ul><li>x</ul></td></tr></table>", "<ruby>a<rt>b</ruby>", `<a href="http://x.example">y.example</a>`, "<pre>\u200b</pre>",
		// links a client may open: every scheme, UNC and network paths, in text and in href
		`<a href="file://h.example/s">x</a> <a href="\\\\h.example\\s">y</a> <a href="//h.example/s">z</a> <a href="search-ms:query=a">w</a>`,
		"_https://e.example ｈｔｔｐｓ：／／e．example ms-msdt:/id x \\\\h\\s smb://h/s www.e.example",
		// nesting: quotes and lists past the prefix cap, and past the parser's depth limit
		strings.Repeat("<blockquote>", 40) + strings.Repeat("x<br>", 50),
		strings.Repeat("<ul><li>a", 30) + "b",
		strings.Repeat("<div>", 520) + `<p>deep <a href="https://e.example/">t</a></p><script>s</script>`,
		strings.Repeat("<span>", 600) + "<head><title>t</title><body>x",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := htmlToText(in, policy.LinksDefang)
		if !utf8.ValidString(r.text) {
			t.Fatalf("invalid UTF-8 output %q", r.text)
		}
		if strings.Contains(r.text, "\n\n\n") {
			t.Fatalf("more than one blank line in a row: %q", r.text)
		}
		if limit := textLimit(0, len(in)); len(r.text) > limit {
			t.Fatalf("%d bytes of text from %d, limit %d", len(r.text), len(in), limit)
		}
		// The text's own ">" characters (outside tags, or written &gt;)
		// may stand at a line start too: only the prefixes are capped.
		literal := max(0, bytes.Count(in, []byte(">"))-bytes.Count(in, []byte("<"))) + bytes.Count(bytes.ToLower(in), []byte("&gt"))
		if got := maxQuoteDepth(r.text); got > maxPrefixNest+1+literal {
			t.Fatalf("%d quote levels (%d literal)", got, literal)
		}
		if l := liveLink(transformLinks(r.text, policy.LinksDefang)); l != "" {
			t.Fatalf("live link %q left in %q", l, r.text)
		}
	})
}

func FuzzDecodeHeader(f *testing.F) {
	for _, s := range []string{"=?ISO-2022-JP?B?GyRCMnE1RBsoQg==?=", "=?utf-8?q?a_b?= =?utf-8?q?c?=", "\x82\xa0", "\"=?UTF-8?B?5Lya?=\" <a@b.jp>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := decodeHeader(in)
		if !utf8.ValidString(out) || strings.ContainsAny(out, "\r\n\x00") {
			t.Fatalf("decodeHeader(%q) = %q", in, out)
		}
		parseAddressList(in)
	})
}

func FuzzParseParams(f *testing.F) {
	for _, s := range []string{`attachment; filename*0*=utf-8''%E4%BC; filename*1*=%9A`, `text/plain; charset="a;b"`, `x; a*=''; b*5=`, `"unterminated`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p := parseParams(in)
		for k, v := range p.m {
			if !utf8.ValidString(v) || strings.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("param %q = %q", k, v)
			}
		}
	})
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
