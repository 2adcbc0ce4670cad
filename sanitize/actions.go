package sanitize

import (
	"regexp"
	"strconv"
	"strings"

	"mugai/policy"
	"mugai/sanitize/text"
)

// The X-Mugai-Actions field says what was done to a message, for the
// LGWAN side's mail rules (Postfix header_checks, Sieve) and for staff who
// sort by it, as m-FILTER's X-MAIL-SANITIZED does:
//
//	X-Mugai-Actions: textify; disarm=1; strip=2; links-defanged; warning=hidden-text
//
// Its value is tokens separated by "; ", from a fixed vocabulary, in a
// fixed order, computed from the message's decisions only: no filename,
// type, address or other text of the input ever reaches it. A token is a
// lower-case word, or a word, "=" and a count or a reason name:
//
//	textify          the body was converted to plain text (HTML, rich text, TNEF)
//	no-body          the message had no body text that could be shown
//	body-cut         the body text was cut at its size limit
//	keep=N … strip=N parts by action: attachments, archive members, files
//	                 written as text into the body, parts that could not be read
//	                 (keep, disarm, flatten, extract, strip; only those done)
//	links-defanged   the body holds links made unclickable (hxxps://, example[.]com)
//	links-removed    links of the body were replaced by a placeholder (the
//	                 address of an HTML link, which remove mode drops, is not seen)
//	warning=REASON   something found that staff are warned of (actionWarnings)
//	unchanged        none of the above: the text body was carried over as it was
//
// A forwarded message mugai rebuilds counts as one part of the message
// (disarm=1 or extract=1) and carries its own field, computed from its own
// parts: what is in it is said there, and in its own notice.
const actionsField = "X-Mugai-Actions"

// actionCounts are the actions counted, in the order they are written.
var actionCounts = []policy.Action{policy.ActionKeep, policy.ActionDisarm, policy.ActionFlatten, policy.ActionExtract, policy.ActionStrip}

// actionWarnings are the reasons written as warning=REASON, in order: the
// findings about a body the notice marks ⚠, and the reasons a part was
// removed as an attack or could not be opened.
var actionWarnings = []policy.Reason{
	policy.ReasonHiddenText, policy.ReasonLinkMismatch, policy.ReasonEmbeddedFile,
	policy.ReasonDangerousType, policy.ReasonTypeMismatch, policy.ReasonPolyglot, policy.ReasonHiddenContent,
	policy.ReasonEncryptedArchive, policy.ReasonEncrypted,
}

// defangMark finds what TransformLinks writes in place of a link's scheme
// and dots: hxxp://, hxxps://, fxp://, [:], [.], [\], [/].
var defangMark = regexp.MustCompile(`(?i)\b(?:hxxps?|fxp):|\[[.:/\\]\]`)

// removedMark is the placeholder TransformLinks writes for a removed link.
var removedMark = text.TransformLinks("https://a.example/", policy.LinksRemove)

// actionsValue computes the X-Mugai-Actions value of a message from what
// its notice lists (items: every part decided otherwise than as plain body
// text, and the findings), whether it has body text and that text (links
// already transformed).
func actionsValue(items []noticeItem, hasBody bool, body string) string {
	var (
		textify, cut bool
		counts       = map[policy.Action]int{}
		warned       = map[policy.Reason]bool{}
	)
	for _, it := range items {
		d := it.decision
		warned[d.Reason] = true
		switch {
		case d.Reason == policy.ReasonHiddenText, d.Reason == policy.ReasonLinkMismatch, d.Reason == policy.ReasonAlternativeUnused:
			// findings about the body, and the alternative not used: no part
		case d.Action == policy.ActionTextify:
			textify = textify || !strings.EqualFold(d.DeclaredType, "text/plain")
			cut = cut || d.Reason == policy.ReasonBodyLimit
		default:
			counts[d.Action]++
		}
	}
	var tokens []string
	if textify {
		tokens = append(tokens, "textify")
	}
	if !hasBody {
		tokens = append(tokens, "no-body")
	}
	if cut {
		tokens = append(tokens, "body-cut")
	}
	for _, a := range actionCounts {
		if n := counts[a]; n > 0 {
			tokens = append(tokens, string(a)+"="+strconv.Itoa(n))
		}
	}
	switch {
	case strings.Contains(body, removedMark):
		tokens = append(tokens, "links-removed")
	case defangMark.MatchString(body):
		tokens = append(tokens, "links-defanged")
	}
	for _, r := range actionWarnings {
		if warned[r] {
			tokens = append(tokens, "warning="+string(r))
		}
	}
	if len(tokens) == 0 {
		return "unchanged"
	}
	return strings.Join(tokens, "; ")
}
