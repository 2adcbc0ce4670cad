package text

import (
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/net/html"

	"mugai/policy"
)

// link renders an a element: its text, then where it leads when the text
// does not already say so; a text naming another host is reported.
func (r *htmlRenderer) link(w *textBuilder, n *html.Node) {
	href := attr(n, "href")
	target := linkTarget(href, r.links)
	if r.deep() { // nested too deep to render the text apart
		r.children(w, n)
		if target != "" {
			w.inline(" <" + target + "> ")
		}
		return
	}
	text := r.sub(n)
	r.checkLink(text, href)
	if text == "" && target == "" {
		return
	}
	switch {
	case target == "":
		w.inline(text)
	case text == "" || sameLink(text, target):
		w.inline(target)
	default:
		if strings.Contains(text, "\n") {
			w.raw(text)
		} else {
			w.inline(text)
		}
		w.inline(" <" + target + "> ")
	}
}

// linkTarget is what the text shows of where a link leads: the address of
// a mailto: link; the URL of a link with a scheme, a UNC path or a
// network path (//host), which TransformLinks then defangs or removes as
// the mode says; nothing for script and data URLs, in-page and relative
// links, nor (in remove mode) for anything but mail addresses. Tabs and
// line breaks inside are dropped, as browsers drop them.
func linkTarget(href, mode string) string {
	href = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, href)
	href = strings.TrimFunc(href, func(r rune) bool { return r <= ' ' })
	lower := strings.ToLower(href)
	var target string
	switch {
	case strings.HasPrefix(lower, "javascript:"), strings.HasPrefix(lower, "vbscript:"), strings.HasPrefix(lower, "data:"):
	case strings.HasPrefix(lower, "mailto:"):
		target = strings.SplitN(href[len("mailto:"):], "?", 2)[0]
		return CleanLine(target)
	case mode == policy.LinksRemove:
	case hasScheme.MatchString(lower), strings.HasPrefix(lower, `\\`):
		target = href
	case len(lower) > 2 && strings.ContainsRune(`/\`, rune(lower[0])) && strings.ContainsRune(`/\`, rune(lower[1])):
		target = "//" + href[2:] // a network path: //host/…
	}
	return CleanLine(target)
}

// hasScheme matches a URL that starts with a scheme.
var hasScheme = regexp.MustCompile(`^[a-z][a-z0-9+.\-]*:`)

var hostLike = regexp.MustCompile(`(?i)^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,})(?:[:/?#]\S*)?$`)

// checkLink records a link whose visible text is a URL or host name that
// differs from where the link leads: the classic phishing link.
func (r *htmlRenderer) checkLink(text, href string) {
	shown := hostLike.FindStringSubmatch(strings.TrimSpace(text))
	target, err := url.Parse(strings.TrimSpace(href))
	if shown == nil || err != nil || target.Hostname() == "" {
		return
	}
	a := strings.TrimPrefix(strings.ToLower(shown[1]), "www.")
	b := strings.TrimPrefix(strings.ToLower(target.Hostname()), "www.")
	if a == b || strings.HasSuffix(a, "."+b) || strings.HasSuffix(b, "."+a) {
		return
	}
	if len(r.mismatches) < 20 {
		r.mismatches = append(r.mismatches, "shows "+a+", leads to "+b)
	}
}

// sameLink reports whether the visible text already is the target.
func sameLink(text, target string) bool {
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		for _, p := range []string{"mailto:", "https://", "http://"} {
			s = strings.TrimPrefix(s, p)
		}
		return strings.TrimSuffix(s, "/")
	}
	return norm(text) == norm(target)
}
