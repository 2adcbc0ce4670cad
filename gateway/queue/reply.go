package queue

import (
	"encoding/json"
	"strings"
	"time"

	"mugai/gateway/courier"
)

// Reply is the outcome of a recipient's last attempt, as the courier
// reported it. Text is the report whole, as the audit log records it
// ("550 5.1.1 no such user", "connect: connection refused", "250 2.0.0
// Ok: queued as …"). Code and Enhanced are the SMTP reply code and the
// RFC 3463 status code of a failure the next hop (or the courier, for an
// address it would not send) answered with, taken from the courier's
// error, never read back from Text: Enhanced only when one valid for
// Code was given; both unset when the failure had no SMTP reply (no
// connection, a local error) and for a delivery. Permanent says the
// failure is not retried. Expired, when set, is the lifetime that ran out
// on a recipient still deferred: the recipient failed for that, and the
// rest is its last deferral.
type Reply struct {
	Text      string        `json:"text"`
	Code      int           `json:"code,omitempty"`
	Enhanced  string        `json:"enhanced,omitempty"`
	Permanent bool          `json:"permanent,omitempty"`
	Expired   time.Duration `json:"expired_ns,omitempty"`
}

// expiredPrefix and expiredLast frame the text of an expired
// recipient's reply (String); versions before Reply wrote that text as
// the whole state.
const (
	expiredPrefix = "expired after "
	expiredLast   = " in the queue; last reply: "
)

// String is the reply for the audit log and the admin: Text, or for an
// expired recipient "expired after <lifetime> in the queue; last reply:
// <Text>".
func (r Reply) String() string {
	if r.Expired > 0 {
		return expiredPrefix + r.Expired.String() + expiredLast + r.Text
	}
	return r.Text
}

// UnmarshalJSON reads a recipient as this version writes it, and as
// versions before Reply did: their "last_reply" string becomes Last (see
// legacyReply), so that a spool kept across an upgrade is delivered and
// bounced as it would have been.
func (r *Recipient) UnmarshalJSON(b []byte) error {
	type plain Recipient // without this method
	var v struct {
		plain
		LastReply string `json:"last_reply"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = Recipient(v.plain)
	if r.Last == nil && v.LastReply != "" {
		last := legacyReply(v.LastReply)
		r.Last = &last
	}
	return nil
}

// legacyReply is the Reply of a last reply in the string form of versions
// before Reply: the courier's text, where the codes are read as the
// courier writes them (courier.ParseReply), or an expired recipient's
// framing of it (String). This is the one place a reply is read back from
// its text, and only for entries written before the typed one existed.
func legacyReply(s string) Reply {
	var r Reply
	if rest, ok := strings.CutPrefix(s, expiredPrefix); ok {
		d, last, _ := strings.Cut(rest, expiredLast)
		if lifetime, err := time.ParseDuration(d); err == nil && lifetime > 0 {
			r.Expired, s = lifetime, last
		}
	}
	r.Text = s
	if e, ok := courier.ParseReply(s); ok && e.Code >= 400 { // a failure's codes, as the courier's error had them
		r.Code, r.Enhanced, r.Permanent = e.Code, e.Enhanced, e.Permanent
	}
	return r
}
