package sanitize

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/width"

	"mugai/policy"
)

// bodyPicker chooses which leaves make up the body.
type bodyPicker struct {
	preferHTML bool
}

// assignRoles marks which leaves make up the body, which are unused
// alternatives of it, and which are attachments (everything else).
func assignRoles(root *node, preferHTML bool) {
	for _, l := range root.leaves() {
		l.role = policy.RoleAttachment
	}
	if (&bodyPicker{preferHTML: preferHTML}).pick(root, true) {
		return
	}
	// No body of its own: a TNEF winmail.dat may carry it (Outlook rich
	// text sent without a plain-text part).
	for _, l := range root.leaves() {
		if l.problem == "" && isTNEF(l) {
			if _, ok := tnefText(l.body); ok {
				l.role = policy.RoleBody
				return
			}
		}
	}
}

// isBodyType reports the media types we can render as body text.
func isBodyType(mt string) bool {
	switch mt {
	case "text/plain", "text/html", "text/enriched", "text/richtext", "text/rtf", "application/rtf":
		return true
	}
	return false
}

// bodyCandidate reports whether a leaf can be read as body text.
func bodyCandidate(n *node) bool {
	return n.problem == "" && !n.isMultipart() && isBodyType(n.declared) &&
		n.disposition != "attachment" && n.filename == ""
}

// pick finds the body inside n and, when mark is set, marks it. It reports
// whether n holds a body.
func (bp *bodyPicker) pick(n *node, mark bool) bool {
	if !n.isMultipart() {
		if !bodyCandidate(n) {
			return false
		}
		if mark {
			n.role = policy.RoleBody
		}
		return true
	}
	switch n.declared {
	case "multipart/alternative":
		chosen := bp.alternative(n)
		if chosen == nil {
			return false
		}
		if mark {
			bp.pick(chosen, true)
			for _, c := range n.children {
				if c == chosen {
					continue
				}
				for _, l := range c.leaves() {
					l.role = policy.RoleAlternative
				}
			}
		}
		return true
	case "multipart/related":
		root := relatedRoot(n)
		return root != nil && bp.pick(root, mark)
	}
	found := false
	for _, c := range n.children {
		if !found {
			found = bp.pick(c, mark)
			continue
		}
		// Text after the body (a list footer, a second text block) is body too.
		if mark && bodyCandidate(c) {
			c.role = policy.RoleBody
		}
	}
	return found
}

// alternative chooses among the versions of a multipart/alternative: the
// text/plain one, unless it is empty or a "view this mail in HTML" stub or
// the policy prefers HTML; else the richest (last) version holding a body.
func (bp *bodyPicker) alternative(n *node) *node {
	var plain, rich *node
	for _, c := range n.children {
		if plain == nil && bodyCandidate(c) && c.declared == "text/plain" {
			plain = c
		}
	}
	for i := len(n.children) - 1; i >= 0; i-- {
		if c := n.children[i]; c != plain && bp.pick(c, false) {
			rich = c
			break
		}
	}
	switch {
	case plain == nil:
		return rich
	case rich == nil:
		return plain
	case bp.preferHTML || isStub(plain, rich):
		return rich
	}
	return plain
}

var stubWords = regexp.MustCompile(`(?i)html|browser|web ?version|view (this|it) (e-?mail|message)|ブラウザ|表示|対応していない|閲覧|ウェブ版|オンライン版`)

// isStub reports whether a text/plain version is empty, or is only a
// pointer to the HTML version ("this mail is best viewed in HTML").
func isStub(plain, rich *node) bool {
	text, _, _ := decodeText(plain.body, plain.params["charset"])
	text = strings.TrimSpace(text)
	if text == "" {
		return true
	}
	if utf8.RuneCountInString(text) > 300 || !stubWords.MatchString(text) {
		return false
	}
	for _, l := range rich.leaves() {
		if l.declared == "text/html" {
			htmlText, _, _ := decodeText(l.body, l.params["charset"])
			r := htmlToText([]byte(htmlText), policy.LinksKeep)
			return 2*utf8.RuneCountInString(r.text) > 3*utf8.RuneCountInString(text)
		}
	}
	return false
}

// relatedRoot returns the root part of a multipart/related: the one named
// by the start parameter, else the first.
func relatedRoot(n *node) *node {
	if len(n.children) == 0 {
		return nil
	}
	if start := strings.Trim(n.params["start"], "<> "); start != "" {
		for _, c := range n.children {
			if strings.Trim(c.header.Get("Content-Id"), "<> ") == start {
				return c
			}
		}
	}
	return n.children[0]
}

// rendered is one body leaf turned into text, with what was found on the
// way.
type rendered struct {
	text       string
	reason     policy.Reason // for the part's decision
	detail     string
	hidden     int      // hidden elements and invisible characters left out
	mismatches []string // "shows X, leads to Y"
	embedded   []string // files written as text into the body, removed
	cut        bool     // the rendering stopped at its size limit
	tooDeep    bool     // HTML nested too deeply: read without its layout
}

// renderBody turns one body leaf into text with the given link mode; the
// text is at most textLimit(maxText, len(n.body)) bytes: a longer one is
// cut (the rendering stops growing at the limit) and says so, and r.reason
// and r.detail say what was cut.
func renderBody(n *node, links string, maxText int) rendered {
	return renderBodyWith(n, links, maxText, true)
}

// renderBodyWith is renderBody; without tree, HTML is read by the
// tokenizer (no parse tree: the memory of a large document is not there
// to be had), without its layout.
func renderBodyWith(n *node, links string, maxText int, tree bool) rendered {
	limit := textLimit(maxText, len(n.body))
	cs := n.params["charset"]
	if n.declared == "text/html" && cs == "" {
		// A BOM or <meta charset>; windows-1252 is what the prescan
		// falls back to when it finds nothing.
		if _, name, certain := charset.DetermineEncoding(n.body, "text/html"); certain || name != "windows-1252" {
			cs = name
		}
	}
	var r rendered
	cut := false
	if isTNEF(n) {
		text, _ := tnefText(n.body)
		text, cut = cutText(text, limit)
		r.text, r.hidden = plainText(text)
		r.text, r.embedded = stripEmbeddedFiles(r.text)
		r.reason, r.detail = policy.ReasonTNEFBody, "text body taken from winmail.dat; the rest of it removed"
		r.finish(links, limit, cut)
		return r
	}
	s, res, used := decodeText(n.body, cs)
	switch n.declared {
	case "text/html":
		if tree {
			r = htmlToTextLimit([]byte(s), links, limit)
		} else {
			r = htmlTokensToText([]byte(s), links, limit)
		}
		r.reason = policy.ReasonHTMLConverted
	case "text/enriched", "text/richtext":
		s, cut = cutText(s, limit)
		r.text, r.hidden = plainText(enrichedToText(s))
		r.reason = policy.ReasonBodyText
	case "text/rtf", "application/rtf":
		r.text, cut = cutText(rtfToText(n.body), limit)
		r.text, r.hidden = plainText(r.text)
		r.reason, res = policy.ReasonBodyText, decodedClean // RTF carries its own charsets
	default:
		s, cut = cutText(s, limit)
		r.text, r.hidden = plainText(s)
		r.reason = policy.ReasonBodyText
	}
	r.text, r.embedded = stripEmbeddedFiles(r.text)
	switch res {
	case decodedMislabelled:
		r.reason, r.detail = policy.ReasonCharsetMislabelled, "declared "+orNone(cs)+", decoded as "+used
	case decodedGuessed:
		r.reason, r.detail = policy.ReasonCharsetGuessed, "declared "+orNone(cs)+", decoded as "+used
	case decodedLossy:
		r.reason, r.detail = policy.ReasonUndecodableText, "charset "+orNone(cs)
	case decodedUnknown:
		r.reason, r.detail = policy.ReasonUnknownCharset, "charset "+orNone(cs)
	}
	r.finish(links, limit, cut)
	return r
}

// finish applies the link mode and the size limit, and records a limit
// that was hit (the text cut, or HTML too deep to lay out) as the reason,
// the other findings staying in the detail.
func (r *rendered) finish(links string, limit int, cut bool) {
	r.text = transformLinks(r.text, links)
	var cut2 bool
	r.text, cut2 = cutText(r.text, limit-len(cutMark))
	var notes []string
	if r.tooDeep {
		notes = append(notes, detailTooDeep)
	}
	if cut || cut2 || r.cut {
		r.text = strings.TrimRight(r.text, "\n ")
		notes = append(notes, fmt.Sprintf(detailCut, len(r.text)))
		r.text += cutMark
	}
	if len(notes) == 0 {
		return
	}
	if r.detail != "" {
		notes = append(notes, r.detail)
	}
	r.reason, r.detail = policy.ReasonBodyLimit, strings.Join(notes, "; ")
}

// Details of policy.ReasonBodyLimit; the notice reads them back.
const (
	detailCut     = "text cut at %d bytes"
	detailTooDeep = "HTML nested too deeply to lay out: its text was read without the layout"
	cutMark       = "\n\n[本文が長すぎるため、ここから先を省略しました / The rest of the body was cut: it is too long]"
)

// textLimit is the most text one body may become: a few times its size
// (quote marks, list indents and defanged links make text longer), at
// least 64 KiB, at most maxText.
func textLimit(maxText, inputSize int) int {
	if maxText <= 0 {
		maxText = DefaultLimits.MaxBodyText
	}
	return min(maxText, max(64<<10, 4*inputSize))
}

// cutText cuts s to at most max bytes at a rune boundary, preferring the
// end of a line in the last 1 KiB, and reports whether it cut.
func cutText(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	i := max(n, 0)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	if nl := strings.LastIndexByte(s[:i], '\n'); nl >= 0 && i-nl < 1024 {
		i = nl
	}
	return s[:i], true
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func pluralDetail(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

// plainText normalises text: LF line ends, no control characters but tab,
// no zero-width or bidi-override characters (counted), no trailing blank
// lines.
func plainText(s string) (string, int) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	hidden := 0
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case isInvisible(r), isBidiControl(r):
			hidden++
			return -1
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError:
			return -1
		}
		return r
	}, s)
	return strings.TrimRight(s, "\n "), hidden
}

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

// transformLinks applies the link mode to every link in the text, so that
// no client turns one into a clickable link unless the policy keeps it,
// and even then only a web link. A defanged link's host is scanned again
// in place, so that a link that starts inside it ("\\\\smb:x",
// "//x:／／host") is found with what follows it.
func transformLinks(text, mode string) string {
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
			case m[8] >= 0 && inertSchemes[scheme]: // hxxps://: defanged already
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

// defang rewrites every link in s so that it reads the same but no client
// links it.
func defang(s string) string { return transformLinks(s, policy.LinksDefang) }

// defangPrefix rewrites the scheme and separator of a link as readable
// text no client links: hxxps://, smb[:]//, ms-msdt[:], [\]\, [/]/;
// transformLinks then writes the host with its dots bracketed
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

// enrichedToText renders text/enriched (RFC 1896): formatting commands
// dropped, <param> contents dropped, "<<" is "<", and in filled text one
// line break is a space while n breaks are n-1.
func enrichedToText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	nofill := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '<' && strings.HasPrefix(s[i:], "<<"):
			b.WriteByte('<')
			i++
		case c == '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return b.String()
			}
			tag := strings.ToLower(s[i+1 : i+end])
			i += end
			switch tag {
			case "nofill":
				nofill++
			case "/nofill":
				nofill = max(0, nofill-1)
			case "param":
				if close := strings.Index(strings.ToLower(s[i:]), "</param>"); close >= 0 {
					i += close + len("</param>") - 1
				}
			}
		case c == '\n' && nofill == 0:
			n := 1
			for i+1 < len(s) && s[i+1] == '\n' {
				n++
				i++
			}
			if n == 1 {
				b.WriteByte(' ')
			} else {
				b.WriteString(strings.Repeat("\n", n-1))
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
