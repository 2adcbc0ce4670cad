package text

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"

	"mugai/policy"
	"mugai/sanitize/sanitizetest"
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
			r := HTMLToText([]byte(tc.html), policy.LinksDefang)
			got := TransformLinks(r.Text, policy.LinksDefang)
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
			if r.Hidden != tc.hidden || len(r.Mismatches) != tc.mismatch {
				t.Errorf("hidden %d, mismatches %v; want %d, %d", r.Hidden, r.Mismatches, tc.hidden, tc.mismatch)
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
		r := HTMLToText([]byte(html), tc.mode)
		if got := TransformLinks(r.Text, tc.mode); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.mode, got, tc.want)
		}
	}
}

func TestEnrichedAndRTF(t *testing.T) {
	enriched := "<bold>Hello</bold>\nworld\n\nnew <<para>\n<param>ignored</param><nofill>a\nb</nofill>"
	if got := EnrichedToText(enriched); got != "Hello world\nnew <para> a\nb" {
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
	if got := RTFToText([]byte(rtf)); got != "会議\nHello 日本\nlink\tend" {
		t.Errorf("rtf: %q", got)
	}
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
		r := HTMLToText(in, policy.LinksDefang)
		if !utf8.ValidString(r.Text) {
			t.Fatalf("invalid UTF-8 output %q", r.Text)
		}
		if strings.Contains(r.Text, "\n\n\n") {
			t.Fatalf("more than one blank line in a row: %q", r.Text)
		}
		if limit := Limit(0, len(in)); len(r.Text) > limit {
			t.Fatalf("%d bytes of text from %d, limit %d", len(r.Text), len(in), limit)
		}
		// The text's own ">" characters (outside tags, or written &gt;)
		// may stand at a line start too: only the prefixes are capped.
		literal := max(0, bytes.Count(in, []byte(">"))-bytes.Count(in, []byte("<"))) + bytes.Count(bytes.ToLower(in), []byte("&gt"))
		if got := maxQuoteDepth(r.Text); got > maxPrefixNest+1+literal {
			t.Fatalf("%d quote levels (%d literal)", got, literal)
		}
		if l := sanitizetest.LiveLink(TransformLinks(r.Text, policy.LinksDefang)); l != "" {
			t.Fatalf("live link %q left in %q", l, r.Text)
		}
	})
}

// maxQuoteDepth returns the most quote marks ("> ") at the start of any
// line.
func maxQuoteDepth(s string) int {
	most := 0
	for _, l := range strings.Split(s, "\n") {
		n := 0
		for strings.HasPrefix(l, ">") {
			n++
			l = strings.TrimPrefix(strings.TrimPrefix(l, ">"), " ")
		}
		most = max(most, n)
	}
	return most
}

// maxIndent returns the widest run of leading spaces and bullets.
func maxIndent(s string) int {
	most := 0
	for _, l := range strings.Split(s, "\n") {
		most = max(most, len(l)-len(strings.TrimLeft(l, " ・")))
	}
	return most
}

func TestHTMLNestingBombs(t *testing.T) {
	lines := strings.Repeat("x<br>", 20000)
	tests := []struct {
		name string
		doc  string
		word string // text that must survive
	}{
		{"blockquotes then breaks", strings.Repeat("<blockquote>", 200) + "start " + lines, "start"},
		{"blockquotes with text at every level", strings.Repeat("<blockquote>q<br>", 200) + lines, "q"},
		{"nested lists", strings.Repeat("<ul><li>item", 200) + lines, "item"},
		{"ordered lists in lists", strings.Repeat("<ol><ol><li>n", 100) + lines, "n"},
		{"dd in dd", strings.Repeat("<dl><dd>d", 200) + lines, "d"},
		{"ruby in ruby", strings.Repeat("<ruby>r<rt>よみ</rt><b>", 200) + lines, "r"},
		{"links in tables", strings.Repeat(`<table><tr><td>a</td><td><a href="https://x.example/">t`, 60) + lines, "t"},
		{"hr flood", strings.Repeat("<hr>", 40000), "―"},
		{"img alt flood", strings.Repeat(`<img alt="画像の説明">`, 20000), "画像の説明"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			limit := Limit(8<<20, len(tc.doc))
			start := time.Now()
			r := HTMLToTextLimit([]byte(tc.doc), policy.LinksDefang, limit)
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v", d)
			}
			if len(r.Text) > limit {
				t.Errorf("%d bytes of text from %d of HTML, limit %d", len(r.Text), len(tc.doc), limit)
			}
			if got := maxQuoteDepth(r.Text); got > maxPrefixNest {
				t.Errorf("%d quote levels shown, at most %d wanted", got, maxPrefixNest)
			}
			if got := maxIndent(r.Text); got > 4*maxPrefixNest {
				t.Errorf("indent of %d", got)
			}
			if !strings.Contains(r.Text, tc.word) {
				t.Errorf("lost %q", tc.word)
			}
		})
	}
}

func TestHTMLTextLimit(t *testing.T) {
	doc := strings.Repeat("<blockquote>", 30) + strings.Repeat("line of text<br>", 50000)
	for _, limit := range []int{1000, 64 << 10, 300 << 10} {
		r := HTMLToTextLimit([]byte(doc), policy.LinksDefang, limit)
		if len(r.Text) > limit || !r.Cut {
			t.Errorf("limit %d: %d bytes, cut %v", limit, len(r.Text), r.Cut)
		}
		if len(r.Text) < limit/2 {
			t.Errorf("limit %d: only %d bytes kept", limit, len(r.Text))
		}
	}
	if r := HTMLToTextLimit([]byte("<p>short</p>"), policy.LinksDefang, 1000); r.Cut || r.Text != "short" {
		t.Errorf("short text: %q, cut %v", r.Text, r.Cut)
	}
}

func TestHTMLTooDeep(t *testing.T) {
	deep := func(n int, inner string) string {
		return "<html><head><title>T</title><style>p{color:red}</style></head><body>" +
			strings.Repeat("<div>", n) + inner + strings.Repeat("</div>", n) + "</body></html>"
	}
	inner := `<p>最初の段落 first paragraph</p><script>evil()</script><div style="display:none">hidden words</div>` +
		`<p>Click <a href="https://evil.example/login">https://bank.example.jp/</a> and <a href="file://unc.example/s">this</a></p>` +
		`<ul><li>one</li><li>two</li></ul><img alt="ロゴ"><pre>  kept   spaces</pre>最後 last`
	for _, n := range []int{600, 5000} {
		doc := deep(n, inner)
		r := HTMLToText([]byte(doc), policy.LinksDefang)
		got := TransformLinks(r.Text, policy.LinksDefang)
		if !r.TooDeep {
			t.Errorf("%d: not reported too deep", n)
		}
		for _, want := range []string{"最初の段落 first paragraph", "・one", "・two", "[画像: ロゴ]", "  kept   spaces", "最後 last",
			"hxxps://bank[.]example[.]jp/ <hxxps://evil[.]example/login>", "this <file[:]//unc[.]example/s>"} {
			if !strings.Contains(got, want) {
				t.Errorf("%d: lacks %q in\n%s", n, want, got)
			}
		}
		for _, absent := range []string{"evil()", "hidden words", "color:red", "T\n"} {
			if strings.Contains(got, absent) {
				t.Errorf("%d: shows %q in\n%s", n, absent, got)
			}
		}
		if r.Hidden != 1 || len(r.Mismatches) != 1 {
			t.Errorf("%d: hidden %d, mismatches %v", n, r.Hidden, r.Mismatches)
		}
	}
	// A document the parser takes is not affected.
	if r := HTMLToText([]byte(deep(100, inner)), policy.LinksDefang); r.TooDeep || !strings.Contains(r.Text, "最後 last") {
		t.Errorf("100 deep: tooDeep %v, %q", r.TooDeep, r.Text)
	}
	// An unclosed head ends at the body.
	if r := HTMLTokensToText([]byte("<head><title>x</title><body><p>kept</p>"), policy.LinksDefang, 1000); r.Text != "kept" {
		t.Errorf("unclosed head: %q", r.Text)
	}
}
