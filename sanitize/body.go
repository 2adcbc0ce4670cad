package sanitize

import (
	"strings"

	"golang.org/x/net/html/charset"

	"mugai/policy"
)

// assignRoles marks which leaves make up the body, which are unused
// alternatives of it, and which are attachments (everything else).
func assignRoles(root *node) {
	for _, l := range root.leaves() {
		l.role = policy.RoleAttachment
	}
	pickBody(root, true)
}

// bodyCandidate reports whether a leaf can be read as body text.
func bodyCandidate(n *node) bool {
	return n.problem == "" && !n.isMultipart() &&
		(n.declared == "text/plain" || n.declared == "text/html") &&
		n.disposition != "attachment" && n.filename == ""
}

// pickBody finds the body inside n and, when mark is set, marks it. It
// reports whether n holds a body.
func pickBody(n *node, mark bool) bool {
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
		chosen := -1
		for i, c := range n.children { // a real text/plain version first
			if bodyCandidate(c) && c.declared == "text/plain" && strings.TrimSpace(string(c.body)) != "" {
				chosen = i
				break
			}
		}
		if chosen < 0 { // else the richest (last) version that holds a body
			for i := len(n.children) - 1; i >= 0; i-- {
				if pickBody(n.children[i], false) {
					chosen = i
					break
				}
			}
		}
		if chosen < 0 {
			return false
		}
		if mark {
			pickBody(n.children[chosen], true)
			for i, c := range n.children {
				if i == chosen {
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
		return root != nil && pickBody(root, mark)
	}
	found := false
	for _, c := range n.children {
		if !found {
			found = pickBody(c, mark)
			continue
		}
		// Text after the body (a list footer, a second text block) is body too.
		if mark && bodyCandidate(c) {
			c.role = policy.RoleBody
		}
	}
	return found
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

// renderBody turns one body leaf into text, returning the reason to record
// and a human detail.
func renderBody(n *node) (text, reason, detail string) {
	cs := n.params["charset"]
	if n.declared == "text/html" {
		if cs == "" {
			if _, name, certain := charset.DetermineEncoding(n.body, "text/html"); certain {
				cs = name
			}
		}
		s, res := decodeText(n.body, cs)
		t, hidden := htmlToText([]byte(s))
		reason = policy.ReasonHTMLConverted
		if hidden > 0 {
			detail = pluralDetail(hidden, "hidden element not shown", "hidden elements not shown")
		}
		if r := decodeReason(res); r != "" {
			reason = r
		}
		return t, reason, detail
	}
	s, res := decodeText(n.body, cs)
	reason = policy.ReasonBodyText
	if r := decodeReason(res); r != "" {
		reason = r
		detail = "charset " + cs
	}
	return plainText(s), reason, detail
}

func decodeReason(r decodeResult) string {
	switch r {
	case decodedLossy:
		return policy.ReasonUndecodableText
	case decodedUnknown:
		return policy.ReasonUnknownCharset
	}
	return ""
}

func pluralDetail(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

// plainText normalises a text/plain body: LF line ends, no control
// characters but tab, no zero-width characters, no trailing blank lines.
func plainText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || isInvisible(r):
			return -1
		}
		return r
	}, s)
	return strings.TrimRight(s, "\n ")
}
