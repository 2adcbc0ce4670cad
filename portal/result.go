package portal

import (
	"fmt"
	"net/url"
	"strconv"
)

// Result flags a staff POST redirects with (?r=...). The page knows only
// these; anything else in the query shows nothing.
const (
	resRequested    = "requested"
	resReleased     = "released"
	resFailed       = "failed"
	resDuplicate    = "duplicate"
	resUnlocked     = "unlocked"
	resWrong        = "wrong"
	resLocked       = "locked"
	resBusy         = "busy"
	resNoPassword   = "no-password"
	resUnlockFailed = "unlock-failed"
	resSentEnough   = "sent-enough"
)

// shownResult is a result note and the part it belongs to ("" the page).
type shownResult struct {
	part string
	n    *note
}

// result reads the flag of a redirect back to the message page. The
// recipient is an index into the message's own recipients and the tries
// left a small number; both are checked, so the query cannot put
// arbitrary text on the page.
func result(q url.Values, m Message) shownResult {
	rcpt := ""
	if i, err := strconv.Atoi(q.Get("to")); err == nil && i >= 0 && i < len(m.Rcpts) {
		rcpt = shown(m.Rcpts[i], maxShown)
	}
	part := q.Get("p")
	if _, ok := findPart(m, part); !ok {
		part = ""
	}
	var n *note
	flag := q.Get("r")
	if rcpt == "" && (flag == resReleased || flag == resUnlocked) {
		return shownResult{}
	}
	switch flag {
	case resRequested:
		n = &note{"ok", "申請を受け付けました。承認者の判断をお待ちください。結果はメールでお知らせします。",
			"Your request was received. An approver will decide; you will be told by mail."}
	case resReleased:
		n = &note{"ok", fmt.Sprintf("原本を %s 宛てにメールで送りました。", rcpt),
			fmt.Sprintf("The original was mailed to %s.", rcpt)}
	case resFailed:
		n = &note{"err", "原本を送れませんでした。時間をおいてもう一度お試しいただくか、ゲートウェイ ID を添えてメール管理者に連絡してください。",
			"The original could not be sent. Try again later, or contact the mail administrator quoting the gateway id."}
	case resDuplicate:
		n = &note{"warn", "同じ申請がすでにあります（承認待ちまたは送付済み）。",
			"The same request already exists (waiting or delivered)."}
	case resUnlocked:
		n = &note{"ok", fmt.Sprintf("パスワードが確認できました。中のファイルを無害化して %s 宛てにメールで送りました。", rcpt),
			fmt.Sprintf("The password was right: the files inside were sanitized and mailed to %s.", rcpt)}
	case resWrong:
		left, err := strconv.Atoi(q.Get("left"))
		if err != nil || left < 1 || left > unlockTries {
			return shownResult{}
		}
		n = &note{"err", fmt.Sprintf("パスワードが違います。何も送っていません。あと %d 回試せます。", left),
			fmt.Sprintf("Wrong password; nothing was sent. %d tries left.", left)}
	case resLocked:
		n = &note{"err", "パスワードの誤りが続いたため、このファイルは 1 時間ロックされています。何も送っていません。",
			"Too many wrong passwords: this file is locked for an hour. Nothing was sent."}
	case resBusy:
		n = &note{"warn", "このファイルは開封の処理中です。しばらくしてからページを開き直してください。",
			"This file is being unlocked right now. Reload the page in a moment."}
	case resNoPassword:
		n = &note{"warn", "パスワードを入力してください。", "Type the password."}
	case resSentEnough:
		n = &note{"warn", "このファイルは最近何度か開封してこの宛先に送りました。届いたメールを確認してください。1 時間ほどたつと、もう一度開封できます。何も送っていません。",
			"This file was unlocked and sent to this address several times recently: check the mail that arrived. It can be unlocked again in about an hour. Nothing was sent."}
	case resUnlockFailed:
		n = &note{"err", "開封できませんでした。何も送っていません。ゲートウェイ ID を添えてメール管理者に連絡してください。",
			"The file could not be unlocked; nothing was sent. Contact the mail administrator quoting the gateway id."}
	default:
		return shownResult{}
	}
	return shownResult{part: part, n: n}
}
