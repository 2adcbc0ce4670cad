package text

import (
	"strings"
	"testing"

	"mugai/policy"
	"mugai/sanitize/sanitizetest"
)

func TestDefangSchemes(t *testing.T) {
	tests := []struct{ in, want string }{
		// web links, as before, and now anywhere in a word
		{"see https://example.com/a.b?c=d", "see hxxps://example[.]com/a.b?c=d"},
		{"HTTP://EXAMPLE.COM/", "hxxp://EXAMPLE[.]COM/"},
		{"ftp://files.example.org/x", "fxp://files[.]example[.]org/x"},
		{"_https://evil.example/x", "_hxxps://evil[.]example/x"},
		{"xhttps://evil.example/x", "xhttps[:]//evil[.]example/x"},
		{"日本語https://evil.example/パス", "日本語hxxps://evil[.]example/パス"},
		{"(www.evil.example)", "(www[.]evil[.]example)"},
		{"awww.evil.example:8080/x", "awww[.]evil[.]example:8080/x"},
		{"get ftp.evil.example/x", "get ftp[.]evil[.]example/x"}, // Thunderbird links ftp. names like www.
		{"FTP.evil.example", "FTP[.]evil[.]example"},
		{"Visit:https://evil.example", "Visit:hxxps://evil[.]example"},
		// full-width forms are written in ASCII
		{"ｈｔｔｐｓ：／／ｅｖｉｌ．ｅｘａｍｐｌｅ／ｘ", "hxxps://evil[.]example／ｘ"},
		{"ＷＷＷ．ｅｖｉｌ．ｅｘａｍｐｌｅ", "WWW[.]evil[.]example"},
		// every other scheme with //
		{"file://server.example/share/a.exe", "file[:]//server[.]example/share/a.exe"},
		{"file:///C:/Windows/calc.exe", "file[:]///C:/Windows/calc.exe"},
		{"smb://10.0.0.1/share", "smb[:]//10[.]0[.]0[.]1/share"},
		{"sftp://host.example/x telnet://host.example webcal://cal.example/x.ics", "sftp[:]//host[.]example/x telnet[:]//host[.]example webcal[:]//cal[.]example/x.ics"},
		{"no-such-scheme+x://host.example", "no-such-scheme+x[:]//host[.]example"},
		{`https:\\evil.example\x`, `hxxps:[\]\evil[.]example\x`},
		// handlers without //
		{"search-ms:query=invoice&crumb=location:\\\\evil.example@80\\share", `search-ms[:]query=invoice&crumb=location[:][\]\evil[.]example@80\share`},
		{"ms-msdt:/id PCWDiagnostic /skip force", "ms-msdt[:]/id PCWDiagnostic /skip force"},
		// A scheme glued to scheme characters before it: a client may read
		// "a.http" or "a.hxxp" as the scheme, so the colon is bracketed too
		// (found by FuzzHTMLToText).
		{"000A.ｈｔｔｐ://", "000A.hxxp[:]//"},
		{"see a.http://e.example/x", "see a.hxxp[:]//e[.]example/x"},
		{"a.hxxp://e.example", "a.hxxp[:]//e[.]example"},
		{"x+hxxps://e.example", "x+hxxps[:]//e[.]example"},
		{"(http://e.example)", "(hxxp://e[.]example)"},
		{"MS-OFFICECMD:{json} ms-word:ofe|u|https://evil.example/a.docx ms-excel:ofv|u|x", "MS-OFFICECMD[:]{json} ms-word[:]ofe|u|hxxps://evil[.]example/a.docx ms-excel[:]ofv|u|x"},
		{"shell:startup search:query=x file:c:/x.exe", "shell[:]startup search[:]query=x file[:]c:/x.exe"},
		{"javascript:alert(1) vbscript:msgbox data:text/html,<b>", "javascript[:]alert(1) vbscript[:]msgbox data[:]text/html,<b>"},
		{"x_shell:startup", "x_shell[:]startup"},
		// UNC and network paths
		{`\\evil.example\share\a.lnk`, `[\]\evil[.]example\share\a.lnk`},
		{`open \\\\host\x`, `open [\][\][\]\host\x`},
		{`\\\host`, `[\][\]\host`},
		{"＼＼evil.example＼share", `[\]\evil[.]example＼share`},
		{"see //evil.example/share", "see [/]/evil[.]example/share"},
		// a link inside another one's path is defanged too
		{"https://a.example/?u=file://b.example/x", "hxxps://a[.]example/?u=file[:]//b[.]example/x"},
		// not links: left as they are
		{"Note: profile:x research:y metadata:z TEL:03-1234-5678 mailto:a@b.example", "Note: profile:x research:y metadata:z TEL:03-1234-5678 mailto:a@b.example"},
		{"C:\\Users\\a 10:00 a//b // comment", "C:\\Users\\a 10:00 a//b // comment"},
		{"file: report.pdf", "file: report.pdf"},
		{"already hxxps://evil[.]example and [\\]\\host", "already hxxps://evil[.]example and [\\]\\host"},
	}
	for _, tc := range tests {
		got := TransformLinks(tc.in, policy.LinksDefang)
		if got != tc.want {
			t.Errorf("defang %q\n got %q\nwant %q", tc.in, got, tc.want)
		}
		if l := sanitizetest.LiveLink(got); l != "" {
			t.Errorf("defang %q left a live link: %q", tc.in, l)
		}
		if again := TransformLinks(got, policy.LinksDefang); again != got {
			t.Errorf("defang is not idempotent on %q: %q", got, again)
		}
		if !mayHoldURL(tc.in) && got != tc.in {
			t.Errorf("mayHoldURL(%q) is false", tc.in)
		}
	}
}

func TestLinkModesDangerous(t *testing.T) {
	in := "web https://ok.example/a and www.ok.example, then file://x.example/s \\\\h.example\\s ms-msdt:/id x mailto:a@b.example"
	tests := []struct{ mode, want string }{
		{policy.LinksKeep, "web https://ok.example/a and www.ok.example, then file[:]//x[.]example/s [\\]\\h[.]example\\s ms-msdt[:]/id x mailto:a@b.example"},
		{policy.LinksDefang, "web hxxps://ok[.]example/a and www[.]ok[.]example, then file[:]//x[.]example/s [\\]\\h[.]example\\s ms-msdt[:]/id x mailto:a@b.example"},
		{policy.LinksRemove, "web " + removedLink + " and " + removedLink + " then " + removedLink + " " + removedLink + " " + removedLink + " x mailto:a@b.example"},
	}
	for _, tc := range tests {
		if got := TransformLinks(in, tc.mode); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.mode, got, tc.want)
		}
	}
}

func TestHTMLLinkTargets(t *testing.T) {
	tests := []struct{ href, want string }{
		{"file://evil.example/share/x.exe", "file[:]//evil[.]example/share/x.exe"},
		{`\\evil.example\share`, `[\]\evil[.]example\share`},
		{"//evil.example/x", "[/]/evil[.]example/x"},
		{`/\evil.example/x`, "[/]/evil[.]example/x"},
		{"search-ms:query=a&crumb=location:\\\\evil.example\\s", `search-ms[:]query=a&crumb=location[:][\]\evil[.]example\s`},
		{"ms-msdt:/id PCWDiagnostic", "ms-msdt[:]/id PCWDiagnostic"},
		{"ht\ttps://evil.example/", "hxxps://evil[.]example/"},
		{" smb://evil.example/s", "smb[:]//evil[.]example/s"},
	}
	for _, mode := range []string{policy.LinksDefang, policy.LinksKeep} {
		for _, tc := range tests {
			if mode == policy.LinksKeep && strings.Contains(tc.want, "hxxps") {
				continue // keep keeps web links
			}
			r := HTMLToText([]byte(`<p>Click <a href="`+tc.href+`">here</a> now</p>`), mode)
			got := TransformLinks(r.Text, mode)
			if want := "Click here <" + tc.want + "> now"; got != want {
				t.Errorf("%s %q:\n got %q\nwant %q", mode, tc.href, got, want)
			}
			if l := sanitizetest.LiveLink(got); l != "" {
				t.Errorf("%s %q left a live link: %q", mode, tc.href, l)
			}
		}
	}
	// remove mode shows none of them; script URLs are never shown
	for _, tc := range tests {
		r := HTMLToText([]byte(`<p>Click <a href="`+tc.href+`">here</a> now</p>`), policy.LinksRemove)
		if got := TransformLinks(r.Text, policy.LinksRemove); got != "Click here now" {
			t.Errorf("remove %q: got %q", tc.href, got)
		}
	}
	// link text rendered from HTML is defanged like any text
	r := HTMLToText([]byte(`<div>a&#95;https://evil.example/ and &#92;&#92;unc.example&#92;s</div>`), policy.LinksDefang)
	if got, want := TransformLinks(r.Text, policy.LinksDefang), `a_hxxps://evil[.]example/ and [\]\unc[.]example\s`; got != want {
		t.Errorf("entities: got %q, want %q", got, want)
	}
}

func TestMayHoldURLNeverSkips(t *testing.T) {
	// Every text for which TransformLinks changes something must pass the
	// pre-check; try the anchors in many surroundings.
	anchors := []string{"https://x.example", "ms-msdt:x", `\\h\s`, "www.x.example", "ｈｔｔｐ：／／x", "＼＼h", " //h/s", "ｗｗｗ．x", "WwW.x.y"}
	for _, a := range anchors {
		for _, s := range []string{a, "_" + a, a + "y", "日本" + a + "語"} {
			changed := TransformLinks(s, policy.LinksDefang) != s
			if changed && !mayHoldURL(s) {
				t.Errorf("mayHoldURL(%q) = false, but it holds a link", s)
			}
			if !changed {
				t.Errorf("%q: no link found", s)
			}
		}
	}
}

// TestHandlerSchemesAgree: the scanner and the independent check in
// sanitizetest know the same schemes that need no "//".
func TestHandlerSchemesAgree(t *testing.T) {
	for s := range linkHandlers {
		if !sanitizetest.HandlerSchemes[s] {
			t.Errorf("%q is a handler to the scanner, not to sanitizetest.LiveLink", s)
		}
	}
	for s := range sanitizetest.HandlerSchemes {
		if !linkHandlers[s] {
			t.Errorf("%q is a handler to sanitizetest.LiveLink, not to the scanner", s)
		}
	}
}
