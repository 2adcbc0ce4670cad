package policy

import (
	"slices"
	"strings"
)

// Flag is a finding about a part that a rule can name in match.flags. The
// file flags are set by identification (sanitize/detect), hidden-text by
// the rebuild of a body; this is the one definition both use.
type Flag string

// The flags, as written in policy files.
const (
	// FlagEncrypted: an encrypted ZIP, Office or PDF file; its contents
	// cannot be inspected.
	FlagEncrypted Flag = "encrypted"
	// FlagMacro: a VBA project or Excel 4 macro sheets.
	FlagMacro Flag = "macro"
	// FlagDisguised: a name or declared type disagrees with the content.
	FlagDisguised Flag = "disguised"
	// FlagPolyglot: valid as two formats at once (a PDF with a ZIP inside).
	FlagPolyglot Flag = "polyglot"
	// FlagHiddenText is set on a body part whose HTML holds text a mail
	// client would not show (the phishing trick builtin-hidden-text
	// reports).
	FlagHiddenText Flag = "hidden-text"
)

// allFlags lists every flag in display order.
var allFlags = []Flag{FlagEncrypted, FlagMacro, FlagDisguised, FlagPolyglot, FlagHiddenText}

func joinFlags(fs []Flag) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

// NamesFlag reports whether the rule's match names the flag: then the
// policy, not a built-in check, decides parts that carry it.
func (r Rule) NamesFlag(f Flag) bool {
	return slices.Contains(r.Match.Flags, string(f))
}

// UsesFlag reports whether any rule matches on flag, so the rebuild only
// looks for what some rule will ask about.
func (p *Policy) UsesFlag(f Flag) bool {
	return slices.ContainsFunc(p.Rules, func(r Rule) bool { return r.NamesFlag(f) })
}
