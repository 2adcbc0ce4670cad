package gateway

import (
	"log/slog"

	"github.com/emersion/go-smtp"
)

// policyReject is the reply to mail that the gateway's own policy refuses:
// a client outside accept.networks, a recipient domain not accepted, an
// unknown recipient. It is r itself, or with accept.soft_reject its
// temporary twin (550 5.7.1 becomes 450 4.7.1, as Postfix's soft_bounce
// does): a mistake in a new deployment's configuration then defers mail,
// which its senders retry, instead of bouncing a city's mail for good.
// Every refusal of that kind goes through it.
func (c Config) policyReject(r *smtp.SMTPError) *smtp.SMTPError {
	if !c.Accept.SoftReject || r.Code < 500 || r.Code > 599 {
		return r
	}
	soft := *r
	soft.Code -= 100
	if soft.EnhancedCode[0] == 5 {
		soft.EnhancedCode[0] = 4
	}
	return &soft
}

// warnSoftReject says at start that policy refusals are temporary: left
// on, unwanted mail is retried for days instead of refused.
func warnSoftReject(log *slog.Logger, c Config) {
	if c.Accept.SoftReject {
		log.Warn("accept.soft_reject is on: policy refusals (client not allowed, recipient domain not accepted, recipient unknown) answer 4xx and senders retry; turn it off once the deployment is checked")
	}
}
