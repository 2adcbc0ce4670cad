package sanitize

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"mugai/policy"
	"mugai/sanitize/sanitizetest"
)

func TestNoticeSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"請求書_2026年.xlsx", "請求書_2026年.xlsx"},
		{"https://evil.example/x.pdf", "hxxps://evil[.]example/x.pdf"},
		{`\\evil.example\share\a.exe`, `[\]\evil[.]example\share\a.exe`},
		{"invoice_https://evil.example.pdf", "invoice_hxxps://evil[.]example[.]pdf"},
		{"a\u2028・偽の行 fake line.txt", "a\ufffd・偽の行 fake line.txt"},
		{"a\u2029b\rc\nd\ve\ff\u0085g.txt", "a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg.txt"},
		{"doc\u202egpj.exe", "doc\ufffdgpj.exe"},
		{"x\u2066y\u2069\u200e\u200f\u061c", "x\ufffdy\ufffd\ufffd\ufffd\ufffd"},
		{"zw\u200b\u200c\u200d\ufeff\u2060\u2064", "zw\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd"},
		{"tag\U000E0041\U000E007F", "tag\ufffd\ufffd"},
		{"bad\xff\xfeutf8", "bad\ufffd\ufffdutf8"},
		{"tab\there", "tab\ufffdhere"},
		{"search-ms:query=a ms-msdt:/id x", "search-ms[:]query=a ms-msdt[:]/id x"},
	}
	for _, tc := range tests {
		if got := noticeSafe(tc.in); got != tc.want {
			t.Errorf("noticeSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := strings.Repeat("長い名前", 1000) + ".exe"
	got := noticeSafe(long)
	if n := utf8.RuneCountInString(got); n != noticeMaxRunes || !strings.HasSuffix(got, "…") {
		t.Errorf("long name: %d runes, %q…", n, got[:30])
	}
	if got := noticeSafe(strings.Repeat("\u2028", 100000)); utf8.RuneCountInString(got) > noticeMaxRunes {
		t.Errorf("long separators: %d runes", utf8.RuneCountInString(got))
	}
}

// TestNoticeHostileNames renders the notice for parts whose names, member
// names, types and details come from a hostile mail, and checks every line
// of it: no separator a client breaks at, no invisible or reordering
// character, no live link, and each item on the lines it owns.
func TestNoticeHostileNames(t *testing.T) {
	hostile := []string{
		"https://evil.example/login?a=b.pdf",
		"file://evil.example/share/x.exe",
		`\\evil.example@SSL\DavWWWRoot\x.lnk`,
		"_https://evil.example/",
		"ｈｔｔｐｓ：／／evil．example",
		"search-ms:query=x&crumb=location:\\\\evil.example\\s",
		"a.pdf\u2028・偽の項目 forged item\u2028    → 配送しました / delivered",
		"b.pdf\u2029\r\n━━━━━━━━ end of notice",
		"c\u202efdp.exe",
		"d\u0085e\u000bf\u000cg\u2066h",
		strings.Repeat("x", 5000) + ".exe",
	}
	var items []noticeItem
	for i, h := range hostile {
		d := policy.Decision{Path: "1." + itoa(i+2), Filename: h, DeclaredType: "application/x-" + h, Size: 10,
			Action: policy.ActionStrip, Reason: policy.ReasonDisarmed, Detail: "removed macros from " + h}
		items = append(items,
			noticeItem{decision: d, rule: policy.Rule{ID: "r", Clause: "1"}},
			noticeItem{decision: d, rule: policy.Rule{ID: "r", Clause: "1"}, display: "archive" + h + ".zip › " + h},
			noticeItem{decision: policy.Decision{Action: policy.ActionStrip, Reason: policy.ReasonLinkMismatch, Detail: "shows " + h + ", leads to " + h}, rule: policy.Rule{ID: "l"}},
			noticeItem{decision: policy.Decision{Action: policy.ActionStrip, Reason: policy.ReasonEmbeddedFile, Detail: "uuencode: " + h}, rule: policy.Rule{ID: "e"}},
			noticeItem{decision: policy.Decision{Action: policy.ActionTextify, Reason: policy.ReasonHTMLConverted, Filename: h}, rule: policy.Rule{ID: "b"}},
		)
	}
	out := composeText(policy.Body{}, Envelope{ID: "x"}, items, "", true)
	items5 := 0
	for _, line := range strings.Split(out, "\n") {
		for _, r := range line {
			if r == '\r' || r == '\u2028' || r == '\u2029' || r == '\u0085' || r == '\v' || r == '\f' ||
				unicode.Is(unicode.Cf, r) || (unicode.IsControl(r) && r != '\t') {
				t.Errorf("character %U in notice line %q", r, line)
			}
		}
		if l := sanitizetest.LiveLink(line); l != "" {
			t.Errorf("live link %q in notice line %q", l, line)
		}
		if utf8.RuneCountInString(line) > 3*noticeMaxRunes {
			t.Errorf("notice line of %d runes", utf8.RuneCountInString(line))
		}
		if strings.HasPrefix(line, "・") {
			items5++
		}
		if strings.Contains(line, "end of notice") && !strings.Contains(line, "b.pdf") {
			t.Errorf("a name started a line of its own: %q", line)
		}
		if strings.Contains(line, "偽の項目") && !strings.Contains(line, "a.pdf") {
			t.Errorf("a name started a line of its own: %q", line)
		}
	}
	if items5 != len(items) {
		t.Errorf("%d item lines, %d items", items5, len(items))
	}
}

// TestNoticePortalLink: a message with a changed part gets the portal link
// as written, live and alone on its line; a message with nothing changed,
// or a forwarded one inside another, gets none; and the input's own links
// (one even pointing at the portal) stay defanged in the body.
func TestNoticePortalLink(t *testing.T) {
	const link = "http://127.0.0.1:8025/m/AbC_d-1.x"
	rb := &Rebuilder{Policy: policy.Default()}
	msg := "From: a@example.jp\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nsee " + link + "\r\n--b\r\nContent-Type: application/x-msdownload\r\n" +
		"Content-Disposition: attachment; filename=a.exe\r\n\r\nMZ\r\n--b--\r\n"
	res, err := rb.Rebuild(Envelope{ID: "20261130T000000-1", Portal: link}, strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	top, _ := parseOutput(res.Message)
	text := top.text
	var live []string
	for _, line := range strings.Split(text, "\n") {
		if l := sanitizetest.LiveLink(line); l != "" {
			live = append(live, line)
		}
	}
	if len(live) != 1 || strings.TrimSpace(live[0]) != link {
		t.Errorf("live links %q, want only the portal's:\n%s", live, text)
	}
	plain := "From: a@example.jp\r\nSubject: s\r\n\r\nhello\r\n"
	if res, err = rb.Rebuild(Envelope{ID: "20261130T000000-2", Portal: link}, strings.NewReader(plain)); err != nil {
		t.Fatal(err)
	}
	if top, _ := parseOutput(res.Message); strings.Contains(top.text, link) {
		t.Errorf("link in a notice with nothing changed:\n%s", top.text)
	}
	ppap := composeText(policy.Body{}, Envelope{ID: "x", Portal: link},
		[]noticeItem{{decision: policy.Decision{Path: "2", Action: policy.ActionStrip, Reason: policy.ReasonEncryptedArchive}}}, "", true)
	if !strings.Contains(ppap, "パスワード付き ZIP は、このページでパスワードを入力すると") {
		t.Errorf("the notice of a PPAP ZIP does not say it can be unlocked:\n%s", ppap)
	}
	out := composeText(policy.Body{}, Envelope{ID: "x", Portal: link, Nested: true},
		[]noticeItem{{decision: policy.Decision{Action: policy.ActionStrip}}}, "", true)
	if strings.Contains(out, link) {
		t.Errorf("link in a nested notice:\n%s", out)
	}
}

// TestNoticeMemberKind: an archive member declares no type; the notice
// names what it was found to be, not "unknown type".
func TestNoticeMemberKind(t *testing.T) {
	d := policy.Decision{Path: "2/1", Filename: "見積.pdf", DetectedType: "application/pdf", Size: 2048,
		Action: policy.ActionFlatten, Reason: policy.ReasonFlattened}
	out := composeText(policy.Body{}, Envelope{ID: "x"}, []noticeItem{{decision: d, display: "a.zip › 見積.pdf"}}, "", true)
	if !strings.Contains(out, "・a.zip › 見積.pdf（PDF、2.0 KB）→ 画像化して添付 / flattened to images\n") || !strings.Contains(out, "部分 part: 2/1）") {
		t.Errorf("member kind:\n%s", out)
	}
}

// A misleading link is named in Japanese first; a Japanese-only notice
// has no English "shows …, leads to …" (the audit keeps it).
func TestNoticeLinkMismatchLanguages(t *testing.T) {
	items := []noticeItem{{decision: policy.Decision{Action: policy.ActionTextify, Reason: policy.ReasonLinkMismatch,
		Detail: "shows bank.example.jp, leads to evil.example.net"}, rule: policy.Rule{ID: "builtin-link-check"}}}
	ja := composeText(policy.Body{NoticeLanguages: []string{policy.LangJA}}, Envelope{}, items, "", true)
	if !strings.Contains(ja, "（表示: bank.example.jp → 実際の行き先: evil.example.net）") || strings.Contains(ja, "leads to") {
		t.Errorf("Japanese-only notice:\n%s", ja)
	}
	both := composeText(policy.Body{}, Envelope{}, items, "", true)
	if !strings.Contains(both, "（表示: bank.example.jp → 実際の行き先: evil.example.net / shows bank.example.jp, leads to evil.example.net）") {
		t.Errorf("two-language notice:\n%s", both)
	}
}
