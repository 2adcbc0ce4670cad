package delivery

import (
	"bytes"
	"fmt"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"

	"mugai/gateway/courier"
	"mugai/gateway/queue"
	"mugai/gateway/safeio"
	"mugai/policy/audit"
	"mugai/sanitize/mailwrite"
)

// retire ends an entry none of whose recipients is pending. All delivered:
// removed. Some failed: a DSN to the sender, by the bounce relay, only for
// mail that came from the Internet side and still is in the spool:
//   - an entry an admin deleted while its attempt was in flight is gone:
//     deleted means no DSN (and nothing is written back);
//   - a DSN, a message from <>, or no bounce relay: kept in spool/failed/;
//   - mail the gateway originated (a release, from deliver.release_sender):
//     kept in spool/failed/ and logged for the admin, never a DSN. Its
//     recipients' bounced records, with the next hop's full reply, are its
//     audit. A DSN to the release sender could only go back through the
//     relay that just refused it, and failed/ is where the admin looks
//     (mugai queue list).
func (d *Runner) retire(e *queue.Entry, msg []byte, now time.Time) error {
	sp := d.deps.Spool
	var failed []string
	for _, r := range e.Rcpts {
		if r.Status == queue.StatusFailed {
			failed = append(failed, r.Addr)
		}
	}
	if len(failed) == 0 {
		return sp.Finish(e.ID)
	}
	log := d.log.With("msg_id", e.ID)
	switch {
	case !sp.Has(e.ID):
		log.Info("entry deleted from the spool while it was delivered; no DSN")
		return nil
	case e.Bounce || e.From == "" || d.deps.Bounce == nil:
		return sp.MoveToFailed(e)
	case d.originated(e):
		log.Error("mail the gateway originated (a release) was refused; kept in spool/failed/, no DSN", "from", e.From, "failed", failed)
		return sp.MoveToFailed(e)
	}
	return d.queueDSN(e, msg, now)
}

// queueDSN spools a delivery status notification for e's failed
// recipients, durably, as its own entry from <> to e's sender, and then
// retires e. Never for a DSN (e.Bounce) and never to <>: callers check.
func (d *Runner) queueDSN(e *queue.Entry, rebuilt []byte, now time.Time) error {
	id := d.deps.NewID(now)
	dsn := &queue.Entry{ID: id, From: "", Created: now, NextAttempt: now, Bounce: true,
		Rcpts: []*queue.Recipient{{Addr: e.From, Status: queue.StatusPending}}}
	// The DSN's records are part of its commit, as an accepted message's
	// are: no DSN is spooled, nor sent, without them.
	var st safeio.Staged
	if err := d.deps.Spool.Stage(&st, dsn, buildDSN(d.cfg.Hostname, id, e, rebuilt, now)); err != nil {
		st.Discard()
		return fmt.Errorf("queue DSN: %w", err)
	}
	aenv := audit.Envelope{From: "", Rcpts: []string{e.From}, MessageID: "<" + id + "@" + d.cfg.Hostname + ">"}
	j := d.deps.Journal
	st.Journal = safeio.PinnedJournal(func() (*os.File, func(), error) {
		return j.AcceptedPinned(id, aenv, nil, d.deps.PolicySHA())
	}, func(err error) {
		d.log.Error("audit log sync failed; refusing mail until restart", "dsn_id", id, "err", err)
		j.Fail(err)
	})
	if err := st.Commit(d.deps.Committer); err != nil {
		return fmt.Errorf("queue DSN: %w", err)
	}
	d.log.Info("DSN queued", "msg_id", e.ID, "dsn_id", id, "to", e.From)
	d.Add(dsn)
	return d.deps.Spool.Remove(e.ID)
}

// originated reports whether the gateway itself wrote e (a release): its
// sender is the gateway's own. A DSN for it would go out by the bounce
// relay, to the Internet side.
func (d *Runner) originated(e *queue.Entry) bool {
	return Originated(e, d.cfg.ReleaseSender, d.cfg.Hostname)
}

// Originated reports whether the gateway itself wrote e (a release): its
// envelope sender is releaseSender, or postmaster@hostname, the default
// one (a release queued before release_sender was set). Such an entry has
// no original of its own.
func Originated(e *queue.Entry, releaseSender, hostname string) bool {
	return strings.EqualFold(e.From, releaseSender) || strings.EqualFold(e.From, "postmaster@"+hostname)
}

// diagnosis is what a DSN tells the Internet side about one failed
// recipient: the reply code and enhanced code, never the next hop's own
// words (its host names and addresses are internal; the audit log and the
// delivery log keep the full reply).
type diagnosis struct {
	Status string // RFC 3463, agreeing with the reply code's class
	Code   string // the Diagnostic-Code field's value (RFC 3464 2.3.6)
	Text   string // for the human-readable part
}

// diagnose reads a failed recipient's last reply: the lifetime running
// out (a local error), an SMTP failure from its codes as the courier
// recorded them, or a failure without an SMTP reply (here, not at the
// next hop).
func diagnose(r *queue.Recipient) diagnosis {
	var last queue.Reply
	if r.Last != nil {
		last = *r.Last
	}
	switch {
	case last.Expired > 0:
		text := "delivery time expired after " + last.Expired.String()
		return diagnosis{Status: "4.4.7", Code: "X-Mugai; " + text, Text: text}
	case last.Code == 0:
		text := "the message could not be delivered"
		return diagnosis{Status: "5.0.0", Code: "X-Mugai; " + text, Text: text}
	}
	return smtpDiagnosis(&courier.Error{Permanent: last.Permanent, Code: last.Code, Enhanced: last.Enhanced})
}

// smtpDiagnosis is the diagnosis of a next hop's (or the courier's) SMTP
// failure, from its typed values.
func smtpDiagnosis(e *courier.Error) diagnosis {
	status := e.Status()
	reply := strconv.Itoa(e.Code)
	if e.Enhanced != "" {
		reply += " " + e.Enhanced
	}
	reply += " " + genericText(status)
	return diagnosis{Status: status, Code: "smtp; " + reply, Text: reply}
}

// genericText says what a status means, by its subject (RFC 3463 3.1),
// in words that reveal nothing of the next hop.
func genericText(status string) string {
	_, rest, _ := strings.Cut(status, ".")
	subject, _, _ := strings.Cut(rest, ".")
	switch subject {
	case "1":
		return "the recipient's mail system did not accept the address"
	case "2":
		return "the recipient's mailbox cannot take the message"
	case "3":
		return "the recipient's mail system cannot take the message"
	case "6":
		return "the recipient's mail system did not accept the message's content"
	case "7":
		return "the recipient's mail system refused the message by policy"
	}
	return "the recipient's mail system refused the message"
}

// buildDSN writes a delivery status notification (RFC 3464) for the
// failed recipients of e. It carries only the header of the rebuilt
// message (never the original, never a body).
func buildDSN(hostname, id string, e *queue.Entry, rebuilt []byte, now time.Time) []byte {
	var failed []*queue.Recipient
	for _, r := range e.Rcpts {
		if r.Status == queue.StatusFailed {
			failed = append(failed, r)
		}
	}
	var mp mailwrite.Multipart
	mp.Add(mailwrite.TextPart(explanation(e.ID, failed)))
	var h mailwrite.Header
	h.Add("Content-Type", "message/delivery-status")
	mp.Add(&h, deliveryStatus(hostname, e, failed, now))
	h = mailwrite.Header{}
	h.Add("Content-Type", "text/rfc822-headers")
	head, _, _ := bytes.Cut(rebuilt, []byte("\r\n\r\n"))
	mp.Add(&h, append(head, "\r\n"...))

	h = mailwrite.Header{}
	h.Add("From", mailwrite.Addresses([]*mail.Address{{Name: "メール配送システム", Address: "MAILER-DAEMON@" + hostname}}, mailwrite.EncodedWords))
	h.Add("To", mailwrite.Addresses([]*mail.Address{{Address: e.From}}, mailwrite.EncodedWords))
	h.AddText("Subject", "配送できませんでした / Undelivered mail")
	h.Add("Date", now.Format(time.RFC1123Z))
	h.Add("Message-ID", "<"+id+"@"+hostname+">")
	h.Add("Auto-Submitted", "auto-replied")
	h.Add("MIME-Version", "1.0")
	h.Add("Content-Type", mailwrite.MediaType("multipart/report",
		mailwrite.Param{Name: "report-type", Value: "delivery-status"}, mailwrite.Param{Name: "boundary", Value: mp.Boundary()}))
	return append(h.Bytes(), mp.Bytes()...)
}

// explanation is the DSN's text for people, in Japanese and English.
func explanation(id string, failed []*queue.Recipient) string {
	var b strings.Builder
	b.WriteString("このメールは、次の宛先に配送できませんでした。\n")
	b.WriteString("This mail could not be delivered to the following recipients.\n\n")
	for _, r := range failed {
		fmt.Fprintf(&b, "  <%s>: %s\n", r.Addr, diagnose(r).Text)
	}
	fmt.Fprintf(&b, "\n受付番号 / gateway id: %s\n", id)
	return b.String()
}

// deliveryStatus is the message/delivery-status part (RFC 3464 2.2, 2.3):
// the per-message fields, then one block per failed recipient.
func deliveryStatus(hostname string, e *queue.Entry, failed []*queue.Recipient, now time.Time) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "Reporting-MTA: dns; %s\r\n", hostname)
	fmt.Fprintf(&b, "X-Mugai-Id: %s\r\n", e.ID)
	fmt.Fprintf(&b, "Arrival-Date: %s\r\n", e.Created.Format(time.RFC1123Z))
	for _, r := range failed {
		d := diagnose(r)
		fmt.Fprintf(&b, "\r\nFinal-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: %s\r\n", r.Addr, d.Status)
		fmt.Fprintf(&b, "Diagnostic-Code: %s\r\nLast-Attempt-Date: %s\r\n", d.Code, now.Format(time.RFC1123Z))
	}
	return []byte(b.String())
}
