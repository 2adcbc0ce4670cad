package sanitize

import (
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"mugai/policy"
	"mugai/sanitize/detect"
	"mugai/sanitize/text"
)

// noticeItem is one changed or removed part, as the notice lists it.
type noticeItem struct {
	decision  policy.Decision
	rule      policy.Rule
	display   string // name to show instead of the filename (archive members)
	auditOnly bool   // recorded, but listed in a nested message's own notice
}

const noticeRule = "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━"

// composeText puts the notice (Japanese first, English beside it) above
// the body text, or below it when the policy says so.
func composeText(opts policy.Body, env Envelope, items []noticeItem, body string, hasBody bool) string {
	var b strings.Builder
	if opts.Notice == policy.NoticeBottom && body != "" {
		b.WriteString(body + "\n\n")
	}
	b.WriteString(noticeRule + "\n")
	b.WriteString("【無害化処理のお知らせ】 Sanitization notice\n")
	if t := opts.NoticeText; t.JA != "" {
		b.WriteString(strings.TrimRight(t.JA, "\n") + "\n")
		b.WriteString(strings.TrimRight(t.EN, "\n") + "\n")
	} else {
		b.WriteString("このメールはインターネットから届いたため、市の情報セキュリティポリシー（無害化通信）に基づき、\n")
		b.WriteString("本文をテキストに変換し、添付ファイル等を処理してから配送しました。\n")
		b.WriteString("This mail came from the Internet. Under the city's security policy (sanitized\n")
		b.WriteString("communication) its body was converted to plain text and its attachments were\n")
		b.WriteString("processed before delivery.\n")
	}
	if len(items) == 0 {
		b.WriteString("\n変更・削除した部分はありません。 Nothing was changed or removed.\n")
	} else {
		b.WriteString("\n処理した部分 / Parts changed or removed:\n")
		for _, it := range items {
			writeItem(&b, it)
		}
	}
	if !hasBody {
		b.WriteString("\n本文として表示できる部分がありませんでした。 The mail had no body text that could be shown.\n")
	}
	if env.ID != "" && !env.Nested {
		b.WriteString("\n原本保管番号 / Original kept as: " + env.ID + "\n")
		if env.Portal != "" && len(items) > 0 {
			// Ours, not the sender's: the one link of the body left live.
			b.WriteString("原本や削除された添付ファイルが必要な場合は、次のページから申請できます（原本の保管期間中有効）。\n")
			b.WriteString("To ask for the original or a removed attachment, open this page (valid while the original is kept):\n")
			if hasEncryptedArchive(items) {
				b.WriteString("パスワード付き ZIP は、このページでパスワードを入力すると、中のファイルを無害化して受け取れます。\n")
				b.WriteString("A password-protected ZIP can be opened there with its password: its files are sanitized and mailed to you.\n")
			}
			b.WriteString(env.Portal + "\n")
		} else {
			b.WriteString("原本が必要な場合は、この番号を添えてシステム管理者に連絡してください。\n")
			b.WriteString("If you need the original, ask the mail administrator and quote this number.\n")
		}
	}
	b.WriteString(noticeRule + "\n")
	if body != "" && opts.Notice != policy.NoticeBottom {
		b.WriteString("\n" + body + "\n")
	}
	return b.String()
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

func writeItem(b *strings.Builder, it noticeItem) {
	d := it.decision
	name := d.Filename
	if it.display != "" {
		name = it.display
	}
	if name == "" {
		name = partLabel(d)
	}
	// Everything below that comes from the mail is made safe to show:
	// one line, no invisible characters, no live links, bounded.
	name = noticeSafe(name)
	d.Detail = noticeSafe(d.Detail)
	d.DeclaredType = noticeSafe(d.DeclaredType)
	d.Path = noticeSafe(d.Path)
	ja, en := d.Action.Label()
	switch {
	case d.Reason == policy.ReasonHiddenText || d.Reason == policy.ReasonLinkMismatch || d.Reason == policy.ReasonEmbeddedFile:
		// Warnings about the body: what was found matters more than the part.
		fmt.Fprintf(b, "・⚠ %s\n    %s\n", it.rule.Reason.JA, it.rule.Reason.EN)
		if d.Reason == policy.ReasonLinkMismatch || d.Reason == policy.ReasonEmbeddedFile {
			fmt.Fprintf(b, "    （%s）\n", d.Detail)
		}
		fmt.Fprintf(b, "    （規則 rule: %s、条項 clause: %s）\n", it.rule.ID, it.rule.Clause)
		return
	case d.Reason == policy.ReasonAlternativeUnused:
		// Every HTML newsletter has one: one line is enough.
		fmt.Fprintf(b, "・%s → %s / %s（テキスト版を使用 text version used; rule %s, clause %s）\n", name, ja, en, it.rule.ID, it.rule.Clause)
		return
	case d.Action == policy.ActionTextify:
		fmt.Fprintf(b, "・%s → %s / %s（rule %s, clause %s）\n", name, ja, en, it.rule.ID, it.rule.Clause)
		if d.Reason == policy.ReasonBodyLimit {
			extraJA, extraEN := bodyLimitText(d.Detail)
			fmt.Fprintf(b, "    %s\n    %s\n", extraJA, extraEN)
		} else if d.Reason != policy.ReasonHTMLConverted {
			extra := d.Reason.Notice()
			fmt.Fprintf(b, "    %s\n    %s\n", extra.JA, extra.EN)
		}
		return
	}
	kind := d.DeclaredType
	if kind == "" {
		kind = noticeSafe(d.DetectedType) // an archive member declares nothing: what it was found to be
	}
	fmt.Fprintf(b, "・%s（%s, %s, 部分 part %s）\n", name, orUnknown(kind), humanSize(d.Size), d.Path)
	fmt.Fprintf(b, "    → %s / %s\n", ja, en)
	if extra := d.Reason.Notice(); extra.JA != "" {
		fmt.Fprintf(b, "    %s\n    %s\n", extra.JA, extra.EN)
	}
	fmt.Fprintf(b, "    %s\n    %s\n", it.rule.Reason.JA, it.rule.Reason.EN)
	switch d.Reason {
	case policy.ReasonDisarmed, policy.ReasonFlattened, policy.ReasonExtracted:
		// Written by our sanitizers for people (what was removed, pages
		// dropped); error texts of failed parts stay in the audit log.
		if d.Detail != "" {
			fmt.Fprintf(b, "    処理内容 / what was done: %s\n", d.Detail)
		}
	}
	if d.Delivered != "" && detect.Ext(d.Delivered) != detect.Ext(path.Base(it.decision.Filename)) {
		fmt.Fprintf(b, "    添付名 / attached as: %s\n", noticeSafe(d.Delivered))
		b.WriteString("    ファイルの種類は名前ではなく内容から判定し、その種類の拡張子を付けました。\n")
		b.WriteString("    The file is named for what it was found to be, not for the name it came with.\n")
	}
	fmt.Fprintf(b, "    （規則 rule: %s、条項 clause: %s）\n", it.rule.ID, it.rule.Clause)
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
func partLabel(d policy.Decision) string {
	switch {
	case d.Reason == policy.ReasonTNEFBody:
		return "winmail.dat"
	case d.DeclaredType == "text/html":
		return "HTML 本文 / HTML body"
	case strings.HasPrefix(d.DeclaredType, "text/"):
		return "テキスト部分 / text part"
	case d.DeclaredType == "message/rfc822":
		return "転送・添付されたメール / attached message"
	}
	return "名前のない部分 / unnamed part"
}

func orUnknown(s string) string {
	if s == "" {
		return "種類不明 unknown type"
	}
	return s
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
