package gateway

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"regexp"
	"strings"
	"time"

	"mugai/gateway/queue"
)

var statusRe = regexp.MustCompile(`\b([245]\.\d{1,3}\.\d{1,3})\b`)

// dsnStatus is the RFC 3463 status for a failed recipient: the next hop's
// enhanced code when it gave one, 4.4.7 when the lifetime ran out.
func dsnStatus(r *queue.Recipient) string {
	if strings.HasPrefix(r.LastReply, "expired after") {
		return "4.4.7"
	}
	if m := statusRe.FindStringSubmatch(r.LastReply); m != nil {
		return m[1]
	}
	return "5.0.0"
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
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)

	var human strings.Builder
	human.WriteString("このメールは、次の宛先に配送できませんでした。\n")
	human.WriteString("This mail could not be delivered to the following recipients.\n\n")
	for _, r := range failed {
		fmt.Fprintf(&human, "  <%s>: %s\n", r.Addr, r.LastReply)
	}
	fmt.Fprintf(&human, "\n受付番号 / gateway id: %s\n", e.ID)
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Transfer-Encoding", "base64")
	w, _ := mw.CreatePart(h)
	w.Write(wrap76(base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(human.String(), "\n", "\r\n")))))

	var status strings.Builder
	fmt.Fprintf(&status, "Reporting-MTA: dns; %s\r\n", hostname)
	fmt.Fprintf(&status, "X-Mugai-Id: %s\r\n", e.ID)
	fmt.Fprintf(&status, "Arrival-Date: %s\r\n", e.Created.Format(time.RFC1123Z))
	for _, r := range failed {
		fmt.Fprintf(&status, "\r\nFinal-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: %s\r\n", r.Addr, dsnStatus(r))
		fmt.Fprintf(&status, "Diagnostic-Code: smtp; %s\r\nLast-Attempt-Date: %s\r\n", oneLineReply(r.LastReply), now.Format(time.RFC1123Z))
	}
	h = textproto.MIMEHeader{}
	h.Set("Content-Type", "message/delivery-status")
	w, _ = mw.CreatePart(h)
	w.Write([]byte(status.String()))

	h = textproto.MIMEHeader{}
	h.Set("Content-Type", "text/rfc822-headers")
	w, _ = mw.CreatePart(h)
	head, _, _ := bytes.Cut(rebuilt, []byte("\r\n\r\n"))
	w.Write(append(head, "\r\n"...))
	mw.Close()

	var msg bytes.Buffer
	fmt.Fprintf(&msg, "From: =?UTF-8?B?%s?= <MAILER-DAEMON@%s>\r\n", base64.StdEncoding.EncodeToString([]byte("メール配送システム")), hostname)
	fmt.Fprintf(&msg, "To: <%s>\r\n", e.From)
	fmt.Fprintf(&msg, "Subject: =?UTF-8?B?%s?=\r\n", base64.StdEncoding.EncodeToString([]byte("配送できませんでした / Undelivered mail")))
	fmt.Fprintf(&msg, "Date: %s\r\nMessage-ID: <%s@%s>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n", now.Format(time.RFC1123Z), id, hostname)
	fmt.Fprintf(&msg, "Content-Type: multipart/report; report-type=delivery-status; boundary=%q\r\n\r\n", mw.Boundary())
	msg.Write(body.Bytes())
	return msg.Bytes()
}

func oneLineReply(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func wrap76(s string) []byte {
	var b bytes.Buffer
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s + "\r\n")
	return b.Bytes()
}
