package text

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"mugai/policy"
)

// Links. A mail client turns text into a link by its own rules: Outlook and
// Becky! link known schemes, "www." names and UNC paths; Thunderbird finds
// "://" and walks back over scheme characters, so "_https://x" is a link
// from its "h". So a link is looked for anywhere in a word, in every form a
// client may link:
//
//   - any scheme followed by two slashes (also full-width, also
//     backslashes): http, ftp, file, smb, sftp, telnet, webcal, and schemes
//     nobody has heard of;
//   - a scheme that starts a program without slashes (linkHandlers): the
//     ms-* family (ms-msdt:, ms-officecmd:, ms-word:…), search-ms:, search:,
//     shell:, file:, javascript:, vbscript:, data: and the like;
//   - UNC paths, \\host\share (also full-width);
//   - "www." names;
//   - //host/share after a space or an opening bracket.
//
// mailto: addresses (and tel:) are left as they are in every mode: they
// open nothing but a new mail, and every client links a bare address.
//
// defang keeps a link readable but not clickable: hxxps://example[.]com,
// fxp://…, smb[:]//host[.]example/…, search-ms[:]query=…,
// [\]\host[.]example\share, [/]/host/share; the rest of a URL is scanned
// again, so a link inside another one's path is defanged too. keep leaves
// http(s) links and www. names as they are and defangs every other scheme
// and path, as defang does. remove puts a placeholder in place of every
// link.

// linkAnchor finds where a link may start: 1 www. or ftp., 2 a scheme and its
// colon (3) and two slashes (4), 5 two backslashes, 6 two slashes.
var linkAnchor = regexp.MustCompile(`(?i)([wｗ]{3}[.．]|[fｆ][tｔ][pｐ][.．])|([a-zａ-ｚ][a-z0-9+\-ａ-ｚ０-９＋－]*)([:：])([/／\\＼]{2})?|([\\＼]{2})|([/／]{2})`)

// linkHandlers are the schemes that start a program or reach a file
// without "//": a client links "scheme:" followed by anything. Every ms-*
// scheme is one too.
var linkHandlers = map[string]bool{
	"http": true, "https": true, "ftp": true, "ftps": true, "sftp": true, "file": true,
	"search-ms": true, "search": true, "shell": true, "javascript": true, "vbscript": true,
	"livescript": true, "jscript": true, "data": true, "blob": true, "jar": true, "mhtml": true,
	"mk": true, "its": true, "res": true, "hcp": true, "help": true, "smb": true, "cifs": true,
	"nfs": true, "afp": true, "telnet": true, "ssh": true, "rlogin": true, "rdp": true, "vnc": true,
	"ldap": true, "ldaps": true, "webcal": true, "webcals": true, "outlook": true, "onenote": true,
	"notes": true, "news": true, "nntp": true, "snews": true, "irc": true, "ircs": true,
	"gopher": true, "wais": true, "prospero": true, "callto": true, "skype": true, "msteams": true,
	"zoommtg": true, "microsoft-edge": true, "jnlp": true, "steam": true, "itms": true,
	"itms-services": true, "view-source": true, "intent": true, "vscode": true, "calculator": true,
	"wsl": true, "wt": true, "x-help-action": true, "mso-minsb": true, "windows": true,
}

// inertSchemes are what defang writes: no client knows them.
var inertSchemes = map[string]bool{"hxxp": true, "hxxps": true, "fxp": true}

const removedLink = "[リンク削除 link removed]"

type linkKind int

const (
	linkWWW     linkKind = iota
	linkSlashes          // scheme://host
	linkHandler          // scheme:anything
	linkUNC              // \\host
	linkNetPath          // //host
)

// link is one link found in a text: text[start:host] is its scheme and
// separator, text[host:head] its host name, text[start:end] the whole link.
type link struct {
	start, host, head, end int
	kind                   linkKind
	colon                  int  // where the scheme's colon is (linkSlashes, linkHandler)
	web                    bool // http, https or www.: what keep keeps
}

// TransformLinks applies the link mode (policy.LinksKeep, LinksDefang or
// LinksRemove: see the top of this file) to every link in the text, so
// that no client turns one into a clickable link unless the policy keeps
// it, and even then only a web link. A defanged link's host is scanned again
// in place, so that a link that starts inside it ("\\\\smb:x",
// "//x:／／host") is found with what follows it.
func TransformLinks(text, mode string) string {
	if !mayHoldURL(text) {
		return text
	}
	var b strings.Builder
	p := 0         // text[:p] is written
	dotsUntil := 0 // text[:dotsUntil] may be a host name: its dots are written bracketed
	write := func(upto int) {
		if p < dotsUntil {
			m := min(upto, dotsUntil)
			b.WriteString(bracketDots(width.Fold.String(text[p:m])))
			p = m
		}
		b.WriteString(text[p:upto])
		p = upto
	}
	found := false
	for from := 0; ; {
		l, ok := nextLink(text, from)
		if !ok {
			break
		}
		found = true
		write(l.start)
		switch {
		case mode == policy.LinksKeep && l.web:
			write(l.end)
			from = l.end
		case mode == policy.LinksRemove:
			b.WriteString(removedLink)
			p, from = l.end, l.end
		default:
			b.WriteString(defangPrefix(l, text))
			p, from = l.host, l.host
			if l.kind == linkWWW {
				for range 3 { // past "www"
					_, n := utf8.DecodeRuneInString(text[from:])
					from += n
				}
			}
			dotsUntil = max(dotsUntil, l.head)
		}
	}
	if !found {
		return text
	}
	write(len(text))
	return b.String()
}

// nextLink finds the first link in text at or after from.
func nextLink(text string, from int) (link, bool) {
	for from < len(text) {
		m := linkAnchor.FindStringSubmatchIndex(text[from:])
		if m == nil {
			return link{}, false
		}
		for i := range m {
			if m[i] >= 0 {
				m[i] += from
			}
		}
		s, e := m[0], m[1]
		_, size := utf8.DecodeRuneInString(text[s:])
		switch {
		case m[2] >= 0: // www. (a web link to keep) or ftp. (Thunderbird links it too)
			h := hostEnd(text, e, false)
			if h > e {
				web := strings.ToLower(width.Fold.String(text[m[2]:m[2]+1])) == "w"
				return link{start: s, host: s, head: h, end: linkEnd(text, h), kind: linkWWW, web: web}, true
			}
			from = e
		case m[4] >= 0: // scheme:
			scheme := strings.ToLower(width.Fold.String(text[m[4]:m[5]]))
			web := scheme == "http" || scheme == "https"
			switch {
			case m[8] >= 0 && inertSchemes[scheme] && !gluedScheme(text, s): // hxxps://: defanged already
				from = e
				continue
			case m[8] >= 0:
				e = slashRun(text, e)
				h := hostEnd(text, e, false)
				return link{start: s, host: e, head: h, end: linkEnd(text, h), kind: linkSlashes, colon: m[6], web: web}, true
			case (linkHandlers[scheme] || strings.HasPrefix(scheme, "ms-")) && linkEnd(text, e) > e:
				return link{start: s, host: e, head: e, end: linkEnd(text, e), kind: linkHandler, colon: m[6], web: web}, true
			}
			// Not a link ("Note: x", "profile:x"): what follows the colon
			// may be one.
			from = m[7]
		case m[10] >= 0: // \\host, after any number of backslashes
			e = slashRun(text, e)
			if h := hostEnd(text, e, true); h > e {
				return link{start: s, host: e, head: h, end: linkEnd(text, h), kind: linkUNC}, true
			}
			from = e
		default: // //host after a space or bracket; after a colon always
			// (the rest of a scheme whose host was defanged)
			afterColon := strings.HasSuffix(text[:s], ":") || strings.HasSuffix(text[:s], "：")
			if afterColon || opensNetPath(text[:s]) {
				e = slashRun(text, e)
				if h := hostEnd(text, e, true); h > e || afterColon {
					return link{start: s, host: e, head: h, end: linkEnd(text, h), kind: linkNetPath}, true
				}
			}
			from = s + size
		}
	}
	return link{}, false
}

// slashRun returns where the slashes and backslashes that go on at i end.
func slashRun(text string, i int) int {
	for i < len(text) {
		r, n := utf8.DecodeRuneInString(text[i:])
		if r != '\\' && r != '＼' && r != '/' && r != '／' {
			break
		}
		i += n
	}
	return i
}

// linkStop reports the characters that end a link: spaces, controls,
// quotes and brackets, Japanese punctuation.
func linkStop(r rune) bool {
	switch r {
	case '<', '>', '"', '\'', '（', '）', '「', '」', '『', '』', '【', '】', '、', '。':
		return true
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Z, r) || unicode.IsControl(r)
}

// linkEnd returns where the link that goes on at i ends.
func linkEnd(text string, i int) int {
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if linkStop(r) {
			break
		}
		i += size
	}
	return i
}

// hostEnd returns where the host name that starts at i ends: at a slash,
// a backslash, or (in a URL) ? and #.
func hostEnd(text string, i int, path bool) int {
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if linkStop(r) || r == '/' || r == '\\' || r == '／' || r == '＼' || !path && (r == '?' || r == '#' || r == '？' || r == '＃') {
			break
		}
		i += size
	}
	return i
}

// opensNetPath reports whether "//" after before starts a path: at the
// start of a line or after a space, bracket, quote or =.
func opensNetPath(before string) bool {
	if before == "" {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(before)
	return linkStop(r) || strings.ContainsRune("([{=:", r)
}

// mayHoldURL reports whether the text may hold a link: every link holds a
// colon, two backslashes or slashes, "www." or a full-width form (all of
// which start with the byte 0xEF in UTF-8). It spares the regexp some
// bodies and never skips one that can match.
func mayHoldURL(text string) bool {
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == ':', c == 0xEF:
			return true
		case (c == '\\' || c == '/') && i+1 < len(text) && text[i+1] == c:
			return true
		case c == '.' && i >= 3 && text[i-1]|0x20 == 'w' && text[i-2]|0x20 == 'w' && text[i-3]|0x20 == 'w':
			return true
		case c == '.' && i >= 3 && text[i-1]|0x20 == 'p' && text[i-2]|0x20 == 't' && text[i-3]|0x20 == 'f':
			return true
		}
	}
	return false
}

// Defang rewrites every link in s so that it reads the same but no client
// links it.
func Defang(s string) string { return TransformLinks(s, policy.LinksDefang) }

// defangPrefix rewrites the scheme and separator of a link as readable
// text no client links: hxxps://, smb[:]//, ms-msdt[:], [\]\, [/]/;
// TransformLinks then writes the host with its dots bracketed
// (example[.]com). Full-width forms are written in ASCII.
func defangPrefix(l link, text string) string {
	prefix := width.Fold.String(text[l.start:l.host])
	switch l.kind {
	case linkWWW:
		return ""
	case linkUNC:
		return bracketSlashes(prefix)
	case linkNetPath:
		return "[/]" + bracketSlashes(prefix[1:])
	}
	scheme := width.Fold.String(text[l.start:l.colon])
	_, size := utf8.DecodeRuneInString(text[l.colon:])
	sep := bracketSlashes(width.Fold.String(text[l.colon+size : l.host]))
	if gluedScheme(text, l.start) {
		// "a.http://": a client may read the scheme as "a.http" or
		// "a.hxxp", so the colon is bracketed too: a.hxxp[:]//.
		return strings.NewReplacer("http", "hxxp", "ftp", "fxp").Replace(strings.ToLower(scheme)) + "[:]" + sep
	}
	switch strings.ToLower(scheme) {
	case "http":
		return "hxxp:" + sep
	case "https":
		return "hxxps:" + sep
	case "ftp":
		return "fxp:" + sep
	}
	return scheme + "[:]" + sep
}

// gluedScheme says whether the character before text[i] could continue a
// URI scheme (RFC 3986: letters, digits, "+", "-", "."), full-width forms
// included: then the scheme found at i is only the end of a longer one.
func gluedScheme(text string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(text[:i])
	if i == 0 || r == utf8.RuneError {
		return false
	}
	f, _ := utf8.DecodeRuneInString(width.Fold.String(string(r)))
	return f < utf8.RuneSelf && (f >= 'a' && f <= 'z' || f >= 'A' && f <= 'Z' || f >= '0' && f <= '9' || strings.ContainsRune("+-.", f))
}

// bracketSlashes writes a run of slashes and backslashes so that no two
// backslashes are next to each other: every backslash but the last as [\].
func bracketSlashes(run string) string {
	last := strings.LastIndexByte(run, '\\')
	if last < 0 {
		return run
	}
	return strings.ReplaceAll(run[:last], `\`, `[\]`) + run[last:]
}

// bracketDots writes every dot of a host name as [.], leaving those
// already bracketed.
func bracketDots(host string) string {
	if !strings.Contains(host, ".") {
		return host
	}
	var b strings.Builder
	for i := 0; i < len(host); i++ {
		if host[i] == '.' && !(i > 0 && host[i-1] == '[' && i+1 < len(host) && host[i+1] == ']') {
			b.WriteString("[.]")
			continue
		}
		b.WriteByte(host[i])
	}
	return b.String()
}
