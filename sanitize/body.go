package sanitize

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"

	"mugai/policy"
	"mugai/sanitize/format"
	"mugai/sanitize/text"
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
		if l.problem == "" && text.IsTNEF(l.declared, l.body) {
			if _, ok := text.TNEFText(l.body); ok {
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
	s, _, _ := text.Decode(plain.body, plain.params["charset"])
	s = strings.TrimSpace(s)
	if s == "" {
		return true
	}
	if utf8.RuneCountInString(s) > 300 || !stubWords.MatchString(s) {
		return false
	}
	for _, l := range rich.leaves() {
		if l.declared == "text/html" {
			htmlText, _, _ := text.Decode(l.body, l.params["charset"])
			r := text.HTMLToText([]byte(htmlText), policy.LinksKeep)
			return 2*utf8.RuneCountInString(r.Text) > 3*utf8.RuneCountInString(s)
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

// renderedHTML is what the HTML renderer made of a body.
func renderedHTML(h text.Rendering) rendered {
	return rendered{text: h.Text, hidden: h.Hidden, mismatches: h.Mismatches, cut: h.Cut, tooDeep: h.TooDeep}
}

// renderBody turns one body leaf into text with the given link mode; the
// text is at most text.Limit(maxText, len(n.body)) bytes: a longer one is
// cut (the rendering stops growing at the limit) and says so, and r.reason
// and r.detail say what was cut.
func renderBody(n *node, links string, maxText int) rendered {
	return renderBodyWith(n, links, maxText, true)
}

// renderBodyWith is renderBody; without tree, HTML is read by the
// tokenizer (no parse tree: the memory of a large document is not there
// to be had), without its layout.
func renderBodyWith(n *node, links string, maxText int, tree bool) rendered {
	limit := text.Limit(maxText, len(n.body))
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
	if text.IsTNEF(n.declared, n.body) {
		s, _ := text.TNEFText(n.body)
		s, cut = text.Cut(s, limit)
		r.text, r.hidden = text.Normalize(s)
		r.text, r.embedded = text.StripEmbeddedFiles(r.text)
		r.reason, r.detail = policy.ReasonTNEFBody, "text body taken from winmail.dat; the rest of it removed"
		r.finish(links, limit, cut)
		return r
	}
	s, res, used := text.Decode(n.body, cs)
	switch n.declared {
	case "text/html":
		if tree {
			r = renderedHTML(text.HTMLToTextLimit([]byte(s), links, limit))
		} else {
			r = renderedHTML(text.HTMLTokensToText([]byte(s), links, limit))
		}
		r.reason = policy.ReasonHTMLConverted
	case "text/enriched", "text/richtext":
		s, cut = text.Cut(s, limit)
		r.text, r.hidden = text.Normalize(text.EnrichedToText(s))
		r.reason = policy.ReasonBodyText
	case "text/rtf", "application/rtf":
		r.text, cut = text.Cut(text.RTFToText(n.body), limit)
		r.text, r.hidden = text.Normalize(r.text)
		r.reason, res = policy.ReasonBodyText, text.DecodedClean // RTF carries its own charsets
	default:
		s, cut = text.Cut(s, limit)
		r.text, r.hidden = text.Normalize(s)
		r.reason = policy.ReasonBodyText
	}
	r.text, r.embedded = text.StripEmbeddedFiles(r.text)
	switch res {
	case text.DecodedMislabelled:
		r.reason, r.detail = policy.ReasonCharsetMislabelled, "declared "+orNone(cs)+", decoded as "+used
	case text.DecodedGuessed:
		r.reason, r.detail = policy.ReasonCharsetGuessed, "declared "+orNone(cs)+", decoded as "+used
	case text.DecodedLossy:
		r.reason, r.detail = policy.ReasonUndecodableText, "charset "+orNone(cs)
	case text.DecodedUnknown:
		r.reason, r.detail = policy.ReasonUnknownCharset, "charset "+orNone(cs)
	}
	r.finish(links, limit, cut)
	return r
}

// finish applies the link mode and the size limit, and records a limit
// that was hit (the text cut, or HTML too deep to lay out) as the reason,
// the other findings staying in the detail.
func (r *rendered) finish(links string, limit int, cut bool) {
	r.text = text.TransformLinks(r.text, links)
	var cut2 bool
	r.text, cut2 = text.Cut(r.text, limit-len(cutMark))
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

// alternativeNote says what became of a version of the body that was not
// used: which version was used instead, and what this one was ("HTML 版を
// 使用し、テキスト版は省略しました"), from the parts themselves.
func alternativeNote(root, leaf *node) format.Note {
	dropJA, dropEN := versionName(leaf)
	used := chosenVersion(root, leaf)
	if used == nil {
		return format.Note{JA: "本文の別の形式（" + dropJA + "）は省略しました。",
			EN: "Another version of the body (the " + dropEN + ") was left out."}
	}
	useJA, useEN := versionName(used)
	return format.Note{JA: useJA + "を使用し、" + dropJA + "は省略しました。",
		EN: "The " + useEN + " was used; the " + dropEN + " was left out."}
}

// versionName names a version of the body for staff.
func versionName(n *node) (ja, en string) {
	switch n.declared {
	case "text/plain":
		return "テキスト版", "text version"
	case "text/html":
		return "HTML 版", "HTML version"
	case "text/enriched", "text/richtext", "text/rtf", "application/rtf":
		return "リッチテキスト版", "rich text version"
	}
	k := kindOf(n.declared)
	return k.ja + "の部分", k.en + " part"
}

// chosenVersion returns the leaf used as the body in the innermost
// multipart/alternative holding leaf, or nil.
func chosenVersion(root, leaf *node) *node {
	var chain []*node // root … leaf's parent
	var find func(n *node) bool
	find = func(n *node) bool {
		if n == leaf {
			return true
		}
		if !n.isMultipart() {
			return false
		}
		chain = append(chain, n)
		for _, c := range n.children {
			if find(c) {
				return true
			}
		}
		chain = chain[:len(chain)-1]
		return false
	}
	if !find(root) {
		return nil
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if chain[i].declared != "multipart/alternative" {
			continue
		}
		for _, l := range chain[i].leaves() {
			if l.role == policy.RoleBody {
				return l
			}
		}
		return nil
	}
	return nil
}
