package sanitize

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"image"
	"image/png"
	"regexp"
	"slices"
	"strings"
	"testing"

	"mugai/policy"
	"mugai/sanitize/sanitizetest"
)

// actionsGrammar is what a mail rule may rely on: tokens of lower-case
// words, a word "=" a count or a word, separated by "; ".
var actionsGrammar = regexp.MustCompile(`^[a-z][a-z-]*(?:=(?:[0-9]+|[a-z][a-z-]*))?(?:; [a-z][a-z-]*(?:=(?:[0-9]+|[a-z][a-z-]*))?)*$`)

// actionsVocabulary checks every token of v against the documented
// vocabulary.
func actionsVocabulary(t *testing.T, v string) {
	t.Helper()
	if !actionsGrammar.MatchString(v) {
		t.Fatalf("value %q does not match the grammar", v)
	}
	for _, tok := range strings.Split(v, "; ") {
		name, val, counted := strings.Cut(tok, "=")
		switch {
		case !counted && slices.Contains([]string{"textify", "no-body", "body-cut", "links-defanged", "links-removed", "unchanged"}, tok):
		case counted && name == "warning" && slices.Contains(actionWarnings, policy.Reason(val)):
		case counted && slices.Contains(actionCounts, policy.Action(name)) && strings.Trim(val, "0123456789") == "" && val[0] != '0':
		default:
			t.Fatalf("token %q of %q is not in the vocabulary", tok, v)
		}
	}
}

// actionsHeader returns the X-Mugai-Actions field of a rebuilt message as
// written (folded) and unfolded, as header_checks and Sieve see it.
func actionsHeader(t *testing.T, msg []byte) (raw, unfolded string) {
	t.Helper()
	head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, actionsField+":") {
			continue
		}
		raw = l
		for _, c := range lines[i+1:] {
			if !strings.HasPrefix(c, " ") && !strings.HasPrefix(c, "\t") {
				break
			}
			raw += "\r\n" + c
		}
		if strings.Count(string(head), actionsField+":") != 1 {
			t.Fatalf("more than one %s field", actionsField)
		}
		return raw, strings.ReplaceAll(raw, "\r\n", "")
	}
	t.Fatalf("no %s field in\n%s", actionsField, head)
	return "", ""
}

// part is one MIME part of a test message.
type actionsPart struct{ ctype, name, body string }

// actionsMessage writes a message with a text body (if body is not "") and
// parts, each in base64.
func actionsMessage(body string, parts ...actionsPart) string {
	var b strings.Builder
	b.WriteString("From: Sender <sender@example.org>\r\nTo: rcpt@city.example.lg.jp\r\nSubject: test\r\nMIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: multipart/mixed; boundary=BOUNDARY\r\n\r\n")
	if body != "" {
		b.WriteString("--BOUNDARY\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
	}
	for _, p := range parts {
		b.WriteString("--BOUNDARY\r\nContent-Type: " + p.ctype + "\r\nContent-Transfer-Encoding: base64\r\n")
		if p.name != "" {
			b.WriteString("Content-Disposition: attachment; filename=\"" + p.name + "\"\r\n")
		}
		b.WriteString("\r\n" + base64.StdEncoding.EncodeToString([]byte(p.body)) + "\r\n")
	}
	b.WriteString("--BOUNDARY--\r\n")
	return b.String()
}

func actionsPNG(t *testing.T) string {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func actionsZip(t *testing.T, files map[string]string) string {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range []string{"data.csv", "setup.exe"} {
		if body, ok := files[name]; ok {
			w, err := zw.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = w.Write([]byte(body))
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

const actionsExe = "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00PE\x00\x00payload"

// TestActionsMessages rebuilds messages of several shapes and checks the
// X-Mugai-Actions field of each.
func TestActionsMessages(t *testing.T) {
	forwarded := actionsMessage("inner text", actionsPart{"application/octet-stream", "tool.exe", actionsExe})
	html := "From: news@example.com\r\nSubject: news\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		`<p>Spring sale, see <a href="https://shop.example.com/">the shop</a></p>` + "\r\n"
	tests := []struct {
		name  string
		msg   string
		links string // the policy's body link mode, when not the default
		want  string
		inner string // the field of the forwarded message attached, if any
	}{
		// bodies
		{name: "plain text", msg: "From: a@example.jp\r\nSubject: s\r\n\r\nhello\r\n", want: "unchanged"},
		{name: "plain text with a link", msg: "From: a@example.jp\r\nSubject: s\r\n\r\nsee https://example.com/x\r\n", want: "links-defanged"},
		{name: "html", msg: html, want: "textify; links-defanged"},
		{name: "html, links removed", msg: html + "<p>or https://shop.example.com/</p>\r\n", links: policy.LinksRemove, want: "textify; links-removed"},
		// remove mode drops an HTML link's address without a placeholder: not seen
		{name: "html, link address dropped", msg: html, links: policy.LinksRemove, want: "textify"},
		{name: "no body", msg: actionsMessage("", actionsPart{"application/octet-stream", "setup.exe", actionsExe}), want: "no-body; strip=1; warning=dangerous-type"},
		// attachments
		{name: "csv and png", msg: actionsMessage("see files", actionsPart{"text/csv", "a.csv", "a,b\r\n1,2\r\n"}, actionsPart{"image/png", "p.png", actionsPNG(t)}),
			want: "disarm=2"},
		{name: "zip with a csv and an exe", msg: actionsMessage("see zip", actionsPart{"application/zip", "files.zip", actionsZip(t, map[string]string{"data.csv": "a,b\r\n", "setup.exe": actionsExe})}),
			want: "disarm=2; strip=1; warning=dangerous-type"},
		{name: "forwarded message", msg: actionsMessage("fwd", actionsPart{"message/rfc822", "", forwarded}), want: "disarm=1",
			inner: "strip=1; warning=dangerous-type"},
		// warnings
		{name: "hidden text and a misleading link", msg: "From: a@example.jp\r\nSubject: s\r\nContent-Type: text/html\r\n\r\n" +
			`<p>Hello <a href="https://evil.example.net/">https://bank.example.jp/</a></p><div style="display:none">secret</div>` + "\r\n",
			want: "textify; links-defanged; warning=hidden-text; warning=link-mismatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rb := &Rebuilder{Policy: policy.Default(), Hostname: "mugai.test", Sanitizers: fastSanitizers()}
			if tc.links != "" {
				p := *rb.Policy
				p.Body.Links = tc.links
				rb.Policy = &p
			}
			res, err := rb.Rebuild(testEnvelope, strings.NewReader(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			raw, unfolded := actionsHeader(t, res.Message)
			if got := strings.TrimPrefix(unfolded, actionsField+": "); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			for _, l := range strings.Split(raw, "\r\n") {
				if len(l) > 78 {
					t.Errorf("line of %d characters: %q", len(l), l)
				}
			}
			actionsVocabulary(t, strings.TrimPrefix(unfolded, actionsField+": "))
			if tc.inner == "" {
				return
			}
			files, err := sanitizetest.Attachments(res.Message)
			if err != nil || len(files) != 1 {
				t.Fatalf("attachments %d, %v", len(files), err)
			}
			for _, eml := range files {
				if _, got := actionsHeader(t, eml); got != actionsField+": "+tc.inner {
					t.Errorf("forwarded message: got %q, want %q", got, tc.inner)
				}
			}
		})
	}
}

// TestActionsValue covers what messages of the tests above cannot reach
// cheaply: every action counted, the fixed order, findings and unused
// alternatives not counted, a cut body, folding of a long value.
func TestActionsValue(t *testing.T) {
	item := func(a policy.Action, r policy.Reason, declared string) noticeItem {
		return noticeItem{decision: policy.Decision{Action: a, Reason: r, DeclaredType: declared}}
	}
	tests := []struct {
		name    string
		items   []noticeItem
		hasBody bool
		body    string
		want    string
	}{
		{name: "nothing", hasBody: true, want: "unchanged"},
		{name: "every action, out of order", hasBody: true, items: []noticeItem{
			item(policy.ActionStrip, policy.ReasonAttachment, "application/x-msdownload"),
			item(policy.ActionExtract, policy.ReasonExtracted, "application/msword"),
			item(policy.ActionFlatten, policy.ReasonFlattened, "application/pdf"),
			item(policy.ActionFlatten, policy.ReasonFlattened, "application/pdf"),
			item(policy.ActionDisarm, policy.ReasonDisarmed, "image/jpeg"),
			item(policy.ActionKeep, policy.ReasonAttachment, "text/csv"),
			item(policy.ActionStrip, policy.ReasonAttachment, "application/x-msdownload"),
		}, want: "keep=1; disarm=1; flatten=2; extract=1; strip=2"},
		{name: "findings and alternatives are not parts", hasBody: true, items: []noticeItem{
			item(policy.ActionTextify, policy.ReasonHTMLConverted, "text/html"),
			item(policy.ActionStrip, policy.ReasonAlternativeUnused, "text/plain"),
			item(policy.ActionTextify, policy.ReasonLinkMismatch, "text/html"),
			item(policy.ActionTextify, policy.ReasonHiddenText, "text/html"),
		}, want: "textify; warning=hidden-text; warning=link-mismatch"},
		{name: "an embedded file is a part removed", hasBody: true, items: []noticeItem{
			item(policy.ActionStrip, policy.ReasonEmbeddedFile, "text/plain"),
		}, want: "strip=1; warning=embedded-file"},
		{name: "a cut text body", hasBody: true, items: []noticeItem{item(policy.ActionTextify, policy.ReasonBodyLimit, "text/plain")}, want: "body-cut"},
		{name: "a cut html body", hasBody: true, items: []noticeItem{item(policy.ActionTextify, policy.ReasonBodyLimit, "text/html")}, want: "textify; body-cut"},
		{name: "tnef body", hasBody: true, items: []noticeItem{item(policy.ActionTextify, policy.ReasonTNEFBody, "application/ms-tnef")}, want: "textify"},
		{name: "a charset guessed is not a change", hasBody: true, items: []noticeItem{item(policy.ActionTextify, policy.ReasonCharsetGuessed, "text/plain")}, want: "unchanged"},
		{name: "encrypted zip", hasBody: true, items: []noticeItem{item(policy.ActionStrip, policy.ReasonEncryptedArchive, "application/zip")}, want: "strip=1; warning=encrypted-archive"},
		{name: "links", hasBody: true, body: `see \\host[.]example\share and [リンク削除 link removed]`, want: "links-removed"},
		{name: "defanged", hasBody: true, body: "see hxxps://example[.]com/", want: "links-defanged"},
		{name: "every warning", hasBody: false, items: func() []noticeItem {
			var its []noticeItem
			for _, r := range slices.Backward(actionWarnings) {
				its = append(its, item(policy.ActionStrip, r, "x"))
			}
			return its
		}(), want: "no-body; strip=7; warning=hidden-text; warning=link-mismatch; warning=embedded-file; warning=dangerous-type; " +
			"warning=type-mismatch; warning=polyglot; warning=hidden-content; warning=encrypted-archive; warning=encrypted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := actionsValue(tc.items, tc.hasBody, tc.body)
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			actionsVocabulary(t, got)
		})
	}
}

// TestActionsHeaderRules matches the field as written with rules in the
// styles the LGWAN side uses: a Postfix header_checks regexp (on the
// unfolded field) and a Sieve :contains test.
func TestActionsHeaderRules(t *testing.T) {
	rb := &Rebuilder{Policy: policy.Default(), Hostname: "mugai.test", Sanitizers: fastSanitizers()}
	msg := "From: a@example.jp\r\nSubject: s\r\nContent-Type: text/html\r\n\r\n" +
		`<p>Hi <a href="https://evil.example.net/">https://bank.example.jp/</a></p><div style="display:none">secret</div>` + "\r\n"
	res, err := rb.Rebuild(testEnvelope, strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	_, line := actionsHeader(t, res.Message)
	// the README's rule (POSIX ERE, as Postfix's regexp tables take it)
	rule := regexp.MustCompilePOSIX(`^X-Mugai-Actions:.* warning=(hidden-text|link-mismatch)(;|$)`)
	if !rule.MatchString(line) {
		t.Errorf("header_checks rule does not match %q", line)
	}
	for _, l := range []string{"X-Mugai-Actions: warning=hidden-texts", "X-Mugai-Actions: textify; xwarning=hidden-text"} {
		if rule.MatchString(l) {
			t.Errorf("header_checks rule matches %q", l)
		}
	}
	if regexp.MustCompilePOSIX(`^X-Mugai-Actions:.* strip=[0-9]+(;|$)`).MatchString(line) {
		t.Errorf("strip rule matches %q", line)
	}
	top, err := parseOutput(res.Message)
	if err != nil {
		t.Fatal(err)
	}
	// header :contains "X-Mugai-Actions" "warning=link-mismatch"
	if v := top.header.Get(actionsField); !strings.Contains(v, "warning=link-mismatch") {
		t.Errorf("Sieve-style test does not match %q", v)
	}
}

// FuzzActionsValue: whatever the parts are called and declared as, and
// whatever reasons and actions they carry, the value is vocabulary only.
func FuzzActionsValue(f *testing.F) {
	f.Add("請求書.pdf\r\nBcc: x@example.com", "application/pdf; x=\"warning=evil\"", "strip", "dangerous-type", "hxxp://a", true)
	f.Add("a; strip=99", "text/html", "textify", "hidden-text", "[リンク削除 link removed]", false)
	f.Add("=?utf-8?b?5Lya6K2w?=", "text/plain", "evil action", "evil; reason", "", true)
	f.Fuzz(func(t *testing.T, name, ctype, action, reason, body string, hasBody bool) {
		d := policy.Decision{Path: name, Filename: name, DeclaredType: ctype, DetectedType: ctype, Action: policy.Action(action),
			Reason: policy.Reason(reason), Detail: name + ctype, RuleID: name, Clause: ctype, Delivered: name}
		items := []noticeItem{{decision: d, display: name}, {decision: d}}
		actionsVocabulary(t, actionsValue(items, hasBody, body))
	})
}

// FuzzDefangMark: hasDefangMark says what the regular expression it
// replaces says, on any text.
func FuzzDefangMark(f *testing.F) {
	re := regexp.MustCompile(`(?i)\b(?:hxxps?|fxp):|\[[.:/\\]\]`)
	for _, seed := range []string{"", "hxxps://example[.]com", "HXXP:", "xhxxp:", "_fxp:", "会議hxxp:", "hxxpſ:", "HXXPſ:",
		"[\\]\\host", "[/]/x", "[:]", "[.", "[", "a:b", "fxps:", "hxx:", "\xc5hxxp:", "hxxp\xc5\xc5\xbf:", "[[.]]", "smb[:]//h"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := hasDefangMark(s), re.MatchString(s); got != want {
			t.Fatalf("hasDefangMark(%q) = %v, the regexp says %v", s, got, want)
		}
	})
}
