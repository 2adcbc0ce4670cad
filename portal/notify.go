package portal

import (
	"fmt"
	"strings"

	"mugai/portal/requests"
)

// Notification mail: short plain text through the gateway's spool. Text
// from the mail (subject, filename) is made one safe line first, so it
// cannot add header fields or hide text.

// notifyWaiting tells the approvers (portal.notify) that a request waits
// and the requester that it was received.
func (s *Server) notifyWaiting(m Message, p Part, q requests.Request) {
	subj := mailText(m.Subject, 60)
	file := mailText(p.Filename, 100)
	facts := fmt.Sprintf("件名 Subject: %s\nファイル File: %s (%s)\nゲートウェイ ID Gateway id: %s\n",
		subj, file, mailText(p.DetectedType, 80), m.ID)
	if len(s.cfg.Notify) > 0 {
		body := "原本の申請が承認を待っています。\nA request for an original is waiting for a decision.\n\n" +
			facts + fmt.Sprintf("申請者 Asked by: %s\n理由 Reason: %s\n\n%s/admin/\n",
			mailText(q.Rcpt, 200), q.Reason, s.baseURL())
		s.notify(s.cfg.Notify, "[mugai] 承認待ち / Request waiting: "+subj, body)
	}
	body := "原本の申請を受け付けました。承認者が判断すると、結果をお知らせします。\n" +
		"Your request for an original was received. You will be told when an approver decides.\n\n" +
		facts + fmt.Sprintf("理由 Reason: %s\n", q.Reason)
	s.notify([]string{q.Rcpt}, "[mugai] 申請を受け付けました / Request received: "+subj, body)
}

// notifyDecided tells the requester and the approvers (portal.notify)
// how a request was decided.
func (s *Server) notifyDecided(q requests.Request) {
	subj, file := "", q.Part
	if m, err := s.b.Message(q.MsgID); err == nil {
		subj = mailText(m.Subject, 60)
		if p, ok := findPart(m, q.Part); ok && p.Filename != "" {
			file = mailText(p.Filename, 100)
		}
	}
	short, ja, en := "送付失敗 / Release failed", "承認されましたが、原本を送れませんでした。メール管理者が確認します。",
		"approved, but the original could not be sent; the mail administrator will look into it"
	switch q.State {
	case requests.Delivered:
		short, ja, en = "承認 / Request approved", "承認され、申請したファイルの原本を送りました。", "approved: the original of the file you asked for was sent"
	case requests.Refused:
		short, ja, en = "却下 / Request refused", "却下されました。", "refused"
	}
	body := fmt.Sprintf("原本の申請が%s\nThe request for an original was %s.\n\n"+
		"件名 Subject: %s\nファイル File: %s\nゲートウェイ ID Gateway id: %s\n申請者 Asked by: %s\n承認者 Approver: %s\n",
		ja, en, subj, file, q.MsgID, mailText(q.Rcpt, 200), mailText(q.Approver, 200))
	if q.Comment != "" {
		body += "コメント Comment: " + q.Comment + "\n"
	}
	to := append([]string{q.Rcpt}, s.cfg.Notify...)
	s.notify(to, "[mugai] "+short+": "+subj, body)
}

func (s *Server) notify(to []string, subject, body string) {
	if err := s.b.Notify(to, subject, body); err != nil {
		s.cfg.Log.Error("portal: notify", "err", err)
	}
}

// mailText is hostile text as one safe line for a notification.
func mailText(s string, max int) string { return shown(s, max) }

// baseURL is the portal's address without a trailing slash.
func (s *Server) baseURL() string { return strings.TrimRight(s.cfg.URL, "/") }
