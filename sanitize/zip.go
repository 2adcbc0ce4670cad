package sanitize

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"mugai/policy"
	"mugai/sanitize/archive"
	"mugai/sanitize/detect"
	"mugai/sanitize/text"
)

// openZip rebuilds a ZIP: every member gets its own decision by the same
// rules (recursively, up to Limits.MaxArchiveDepth), and a new archive is written from
// the members that survive, with their rebuilt bytes. The members'
// decisions are the outcome's inner ones.
func (rb *Rebuilder) openZip(st *state, rule policy.Rule, f file, found policy.Decision) outcome {
	lim := rb.Limits.withDefaults()
	if f.depth >= lim.MaxArchiveDepth {
		return stripped(found, policy.RuleStructure, policy.ReasonDepthLimit, fmt.Sprintf("archive nested deeper than %d", lim.MaxArchiveDepth))
	}
	al, ok := rb.archiveLimits(st)
	if !ok {
		return stripped(found, policy.RuleSanitizeFailed, policy.ReasonSanitizeFailed, "the message's archive budget is used up")
	}
	members, err := archive.Read(f.body, al)
	switch {
	case st.stop(err):
		return aborted()
	case errors.Is(err, archive.ErrEncrypted):
		return stripped(found, policy.RuleEncrypted, policy.ReasonEncryptedArchive, err.Error())
	case err != nil:
		return stripped(found, policy.RuleSanitizeFailed, policy.ReasonSanitizeFailed, err.Error())
	}
	st.members -= len(members)
	kept, items, ok := rb.decideMembers(st, f, found.MsgID, members)
	if !ok {
		return aborted()
	}
	if len(kept) == 0 {
		return stripped(found, rule, policy.ReasonNothingLeft, fmt.Sprintf("none of its %d members could be kept", len(members))).holding(items)
	}
	rebuilt := make([]archive.Member, len(kept))
	for i, k := range kept {
		rebuilt[i] = archive.Member{Name: k.path, Data: k.att.data, Modified: k.modified}
	}
	var buf bytes.Buffer
	if err := archive.Write(&buf, rebuilt); err != nil {
		return stripped(found, policy.RuleSanitizeFailed, policy.ReasonSanitizeFailed, err.Error()).holding(items)
	}
	if detect.Detect(buf.Bytes(), "", nil).Has(policy.FlagPolyglot) {
		// Deflated members put no "%PDF-" where a PDF reader looks; if
		// they ever did, the archive is not delivered.
		return stripped(found, policy.RuleSanitizeFailed, policy.ReasonSanitizeFailed, "the rebuilt archive would also open as a PDF").holding(items)
	}
	return decided(found, rule, rule.Action, policy.ReasonDisarmed, fmt.Sprintf("archive rebuilt: %d of %d members kept", len(kept), len(members))).
		holding(items).attaching(&attachment{name: f.filename, ctype: "application/zip", data: buf.Bytes()})
}

// rebuildEndsPolyglot reports a polyglot that the rule's action ends: a
// ZIP well-formed from its first byte that a PDF reader would also open
// (a PDF stored uncompressed as its first member, detect's zipfile.go)
// is opened and written anew by disarm, deflated and with its members
// rebuilt, so that what is delivered is only a ZIP. Any other action
// (keep above all) would deliver or read the original bytes: the
// polyglot verdict stands.
func rebuildEndsPolyglot(id detect.Result, rule policy.Rule) bool {
	return id.Type == detect.TypeZIP && rule.Action == policy.ActionDisarm
}

// archiveLimits are the limits of the next archive the message opens:
// what is left of the message's members and expansion budget (taken on
// the declared sizes before anything is inflated). ok is false when
// nothing is left.
func (rb *Rebuilder) archiveLimits(st *state) (al archive.Limits, ok bool) {
	al = archive.Limits{MaxTotal: rb.Limits.withDefaults().MaxArchiveBytes, MaxMembers: min(archive.DefaultLimits.MaxMembers, st.members)}
	if left := st.budget.Left(); left >= 0 {
		al.MaxTotal = min(al.MaxTotal, left)
	}
	al.Budget = st.budget
	return al, al.MaxMembers > 0 && al.MaxTotal > 0
}

// keptMember is an archive member that survives: its rebuilt file, its
// path in a rebuilt archive (the cleaned folders and the file's rebuilt
// name) and its time.
type keptMember struct {
	att      attachment
	path     string
	modified time.Time
}

// decideMembers decides each member of an archive as an attachment of its
// own and returns the members to keep (with their rebuilt bytes, under
// cleaned folders) and every decision made, in order. ok is false when
// the rebuild was stopped.
func (rb *Rebuilder) decideMembers(st *state, f file, msgID string, members []archive.Member) (kept []keptMember, items []noticeItem, ok bool) {
	for i, m := range members {
		name := memberName(m)
		mf := file{path: fmt.Sprintf("%s/%d", f.path, i+1), filename: path.Base(name), filenames: []string{path.Base(name)},
			body: m.Data, size: int64(len(m.Data)), depth: f.depth + 1, level: f.level}
		found := policy.Decision{MsgID: msgID, Path: mf.path, Filename: name, Size: mf.size, SHA256: sha256Hex(m.Data)}
		o := rb.attachment(st, mf, found)
		if st.abort != nil {
			return nil, nil, false
		}
		it := o.item()
		it.display = displayName(f.filename) + " › " + name
		items = append(items, it)
		items = append(items, o.inner...)
		if o.att != nil {
			newName := o.att.name
			if dir := safeDir(path.Dir(name)); dir != "" {
				newName = dir + "/" + o.att.name
			}
			kept = append(kept, keptMember{att: *o.att, path: newName, modified: m.Modified})
		}
	}
	return kept, items, true
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
