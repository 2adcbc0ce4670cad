package sanitize

import (
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"mugai/policy"
	"mugai/sanitize/detect"
	"mugai/sanitize/format"
	"mugai/sanitize/text"
)

// noticeItem is one changed or removed part, as the notice lists it.
type noticeItem struct {
	decision  policy.Decision
	rule      policy.Rule
	notes     []format.Note // what was done, for staff (the decision's detail is for the audit)
	display   string        // name to show instead of the filename (archive members)
	auditOnly bool          // recorded, but listed in a nested message's own notice
}

const noticeRule = "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━"

// noticeWriter writes the notice's lines: Japanese first, the English
// after it when the policy's notice_languages has it.
type noticeWriter struct {
	b  *strings.Builder
	en bool
}

// pair writes a Japanese line and, when English is on, its English one.
func (w noticeWriter) pair(ja, en string) {
	w.b.WriteString(ja + "\n")
	if w.en && en != "" {
		w.b.WriteString(en + "\n")
	}
}

// line is "ja en" on one line (a short heading or statement), or ja
// alone.
func (w noticeWriter) line(ja, en string) string {
	if w.en {
		return ja + " " + en
	}
	return ja
}

// both is "ja / en", or ja alone (also when both say the same).
func (w noticeWriter) both(ja, en string) string {
	if w.en && ja != en {
		return ja + " / " + en
	}
	return ja
}

// composeText puts the notice (Japanese first, English after it) above
// the body text, or below it when the policy says so.
func composeText(opts policy.Body, env Envelope, items []noticeItem, body string, hasBody bool) string {
	var b strings.Builder
	w := noticeWriter{b: &b, en: opts.NoticeEN()}
	if opts.Notice == policy.NoticeBottom && body != "" {
		b.WriteString(body + "\n\n")
	}
	b.WriteString(noticeRule + "\n")
	b.WriteString(w.line("【無害化処理のお知らせ】", "Sanitization notice") + "\n")
	writeLosses(w, items)
	if t := opts.NoticeText; t.JA != "" {
		w.pair(strings.TrimRight(t.JA, "\n"), strings.TrimRight(t.EN, "\n"))
	} else {
		b.WriteString("このメールはインターネットから届いたため、市の情報セキュリティポリシー（無害化通信）に基づき、\n")
		w.pair("本文をテキストに変換し、添付ファイル等を処理してから配送しました。",
			"This mail came from the Internet. Under the city's security policy (sanitized\n"+
				"communication) its body was converted to plain text and its attachments were\n"+
				"processed before delivery.")
	}
	if len(items) == 0 {
		b.WriteString("\n" + w.line("変更・削除した部分はありません。", "Nothing was changed or removed.") + "\n")
	} else {
		b.WriteString("\n" + w.both("処理した部分", "Parts changed or removed") + ":\n")
		for _, it := range items {
			it.write(w)
		}
	}
	if !hasBody {
		b.WriteString("\n" + w.line("本文として表示できる部分がありませんでした。", "The mail had no body text that could be shown.") + "\n")
	}
	if env.ID != "" && !env.Nested {
		b.WriteString("\n" + w.both("原本保管番号", "Original kept as") + ": " + env.ID + "\n")
		if env.Portal != "" && len(items) > 0 {
			// Ours, not the sender's: the one link of the body left live.
			w.pair("原本や削除された添付ファイルが必要な場合は、次のページから申請できます（原本の保管期間中有効）。",
				"To ask for the original or a removed attachment, open this page (valid while the original is kept):")
			if hasEncryptedArchive(items) {
				w.pair("パスワード付き ZIP は、このページでパスワードを入力すると、中のファイルを無害化して受け取れます。",
					"A password-protected ZIP can be opened there with its password: its files are sanitized and mailed to you.")
			}
			b.WriteString(env.Portal + "\n")
		} else {
			w.pair("原本が必要な場合は、この番号を添えてシステム管理者に連絡してください。",
				"If you need the original, ask the mail administrator and quote this number.")
		}
	}
	b.WriteString(noticeRule + "\n")
	if body != "" && opts.Notice != policy.NoticeBottom {
		b.WriteString("\n" + body + "\n")
	}
	return b.String()
}

// writeLosses puts what staff do not get at all (pages left out by the
// page limit) at the top of the notice, where it cannot be missed.
func writeLosses(w noticeWriter, items []noticeItem) {
	for _, it := range items {
		for _, n := range it.notes {
			if n.Loss {
				name := it.name(w)
				w.pair("⚠ "+name+": "+n.JA, "⚠ "+name+": "+n.EN)
			}
		}
	}
}

// hasEncryptedArchive: an item is a top-level ZIP removed because it is
// encrypted, which the portal can unlock.
func hasEncryptedArchive(items []noticeItem) bool {
	for _, it := range items {
		if it.decision.Reason == policy.ReasonEncryptedArchive && !strings.Contains(it.decision.Path, "/") {
			return true
		}
	}
	return false
}

// writeItem writes one item in both languages (tests of the wording).
func writeItem(b *strings.Builder, it noticeItem) {
	it.write(noticeWriter{b: b, en: true})
}

// findingDetail is what a finding about the body names, safe to show: a
// misleading link's shown and real hosts in Japanese (the audit keeps the
// renderer's English "shows A, leads to B"), a file written into the text
// as its encoding and name.
func findingDetail(w noticeWriter, d policy.Decision) string {
	if rest, ok := strings.CutPrefix(d.Detail, "shows "); ok && d.Reason == policy.ReasonLinkMismatch {
		if shown, target, ok := strings.Cut(rest, ", leads to "); ok {
			return w.both(noticeSafe("表示: "+shown+" → 実際の行き先: "+target), noticeSafe(d.Detail))
		}
	}
	return noticeSafe(d.Detail)
}

// name is what the item calls its part: the filename, the archive
// member's name, or what the part is; safe to show.
func (it noticeItem) name(w noticeWriter) string {
	name := it.decision.Filename
	if it.display != "" {
		name = it.display
	}
	if name == "" {
		ja, en := partLabel(it.decision)
		return w.both(ja, en)
	}
	// Everything below that comes from the mail is made safe to show:
	// one line, no invisible characters, no live links, bounded.
	return noticeSafe(name)
}

// footnote is the rule and clause that decided, and (withPath) the
// part's path:
// at the end of the item, out of the way.
func (it noticeItem) footnote(w noticeWriter, withPath bool) string {
	d := it.decision
	if !withPath {
		d.Path = "" // the body, a finding in it: its path says nothing to staff
	}
	if w.en {
		s := "（規則 rule: " + it.rule.ID + "、条項 clause: " + it.rule.Clause
		if d.Path != "" {
			s += "、部分 part: " + noticeSafe(d.Path)
		}
		return s + "）"
	}
	s := "（規則: " + it.rule.ID + "、条項: " + it.rule.Clause
	if d.Path != "" {
		s += "、部分: " + noticeSafe(d.Path)
	}
	return s + "）"
}

func (it noticeItem) write(w noticeWriter) {
	d := it.decision
	b := w.b
	ja, en := d.Action.Label()
	switch {
	case d.Reason == policy.ReasonHiddenText || d.Reason == policy.ReasonLinkMismatch || d.Reason == policy.ReasonEmbeddedFile:
		// Warnings about the body: what was found matters more than the part.
		b.WriteString("・⚠ " + it.rule.Reason.JA + "\n")
		if w.en {
			b.WriteString("    " + it.rule.Reason.EN + "\n")
		}
		if d.Reason == policy.ReasonLinkMismatch || d.Reason == policy.ReasonEmbeddedFile {
			b.WriteString("    （" + findingDetail(w, d) + "）\n")
		}
		b.WriteString("    " + it.footnote(w, false) + "\n")
		return
	case d.Reason == policy.ReasonAlternativeUnused && len(it.notes) > 0:
		// Every HTML newsletter has one: what was used and what was not.
		it.writeNotes(w, "・", "    ")
		b.WriteString("    " + it.footnote(w, false) + "\n")
		return
	case d.Action == policy.ActionTextify:
		b.WriteString("・" + it.name(w) + " → " + w.both(ja, en) + it.footnote(w, false) + "\n")
		if d.Reason == policy.ReasonBodyLimit {
			w.indented(bodyLimitText(noticeSafe(d.Detail)))
		} else if d.Reason != policy.ReasonHTMLConverted {
			extra := d.Reason.Notice()
			w.indented(extra.JA, extra.EN)
		}
		return
	}
	k := decidedKind(d.DetectedType, d.DeclaredType)
	if d.Reason == policy.ReasonDangerousType && strings.HasPrefix(d.Detail, "named ") {
		k = kind{"実行ファイル等の名前", "named as a program"} // whatever the bytes are, the name makes it run
	}
	fmt.Fprintf(b, "・%s（%s、%s）→ %s\n", it.name(w), w.both(k.ja, k.en), humanSize(d.Size), w.both(ja, en))
	it.writeNotes(w, "    ", "    ")
	b.WriteString("    " + it.footnote(w, true) + "\n")
}

// indented writes a pair of lines under an item.
func (w noticeWriter) indented(ja, en string) {
	if ja != "" {
		w.pair("    "+ja, "    "+en)
	}
}

// writeNotes writes what the item says about its part, Japanese lines
// first, English after them: the reason's own words, the rule's reason
// (when the rule's action is what was done: a rule that asked for more
// than could be done says nothing true), the sanitizer's notes (⚠ for
// what was lost), and a name changed to fit the content. first prefixes
// the first Japanese line, indent the others.
func (it noticeItem) writeNotes(w noticeWriter, first, indent string) {
	d := it.decision
	var ja, en []string
	add := func(j, e string) {
		if j != "" {
			ja, en = append(ja, j), append(en, e)
		}
	}
	extra := d.Reason.Notice()
	add(extra.JA, extra.EN)
	ruleSays := it.rule.Action == d.Action && d.Reason != policy.ReasonAlternativeUnused &&
		!(it.rule.ID == policy.RuleEncrypted.ID && extra.JA != "") // a PPAP ZIP: said once, by its reason
	if ruleSays {
		add(it.rule.Reason.JA, it.rule.Reason.EN)
	}
	for _, n := range it.notes {
		if n.Loss {
			add("⚠ "+n.JA, "⚠ "+n.EN)
		} else {
			add(n.JA, n.EN)
		}
	}
	if d.Delivered != "" && detect.Ext(d.Delivered) != detect.Ext(path.Base(d.Filename)) {
		as := noticeSafe(d.Delivered)
		add("添付名: "+as+"（ファイルの種類は名前ではなく内容から判定し、その種類の拡張子を付けました）",
			"Attached as: "+as+" (named for what the file was found to be, not for the name it came with)")
	}
	for i, l := range ja {
		p := indent
		if i == 0 {
			p = first
		}
		w.b.WriteString(p + l + "\n")
	}
	if !w.en {
		return
	}
	for _, l := range en {
		w.b.WriteString(indent + l + "\n")
	}
}

// noticeMaxRunes bounds every string from the mail shown in the notice.
const noticeMaxRunes = 200

// noticeSafe makes a string from the mail (a filename, an archive member's
// name, a declared type, a detail quoting the mail) safe to print in the
// notice: one line, every line or paragraph separator, control, format
// (zero-width, bidi, tag) and invalid character replaced by U+FFFD, links
// defanged as in bodies, and at most noticeMaxRunes runes (then "…").
func noticeSafe(s string) string {
	if len(s) > 4*noticeMaxRunes*utf8.UTFMax {
		s = s[:4*noticeMaxRunes*utf8.UTFMax] // bound the work; cut again below
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError, unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r),
			unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r), text.IsInvisible(r), text.IsBidiControl(r),
			r >= 0xe0000 && r <= 0xe007f, unicode.Is(unicode.Cs, r):
			return '\ufffd'
		}
		return r
	}, s)
	s = text.Defang(s)
	if utf8.RuneCountInString(s) > noticeMaxRunes {
		n := 0
		for i := range s {
			if n == noticeMaxRunes-1 {
				return s[:i] + "…"
			}
			n++
		}
	}
	return s
}

// bodyLimitText explains a body that hit a limit, from the detail
// renderBody wrote.
func bodyLimitText(detail string) (ja, en string) {
	var jas, ens []string
	if strings.Contains(detail, detailTooDeep) {
		jas = append(jas, "HTML の入れ子が深すぎるため、レイアウトを無視して文字だけを読み取りました。")
		ens = append(ens, "The HTML was nested too deeply to lay out; only its text was read.")
	}
	if i := strings.Index(detail, "text cut at "); i >= 0 {
		var n int
		if _, err := fmt.Sscanf(detail[i:], detailCut, &n); err == nil {
			jas = append(jas, fmt.Sprintf("本文が長すぎるため、先頭の %d バイトだけを表示し、以降を省略しました。", n))
			ens = append(ens, fmt.Sprintf("The body text was too long: it was cut after its first %d bytes.", n))
		}
	}
	if len(jas) == 0 {
		t := policy.ReasonBodyLimit.Notice()
		return t.JA, t.EN
	}
	return strings.Join(jas, ""), strings.Join(ens, " ")
}

// partLabel names a part that has no filename.
func partLabel(d policy.Decision) (ja, en string) {
	switch {
	case d.Reason == policy.ReasonTNEFBody:
		return "winmail.dat", "winmail.dat"
	case d.DeclaredType == "text/html":
		return "HTML 本文", "HTML body"
	case d.DeclaredType == detect.TypeCalendar:
		return "予定表の部分", "calendar part" // a meeting request's alternative
	case strings.HasPrefix(d.DeclaredType, "text/"):
		return "テキスト部分", "text part"
	case d.DeclaredType == "message/rfc822":
		return "転送・添付されたメール", "attached message"
	}
	return "名前のない部分", "unnamed part"
}

func humanSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
	}
}
