package text

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mugai/policy"
)

// TestPreheaderNewsletters renders newsletter shapes from testdata: the
// benign ones (ok-*) have a preheader that is not counted as hidden text,
// the hostile ones (bad-*) are counted.
func TestPreheaderNewsletters(t *testing.T) {
	tests := []struct {
		file      string
		hidden    bool   // Hidden > 0: the hidden-text warning
		preheader string // the preview text recognised
		contains  string // of the rendered text
	}{
		// benign: real shapes
		{file: "ok-mailchimp.html", preheader: "Spring sale: 20% off all garden tools until Sunday", contains: "Dear gardener"},
		{file: "ok-litmus.html", preheader: "Your monthly update from the library: new opening hours and the autumn reading list.", contains: "New opening hours"},
		{file: "ok-benesse.html", preheader: "今月の特集は「冬休みの学習計画」。保護者向けの無料オンライン説明会のご案内もあります。", contains: "保護者の皆さま"},
		{file: "ok-rakuten.html", preheader: "【本日限定】ポイント10倍！人気のお米・産直野菜をお得に", contains: "ポイントが10倍"},
		{file: "ok-hybrid.html", preheader: "12月の講座案内と年末年始の開館日をお知らせします", contains: "親子料理教室"},
		// hostile: a link, two texts, text after the body starts, a hidden
		// table row, a preheader inside a link, a tracking image, 10 KB
		{file: "bad-link.html", hidden: true, contains: "Dear user"},
		{file: "bad-stacked.html", hidden: true, contains: "詳細は添付"},
		{file: "bad-after.html", hidden: true, preheader: "Invoice 2026-11 from your supplier", contains: "invoice attached"},
		{file: "bad-cell.html", hidden: true, contains: "よろしく"},
		{file: "bad-in-link.html", hidden: true, contains: "account will be closed"},
		{file: "bad-image.html", hidden: true, contains: "news"},
		{file: "bad-long.html", hidden: true, contains: "お知らせ"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join("testdata", "preheader", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			r := HTMLToText(doc, policy.LinksDefang)
			if (r.Hidden > 0) != tc.hidden {
				t.Errorf("Hidden = %d, want hidden %v", r.Hidden, tc.hidden)
			}
			if r.Preheader != tc.preheader {
				t.Errorf("Preheader = %q, want %q", r.Preheader, tc.preheader)
			}
			if !strings.Contains(r.Text, tc.contains) {
				t.Errorf("text lacks %q:\n%s", tc.contains, r.Text)
			}
			if tc.preheader != "" && strings.Contains(r.Text, tc.preheader) {
				t.Errorf("the preheader is in the text:\n%s", r.Text)
			}
		})
	}
}

// TestPreheaderRules checks each rule of findPreheader on small documents.
func TestPreheaderRules(t *testing.T) {
	hide := func(s string) string {
		return `<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">` + s + `</div>`
	}
	pad := strings.Repeat("&zwnj;&nbsp;", 50)
	tests := []struct {
		name   string
		html   string
		hidden int
	}{
		// what a preheader may be
		{name: "one line", html: hide("Preview") + "<p>Body</p>", hidden: 0},
		{name: "200 characters", html: hide(strings.Repeat("あ", 200)) + "<p>Body</p>", hidden: 0},
		{name: "200 characters and padding", html: hide(strings.Repeat("a", 200)+pad+"&#847;&#8199;&#65279;") + "<p>Body</p>", hidden: 0},
		{name: "text then padding element", html: hide("Preview") + hide(pad) + "<p>Body</p>", hidden: 0},
		{name: "after an image without alt", html: `<img src="x.gif" alt="">` + hide("Preview") + "<p>Body</p>", hidden: 0},
		{name: "in the first table cell", html: `<table><tr><td>` + hide("Preview") + `<p>Body</p></td></tr></table>`, hidden: 0},
		{name: "visible padding not counted", html: hide("Preview") + "&zwnj;&nbsp;&zwnj;&nbsp;<p>Body</p>", hidden: 0},
		{name: "formatting inside", html: hide("<b>Sale</b> <font color=red>today</font>") + "<p>Body</p>", hidden: 0},
		{name: "hidden spacer later", html: hide("Preview") + `<p>Body</p><div style="font-size:0;line-height:0">&nbsp;</div><p>More</p>`, hidden: 0},
		// what it may not be
		{name: "201 characters", html: hide(strings.Repeat("あ", 201)) + "<p>Body</p>", hidden: 1},
		{name: "a link", html: hide(`Preview <a href="https://x.example/">x</a>`) + "<p>Body</p>", hidden: 1},
		{name: "a link without text", html: hide(`Preview <a href="https://x.example/"></a>`) + "<p>Body</p>", hidden: 1},
		{name: "an image", html: hide(`Preview <img src="https://t.example/p.gif">`) + "<p>Body</p>", hidden: 1},
		{name: "a form", html: hide(`<form action="https://x.example/"><input name=p></form>`) + "<p>Body</p>", hidden: 1},
		{name: "a URL in a style", html: `<div style="display:none;background:url(https://t.example/p.gif)">Preview</div><p>Body</p>`, hidden: 1},
		{name: "a hidden link itself", html: `<a href="https://x.example/" style="display:none">Preview</a><p>Body</p>`, hidden: 1},
		{name: "two texts", html: hide("One") + hide("Two") + "<p>Body</p>", hidden: 2},
		{name: "nested texts count once", html: hide("One"+hide("Two")) + "<p>Body</p>", hidden: 0},
		{name: "after visible text", html: "<p>Body</p>" + hide("Preview"), hidden: 1},
		{name: "after alt text", html: `<img src="x.gif" alt="Logo">` + hide("Preview") + "<p>Body</p>", hidden: 1},
		{name: "a preheader and hidden text later", html: hide("Preview") + "<p>Body</p>" + hide("Wire the money"), hidden: 1},
		{name: "inside a link", html: `<a href="https://x.example/">` + hide("Preview") + `</a><p>Body</p>`, hidden: 1},
		{name: "hidden row after text", html: `<table><tr><td>Body</td></tr><tr style="display:none"><td>Secret</td></tr></table>`, hidden: 1},
		{name: "hidden cell after text", html: `<table><tr><td>Body</td><td style="display:none">Secret</td></tr></table>`, hidden: 1},
		{name: "hidden list item", html: `<ul><li>Body</li><li hidden>Secret</li></ul>`, hidden: 1},
		{name: "hidden in pre", html: `<pre>Body<span style="display:none">Secret</span></pre>`, hidden: 1},
		{name: "zero-width characters in the body still count", html: hide("Preview") + "<p>Pay\u200bPal</p>", hidden: 1},
		{name: "no preheader: leading zero-width characters count", html: "\u200b<p>Body</p>", hidden: 1},
		{name: "a bidi control is not padding", html: hide("\u202e") + "<p>Body</p>", hidden: 0},
		{name: "bidi control in visible text", html: "\u202e<p>Body</p>", hidden: 1},
		// font-size:0 on a cell whose columns set their size again (hybrid layouts)
		{name: "zero font reset inside", html: `<p>Body</p><table><tr><td style="font-size:0"> <div style="display:inline-block;font-size:15px">Left</div> <div style="font-size:15px !important">Right</div></td></tr></table>`, hidden: 0},
		{name: "zero font text beside a reset", html: `<p>Body</p><div style="font-size:0">Secret<span style="font-size:12px">shown</span></div>`, hidden: 1},
		{name: "zero font reset only by a hidden element", html: `<p>Body</p><div style="font-size:0">Secret<span style="font-size:12px;display:none">x</span></div>`, hidden: 2},
		{name: "zero font, nothing reset", html: `<p>Body</p><div style="font-size:0px">Secret</div>`, hidden: 1},
		{name: "zero font, the last declaration wins", html: `<p>Body</p><div style="font-size:0;font-size:14px">shown</div>`, hidden: 0},
		{name: "zero font around a linked image", html: `<p>Body</p><div style="font-size:0"><a href="https://x.example/"><img src="b.png" alt="Buy"></a></div>`, hidden: 0},
		{name: "zero font text beside an image", html: `<p>Body</p><div style="font-size:0">Secret<img src="b.png"></div>`, hidden: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := HTMLToText([]byte("<html><body>"+tc.html+"</body></html>"), policy.LinksDefang)
			if r.Hidden != tc.hidden {
				t.Errorf("Hidden = %d, want %d (preheader %q, text %q)", r.Hidden, tc.hidden, r.Preheader, r.Text)
			}
			if strings.Contains(r.Text, "Preview") || strings.Contains(r.Text, "Secret") {
				t.Errorf("hidden text rendered: %q", r.Text)
			}
		})
	}
}

// TestPreheaderTooDeep: a document the parser refuses is read by the
// tokenizer, which excuses no preheader.
func TestPreheaderTooDeep(t *testing.T) {
	doc := `<div style="display:none">Preview</div>` + strings.Repeat("<div>", 600) + "Body"
	r := HTMLToText([]byte(doc), policy.LinksDefang)
	if !r.TooDeep || r.Hidden != 1 || r.Preheader != "" {
		t.Errorf("TooDeep %v, Hidden %d, Preheader %q", r.TooDeep, r.Hidden, r.Preheader)
	}
}

// FuzzPreheader: on any document, a preheader found is short and left out
// of the text, and a hidden text after the body's first words still
// counts.
func FuzzPreheader(f *testing.F) {
	for _, name := range []string{"ok-mailchimp.html", "ok-litmus.html", "ok-benesse.html", "ok-rakuten.html", "bad-link.html", "bad-stacked.html", "bad-cell.html"} {
		b, err := os.ReadFile(filepath.Join("testdata", "preheader", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add(`<div style="display:none">a<a href=x>b</a></div><p>c`)
	f.Fuzz(func(t *testing.T, doc string) {
		r := HTMLToText([]byte(doc), policy.LinksDefang)
		if r.Hidden < 0 {
			t.Fatalf("Hidden %d", r.Hidden)
		}
		if n := len([]rune(strings.ReplaceAll(r.Preheader, " ", ""))); n > maxPreheader {
			t.Fatalf("preheader of %d characters", n)
		}
		// The same document behind visible text: nothing hidden in it is
		// a preheader any more.
		behind := HTMLToText([]byte("<p>Visible</p>"+doc), policy.LinksDefang)
		if behind.Preheader != "" {
			t.Fatalf("preheader %q behind visible text", behind.Preheader)
		}
	})
}
