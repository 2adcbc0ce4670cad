package sanitize

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

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

// TestConfiguredLimits: the limits that were fixed in code are taken from
// Limits (the gateway's limits: section), and a zero field keeps today's
// default.
func TestConfiguredLimits(t *testing.T) {
	text := func(name string) zipEntry { return zipEntry{name: name, data: []byte("text of " + name + "\n")} }
	forward := func(boundary, msg string) string {
		return crlf("From: b@example.jp\nSubject: fwd\nContent-Type: multipart/mixed; boundary="+boundary+"\n\n--"+boundary+"\nContent-Type: text/plain\n\nsee attached\n--"+boundary+"\n") +
			"Content-Type: message/rfc822\r\n\r\n" + msg + "\r\n--" + boundary + "--\r\n"
	}
	twice := forward("outer", forward("inner", crlf("From: c@example.jp\nSubject: inner\n\ninner text\n")))
	twoZips := crlf("From: a@example.jp\nSubject: att\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody text\n--b\n") +
		"Content-Type: application/zip\r\nContent-Disposition: attachment; filename=\"a.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		string(wrapBase64(makeZip(t, text("a1.txt"), text("a2.txt")))) + "--b\r\n" +
		"Content-Type: application/zip\r\nContent-Disposition: attachment; filename=\"b.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		string(wrapBase64(makeZip(t, text("b1.txt"), text("b2.txt")))) + "--b--\r\n"
	tests := []struct {
		name   string
		lim    Limits
		msg    string
		reason policy.Reason // "": no part removed for a limit
		detail string
	}{
		// Messages inside messages (forward_depth).
		{"forward depth default", Limits{}, twice, "", ""},
		{"forward depth 1", Limits{MaxForwardDepth: 1}, twice, policy.ReasonDepthLimit, "messages nested deeper than 1"},
		// Archives inside archives (archive_depth).
		{"archive depth default", Limits{}, withAttachment("application/zip", "z.zip", makeZip(t, zipEntry{name: "in.zip", data: makeZip(t, text("a.txt"))})), "", ""},
		{"archive depth 1", Limits{MaxArchiveDepth: 1}, withAttachment("application/zip", "z.zip", makeZip(t, zipEntry{name: "in.zip", data: makeZip(t, text("a.txt"))})),
			policy.ReasonDepthLimit, "archive nested deeper than 1"},
		// Archive members of the whole message (archive_members).
		{"members default", Limits{}, twoZips, "", ""},
		{"members 3 across two archives", Limits{MaxArchiveMembers: 3}, twoZips, policy.ReasonSanitizeFailed, "archive: too many members"},
		// Decompressed bytes of one archive (archive_bytes).
		{"archive bytes", Limits{MaxArchiveBytes: 1000}, withAttachment("application/zip", "z.zip", makeZip(t, zipEntry{name: "big.txt", data: bytes.Repeat([]byte("a line of text\n"), 100)})),
			policy.ReasonSanitizeFailed, "archive: decompressed size over the limit"},
	}
	for _, tc := range tests {
		rb := testRebuilder()
		rb.Limits = tc.lim
		res, err := rb.Rebuild(testEnvelope, strings.NewReader(tc.msg))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var hit *policy.Decision
		for i, d := range res.Decisions {
			if d.Reason == policy.ReasonDepthLimit || d.Reason == policy.ReasonSanitizeFailed {
				hit = &res.Decisions[i]
			}
		}
		switch {
		case tc.reason == "" && hit != nil:
			t.Errorf("%s: part %s removed: %s (%s)", tc.name, hit.Path, hit.Reason, hit.Detail)
		case tc.reason != "" && (hit == nil || hit.Reason != tc.reason || !strings.Contains(hit.Detail, tc.detail)):
			t.Errorf("%s: decision %+v, want %s with %q", tc.name, hit, tc.reason, tc.detail)
		}
	}
	if d := DefaultLimits; d.SanitizeTimeout != 60*time.Second || d.MaxForwardDepth != 3 || d.MaxArchiveDepth != 3 ||
		d.MaxArchiveMembers != 5000 || d.MaxArchiveBytes != 256<<20 || d.MaxExpansion != 512<<20 {
		t.Errorf("defaults changed: %+v", d)
	}
}
