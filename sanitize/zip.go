package sanitize

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"mugai/policy"
	"mugai/sanitize/archive"
	"mugai/sanitize/text"
)

// ArchiveLimits bound one archive; see archive.Limits.
type ArchiveLimits struct {
	MaxDepth int // archives inside archives; default 3
	archive.Limits
}

func (l ArchiveLimits) withDefaults() ArchiveLimits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = 3
	}
	if l.MaxTotal <= 0 {
		l.MaxTotal = 256 << 20
	}
	return l
}

// openZip rebuilds a ZIP: every member gets its own decision by the same
// rules (recursively, up to MaxDepth), and a new archive is written from
// the members that survive, with their rebuilt bytes. Member decisions
// are left in st.pending for the caller.
func (rb *Rebuilder) openZip(st *state, rule policy.Rule, f file, d *policy.Decision) (policy.Rule, *attachment) {
	lim := rb.ArchiveLimits.withDefaults()
	fail := func(r policy.Rule, reason, detail string) (policy.Rule, *attachment) {
		d.Action, d.RuleID, d.Clause, d.Reason, d.Detail = policy.ActionStrip, r.ID, r.Clause, reason, detail
		return r, nil
	}
	if f.depth >= lim.MaxDepth {
		return fail(policy.RuleStructure, policy.ReasonDepthLimit, fmt.Sprintf("archive nested deeper than %d", lim.MaxDepth))
	}
	al := lim.Limits
	al.MaxTotal = lim.MaxTotal
	if left := st.budget.Left(); left >= 0 {
		al.MaxTotal = min(al.MaxTotal, left)
	}
	al.MaxMembers = min(max(al.MaxMembers, 1000), st.members)
	if al.MaxMembers <= 0 || al.MaxTotal <= 0 {
		return fail(policy.RuleSanitizeFailed, policy.ReasonSanitizeFailed, "the message's archive budget is used up")
	}
	al.Budget = st.budget // the declared sizes are taken before anything is inflated
	members, err := archive.Read(f.body, al)
	switch {
	case st.stop(err):
		return rule, nil
	case errors.Is(err, archive.ErrEncrypted):
		return fail(policy.RuleEncrypted, policy.ReasonEncryptedArchive, err.Error())
	case err != nil:
		return fail(policy.RuleSanitizeFailed, policy.ReasonSanitizeFailed, err.Error())
	}
	st.members -= len(members)
	var kept []archive.Member
	var items []noticeItem
	for i, m := range members {
		name := memberName(m)
		mf := file{path: fmt.Sprintf("%s/%d", f.path, i+1), filename: path.Base(name), filenames: []string{path.Base(name)},
			body: m.Data, size: int64(len(m.Data)), depth: f.depth + 1, level: f.level}
		md := policy.Decision{MsgID: d.MsgID, Path: mf.path, Filename: name, Size: mf.size, SHA256: sha256Hex(m.Data)}
		mrule, att, sub := rb.attachment(st, mf, &md)
		if st.abort != nil {
			return rule, nil
		}
		items = append(items, noticeItem{decision: md, rule: mrule, display: displayName(f.filename) + " › " + name})
		items = append(items, sub...)
		if att != nil {
			newName := att.name
			if dir := safeDir(path.Dir(name)); dir != "" {
				newName = dir + "/" + att.name
			}
			kept = append(kept, archive.Member{Name: newName, Data: att.data, Modified: m.Modified})
		}
	}
	st.pending = append(st.pending, items...)
	if len(kept) == 0 {
		d.Action, d.RuleID, d.Clause, d.Reason = policy.ActionStrip, rule.ID, rule.Clause, policy.ReasonNothingLeft
		d.Detail = fmt.Sprintf("none of its %d members could be kept", len(members))
		return rule, nil
	}
	var buf bytes.Buffer
	if err := archive.Write(&buf, kept); err != nil {
		return fail(policy.RuleSanitizeFailed, policy.ReasonSanitizeFailed, err.Error())
	}
	d.Reason, d.Detail = policy.ReasonDisarmed, fmt.Sprintf("archive rebuilt: %d of %d members kept", len(kept), len(members))
	return rule, &attachment{name: f.filename, ctype: "application/zip", data: buf.Bytes()}
}

// memberName decodes a member name: UTF-8 when valid, else the legacy
// charset Japanese Windows writes (CP932), else what is readable.
func memberName(m archive.Member) string {
	if utf8.Valid(m.RawName) {
		return m.Name
	}
	s, _, _ := text.Decode(m.RawName, "shift_jis")
	return archive.CleanName(text.CleanLine(s))
}

// safeDir cleans the folders of a member's path as names are cleaned, and
// takes out what makes a folder more than a folder once extracted: braces
// (a "name.{CLSID}" folder is a shell junction) and trailing dots and
// spaces. "" for none.
func safeDir(dir string) string {
	if dir == "." || dir == "/" || dir == "" {
		return ""
	}
	var parts []string
	for _, p := range strings.Split(dir, "/") {
		p = strings.TrimRight(visibleName(strings.NewReplacer("{", "", "}", "").Replace(p)), ". ")
		if p != "" && p != ".." {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "/")
}

func displayName(s string) string {
	if s == "" {
		return "archive"
	}
	return s
}
