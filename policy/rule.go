package policy

// Role is what a MIME leaf part is to the message, as the walker sees it.
type Role string

// The roles a rule can match.
const (
	// RoleBody is text that makes up the body staff read.
	RoleBody Role = "body"
	// RoleAlternative is another representation of the body that was not
	// chosen (the HTML of a multipart/alternative with a text part).
	RoleAlternative Role = "alternative"
	// RoleAttachment is everything else: files, inline images, nested
	// messages, calendar parts.
	RoleAttachment Role = "attachment"
)

var allRoles = []Role{RoleBody, RoleAlternative, RoleAttachment}

// allowedActions says which actions make sense for each role. Validate
// refuses a rule whose action does not fit every role it can match.
var allowedActions = map[Role][]Action{
	RoleBody:        {ActionTextify, ActionStrip},
	RoleAlternative: {ActionStrip},
	RoleAttachment:  {ActionKeep, ActionDisarm, ActionFlatten, ActionExtract, ActionStrip},
}

// Text is a human-readable string in Japanese and English.
type Text struct {
	JA string `yaml:"ja"`
	EN string `yaml:"en"`
}

// Rule is one entry of a policy. The first rule that matches a part decides.
type Rule struct {
	ID      string  `yaml:"id"`
	Clause  string  `yaml:"clause"`
	Match   Match   `yaml:"match"`
	Action  Action  `yaml:"action"`
	Reason  Text    `yaml:"reason"`
	Options Options `yaml:"options"`
	// Release says what staff may do, in the portal, about a part this
	// rule decided: ReleaseNever, ReleaseApproval (the default when
	// empty) or ReleaseSelf. See ReleaseMode.
	Release string `yaml:"release"`

	Line int `yaml:"-"` // where the rule starts in its file
}

// Release modes of a rule: what staff may ask for, in the portal, of the
// original of a part the rule decided.
const (
	ReleaseNever    = "never"    // only the admin's command releases it
	ReleaseApproval = "approval" // an approver decides each request
	ReleaseSelf     = "self"     // released at once to the asking recipient
)

var releaseModes = []string{ReleaseNever, ReleaseApproval, ReleaseSelf}

// ReleaseMode is the rule's release mode, ReleaseApproval when it names none.
func (r Rule) ReleaseMode() string {
	if r.Release == "" {
		return ReleaseApproval
	}
	return r.Release
}

// Built-in rules apply where the policy file has no say: structure the
// gateway cannot fully parse, and parts no rule matches. Both fail closed.
var (
	// RuleStructure removes parts beyond limits or with broken MIME.
	RuleStructure = Rule{
		ID: "builtin-structure", Clause: "2(13)", Action: ActionStrip, Release: ReleaseNever,
		Reason: Text{
			JA: "メールの構造を完全には解析できない部分は、安全のため削除しました。",
			EN: "A part whose structure could not be fully parsed was removed to be safe.",
		},
	}
	// RuleHiddenText records text in an HTML body that a mail client would
	// not show; it is left out of the rebuilt text.
	RuleHiddenText = Rule{
		ID: "builtin-hidden-text", Clause: "3(1)", Action: ActionStrip, Release: ReleaseNever,
		Reason: Text{
			JA: "HTML 本文に画面に表示されない文字列（フィッシングで使われる手口）があったため、取り除きました。",
			EN: "The HTML body held text that is not shown on screen (a phishing trick); it was left out.",
		},
	}
	// RuleLinkCheck records a link whose visible text names another host
	// than its target.
	RuleLinkCheck = Rule{
		ID: "builtin-link-check", Clause: "3(1)", Action: ActionTextify,
		Reason: Text{
			JA: "リンクの表示と実際の行き先が異なります。フィッシングの疑いがあります。",
			EN: "A link's visible text differs from where it leads. This may be phishing.",
		},
	}
	// RuleEmbeddedFile removes files written as text into a body.
	RuleEmbeddedFile = Rule{
		ID: "builtin-embedded-file", Clause: "2(13)", Action: ActionStrip, Release: ReleaseNever,
		Reason: Text{
			JA: "本文の中に文字として埋め込まれたファイル（uuencode・yEnc・BinHex）を取り除きました。",
			EN: "A file written as text into the body (uuencode, yEnc, BinHex) was removed.",
		},
	}
	// RuleDangerous removes programs: content that can never be made
	// harmless here, nor released by staff.
	RuleDangerous = Rule{
		ID: "builtin-dangerous-type", Clause: "6(6)", Action: ActionStrip, Release: ReleaseNever,
		Reason: Text{
			JA: "実行ファイル・スクリプト・ショートカット・ディスクイメージ等は無害化できないため削除しました。",
			EN: "Executables, scripts, shortcuts, disk images and the like cannot be made harmless; removed.",
		},
	}
	// RuleUnsupported removes content that is not a program but that
	// mugai cannot rebuild (unknown content, archives it cannot open,
	// HTML files): an approver may release the original.
	RuleUnsupported = Rule{
		ID: "builtin-unsupported", Clause: "2(13)", Action: ActionStrip, Release: ReleaseApproval,
		Reason: Text{
			JA: "この形式は変換できないため、添付しませんでした。原本は保管しています。",
			EN: "This kind of file cannot be converted, so it was not attached. The original is kept.",
		},
	}
	// RuleTypeCheck removes disguised files and polyglots unless a rule
	// names the flag.
	RuleTypeCheck = Rule{
		ID: "builtin-type-check", Clause: "3(1)", Action: ActionStrip, Release: ReleaseNever,
		Reason: Text{
			JA: "ファイル名・宣言された種類・中身が一致しない（偽装の疑いがある）ため削除しました。",
			EN: "The file's name, declared type and content disagree (it may be disguised); removed.",
		},
	}
	// RuleEncrypted removes encrypted files, which cannot be inspected.
	RuleEncrypted = Rule{
		ID: "builtin-encrypted", Clause: "6(6)", Action: ActionStrip, Release: ReleaseNever,
		Reason: Text{
			JA: "暗号化（パスワード付き）されていて中身を検査できないため削除しました。原本は保管されています。必要な場合はシステム管理者に連絡してください。",
			EN: "The file is encrypted (password-protected), so its content cannot be inspected; removed. The original is held; ask the mail administrator if you need it.",
		},
	}
	// RuleSanitizeFailed removes a part whose sanitizer did not finish.
	RuleSanitizeFailed = Rule{
		ID: "builtin-sanitize-failed", Clause: "2(13)", Action: ActionStrip, Release: ReleaseNever,
		Reason: Text{
			JA: "無害化の処理を完了できなかったため、安全のため削除しました。原本は保管されています。",
			EN: "The file could not be made harmless, so it was removed to be safe. The original is kept.",
		},
	}
	// RuleDefault removes parts that no rule of the policy matches.
	RuleDefault = Rule{
		ID: "builtin-default", Clause: "2(13)", Action: ActionStrip,
		Reason: Text{
			JA: "ポリシーのどの規則にも該当しないため削除しました。",
			EN: "No rule of the policy allows this part; it was removed.",
		},
	}
)

// Builtins lists the built-in rules, in the order they are shown to admins.
func Builtins() []Rule {
	return []Rule{RuleStructure, RuleEmbeddedFile, RuleDangerous, RuleUnsupported, RuleTypeCheck, RuleEncrypted,
		RuleSanitizeFailed, RuleHiddenText, RuleLinkCheck, RuleDefault}
}

// RuleByID returns the rule of p, or the built-in rule, with the id: the
// rule that decided a part, as its records name it.
func (p *Policy) RuleByID(id string) (Rule, bool) {
	for _, r := range p.Rules {
		if r.ID == id {
			return r, true
		}
	}
	for _, r := range Builtins() {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}
