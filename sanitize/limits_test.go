package sanitize

import (
	"fmt"
	"strings"
	"testing"

	"mugai/policy"
	"mugai/sanitize/text"
)

func TestRenderBodyLimit(t *testing.T) {
	long := strings.Repeat("本文の行です。 https://example.com/a.b\n", 20000) // ~900 KB
	tests := []struct {
		name, ctype, body string
		maxText           int
	}{
		{"plain", "text/plain", long, 100 << 10},
		{"html", "text/html", "<p>" + strings.ReplaceAll(long, "\n", "<br>") + "</p>", 100 << 10},
		{"html quote bomb", "text/html", strings.Repeat("<blockquote>", 300) + strings.Repeat("y<br>", 100000), 8 << 20},
		{"enriched", "text/enriched", strings.ReplaceAll(long, "\n", "\n\n"), 100 << 10},
		{"maxText below the floor", "text/plain", strings.Repeat("a\n", 100<<10), 16 << 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := &node{declared: tc.ctype, params: map[string]string{"charset": "utf-8"}, body: []byte(tc.body)}
			r := renderBody(n, policy.LinksDefang, tc.maxText)
			limit := text.Limit(tc.maxText, len(tc.body))
			if len(r.text) > limit {
				t.Errorf("%d bytes, limit %d", len(r.text), limit)
			}
			if r.reason != policy.ReasonBodyLimit || !strings.Contains(r.detail, "text cut at ") {
				t.Fatalf("reason %q, detail %q", r.reason, r.detail)
			}
			if !strings.HasSuffix(r.text, cutMark) {
				t.Errorf("no cut mark at the end: %q", r.text[max(0, len(r.text)-100):])
			}
			var kept int
			fmt.Sscanf(r.detail, detailCut, &kept)
			if kept != len(r.text)-len(cutMark) {
				t.Errorf("detail says %d bytes, %d kept", kept, len(r.text)-len(cutMark))
			}
			if strings.Contains(r.text, "https://") {
				t.Error("a live link in the cut text")
			}
			ja, en := bodyLimitText(r.detail)
			if !strings.Contains(ja, fmt.Sprint(kept)) || !strings.Contains(en, fmt.Sprint(kept)) {
				t.Errorf("notice does not say where: %q %q", ja, en)
			}
		})
	}
	// Under the limit nothing changes.
	n := &node{declared: "text/plain", params: map[string]string{"charset": "utf-8"}, body: []byte("short body")}
	if r := renderBody(n, policy.LinksDefang, 8<<20); r.reason != policy.ReasonBodyText || r.text != "short body" {
		t.Errorf("short body: %q %q", r.reason, r.text)
	}
}

// TestHTMLTooDeepBody: HTML nested past the parser (sanitize/text reads it
// without its layout), as a body: the decision says so, and the notice in
// both languages.
func TestHTMLTooDeepBody(t *testing.T) {
	deep := func(n int, inner string) string {
		return "<html><head><title>T</title><style>p{color:red}</style></head><body>" +
			strings.Repeat("<div>", n) + inner + strings.Repeat("</div>", n) + "</body></html>"
	}
	inner := `<p>最初の段落 first paragraph</p><script>evil()</script><div style="display:none">hidden words</div>` +
		`<p>Click <a href="https://evil.example/login">https://bank.example.jp/</a> and <a href="file://unc.example/s">this</a></p>` +
		`<ul><li>one</li><li>two</li></ul><img alt="ロゴ"><pre>  kept   spaces</pre>最後 last`
	for _, n := range []int{600, 5000} {
		doc := deep(n, inner)
		body := renderBody(&node{declared: "text/html", params: map[string]string{"charset": "utf-8"}, body: []byte(doc)}, policy.LinksDefang, 8<<20)
		if body.reason != policy.ReasonBodyLimit || !strings.Contains(body.detail, detailTooDeep) {
			t.Errorf("%d: reason %q, detail %q", n, body.reason, body.detail)
		}
		var b strings.Builder
		writeItem(&b, noticeItem{decision: policy.Decision{Action: policy.ActionTextify, Reason: body.reason, Detail: body.detail, DeclaredType: "text/html"}})
		if s := b.String(); !strings.Contains(s, "入れ子が深すぎる") || !strings.Contains(s, "nested too deeply") {
			t.Errorf("notice: %s", s)
		}
	}
}

// TestBodyTextDefault: the text layer's default limit is the rebuild's.
func TestBodyTextDefault(t *testing.T) {
	if DefaultLimits.MaxBodyText != text.DefaultMaxText {
		t.Errorf("DefaultLimits.MaxBodyText %d, text.DefaultMaxText %d", DefaultLimits.MaxBodyText, text.DefaultMaxText)
	}
}

func TestHTMLTooDeepEndToEnd(t *testing.T) {
	doc := strings.Repeat("<div>", 700) + "<p>大事なお知らせ important notice</p>" + strings.Repeat("</div>", 700)
	msg := "From: a@example.org\r\nTo: b@city.example.lg.jp\r\nSubject: deep\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + doc + "\r\n"
	res, err := testRebuilder().Rebuild(testEnvelope, strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	p, err := parseOutput(res.Message)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"大事なお知らせ important notice", "入れ子が深すぎる", "nested too deeply"} {
		if !strings.Contains(p.text, want) {
			t.Errorf("lacks %q in\n%s", want, p.text)
		}
	}
	found := false
	for _, d := range res.Decisions {
		found = found || d.Reason == policy.ReasonBodyLimit
	}
	if !found {
		t.Errorf("no %s decision", policy.ReasonBodyLimit)
	}
}
