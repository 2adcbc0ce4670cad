package sanitize

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"

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
	reason     string // for the part's decision
	detail     string
	hidden     int      // hidden elements and invisible characters left out
	mismatches []string // "shows X, leads to Y"
	embedded   []string // files written as text into the body, removed
}

// renderBody turns one body leaf into text with the given link mode; the
// text is at most maxText bytes.
func renderBody(n *node, links string, maxText int) rendered {
	cs := n.params["charset"]
	if n.declared == "text/html" && cs == "" {
		// A BOM or <meta charset>; windows-1252 is what the prescan
		// falls back to when it finds nothing.
		if _, name, certain := charset.DetermineEncoding(n.body, "text/html"); certain || name != "windows-1252" {
			cs = name
		}
	}
	s, res, used := decodeText(n.body, cs)
	var r rendered
	if isTNEF(n) {
		text, _ := tnefText(n.body)
		r.text, r.hidden = plainText(text)
		r.text, r.embedded = stripEmbeddedFiles(r.text)
		r.text = transformLinks(r.text, links)
		r.reason, r.detail = policy.ReasonTNEFBody, "text body taken from winmail.dat; the rest of it removed"
		return r
	}
	switch n.declared {
	case "text/html":
		r = htmlToText([]byte(s), links)
		r.reason = policy.ReasonHTMLConverted
	case "text/enriched", "text/richtext":
		r.text, r.hidden = plainText(enrichedToText(s))
		r.reason = policy.ReasonBodyText
	case "text/rtf", "application/rtf":
		r.text, r.hidden = plainText(rtfToText(n.body))
		r.reason, res = policy.ReasonBodyText, decodedClean // RTF carries its own charsets
	default:
		r.text, r.hidden = plainText(s)
		r.reason = policy.ReasonBodyText
	}
	r.text, r.embedded = stripEmbeddedFiles(r.text)
	r.text = transformLinks(r.text, links)
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
	return r
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

var urlPattern = regexp.MustCompile(`(?i)\b(?:https?|ftp)://[^\s<>"'（）「」『』【】、。]+|\bwww\.[a-z0-9-]+(?:\.[a-z0-9-]+)+[^\s<>"'（）「」『』【】、。]*`)

// transformLinks applies the link mode to every URL in the text, so that
// no client turns one into a clickable link unless the policy keeps links.
func transformLinks(text, mode string) string {
	switch {
	case mode == policy.LinksKeep, !mayHoldURL(text):
		return text
	}
	switch mode {
	case policy.LinksRemove:
		return urlPattern.ReplaceAllString(text, "[リンク削除 link removed]")
	}
	return urlPattern.ReplaceAllStringFunc(text, defang)
}

// mayHoldURL reports whether urlPattern could match: every match holds
// "://" or "www." (in any case). It spares the regexp most bodies.
func mayHoldURL(text string) bool {
	if strings.Contains(text, "://") {
		return true
	}
	for i := 3; i < len(text); i++ {
		if text[i] == '.' && text[i-1]|0x20 == 'w' && text[i-2]|0x20 == 'w' && text[i-3]|0x20 == 'w' {
			return true
		}
	}
	return false
}

// defang rewrites a URL so that it reads the same but no client links it:
// hxxps://example[.]com/path.
func defang(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		scheme, rest = "", u
	}
	hostEnd := strings.IndexAny(rest, "/?#")
	if hostEnd < 0 {
		hostEnd = len(rest)
	}
	host := strings.ReplaceAll(rest[:hostEnd], ".", "[.]")
	switch strings.ToLower(scheme) {
	case "http":
		scheme = "hxxp"
	case "https":
		scheme = "hxxps"
	case "ftp":
		scheme = "fxp"
	}
	if scheme != "" {
		scheme += "://"
	}
	return scheme + host + rest[hostEnd:]
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
