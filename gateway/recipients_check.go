package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
)

// Replies to a recipient refused at RCPT, so that the next hop never has
// to refuse it after we took the message (and we never send a DSN to a
// sender who is most likely forged: backscatter). The texts are generic:
// the next hop's own reply goes to the log only.
var (
	codeUnknownUser  = smtp.EnhancedCode{5, 1, 1}
	codeUnverified   = smtp.EnhancedCode{4, 1, 1}
	replyUnlisted    = &smtp.SMTPError{Code: 550, EnhancedCode: codeUnknownUser, Message: "Recipient address rejected: user unknown in the recipient list"}
	replyUnknownUser = &smtp.SMTPError{Code: 550, EnhancedCode: codeUnknownUser, Message: "Recipient address rejected: user unknown at the internal mail server"}
	replyUnverified  = &smtp.SMTPError{Code: 450, EnhancedCode: codeUnverified, Message: "Recipient address not verified yet, try again later"}
)

// Why a recipient was refused: the label of mugai_recipients_refused_total
// and the reason in the log line.
const (
	refusedUnlisted   = "unlisted"   // not in accept.recipients
	refusedUnknown    = "unknown"    // the next hop said 5xx to the probe
	refusedUnverified = "unverified" // the probe could not decide
)

// recipientCheck refuses at RCPT what the LGWAN side would refuse later:
// addresses outside accept.recipients, then (accept.verify_recipients)
// addresses the next hop refuses. Built by New; reload swaps the list
// (SIGHUP). Its methods may be called from any goroutine.
type recipientCheck struct {
	file    string
	list    atomic.Pointer[recipientList] // nil: no list configured
	verify  *verifier                     // nil: no probes
	timeout time.Duration                 // a session's wait for a probe
	log     *slog.Logger
	refused *prometheus.CounterVec // reason
	stale   prometheus.Gauge       // 1 while the file on disk does not load
}

// newRecipientCheck loads accept.recipients (an error refuses the start)
// and sets up the verifier.
func newRecipientCheck(cfg Config, log *slog.Logger, now func() time.Time) (*recipientCheck, error) {
	a := cfg.Accept
	rc := &recipientCheck{file: a.Recipients, log: log, timeout: a.VerifyTimeout.D(),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mugai_recipients_refused_total",
			Help: "Recipients refused at RCPT: unlisted (accept.recipients), unknown (5xx from the next hop's probe), unverified (450: the probe could not decide)."},
			[]string{"reason"}),
		stale: prometheus.NewGauge(prometheus.GaugeOpts{Name: "mugai_recipients_file_stale",
			Help: "1 while accept.recipients on disk does not load (the list loaded before stays in force; a restart would fail)."}),
	}
	for _, r := range []string{refusedUnlisted, refusedUnknown, refusedUnverified} {
		rc.refused.WithLabelValues(r)
	}
	if rc.file != "" {
		l, err := loadRecipients(rc.file)
		if err != nil {
			return nil, fmt.Errorf("accept.recipients: %w", err)
		}
		rc.list.Store(l)
		log.Info("recipient list loaded", "file", rc.file, "addresses", len(l.addrs), "domains", len(l.domains))
	}
	if a.VerifyRecipients {
		tc, err := clientTLS(cfg.Deliver)
		if err != nil {
			return nil, err
		}
		rc.verify = newVerifier(cfg, tc, now)
		log.Info("recipients verified at the next hop", "relay", cfg.Deliver.Relay, "cache_positive", a.VerifyCachePositive.String(),
			"cache_negative", a.VerifyCacheNegative.String(), "cache_size", a.VerifyCacheSize, "rate", a.VerifyRate)
	}
	return rc, nil
}

// collectors are the check's metrics.
func (rc *recipientCheck) collectors() []prometheus.Collector {
	cs := []prometheus.Collector{rc.refused, rc.stale}
	if rc.verify != nil {
		cs = append(cs, rc.verify.collectors()...)
	}
	return cs
}

// reload reads accept.recipients again (SIGHUP). A file that does not load
// changes nothing: the list in force stays, and the error (file:line) is
// logged and returned.
func (rc *recipientCheck) reload() error {
	if rc.file == "" {
		return nil
	}
	l, err := loadRecipients(rc.file)
	if err != nil {
		rc.stale.Set(1)
		rc.log.Error("recipient list refused; the previous one stays in force (a restart would fail)", "file", rc.file, "err", err)
		return fmt.Errorf("accept.recipients: %w", err)
	}
	rc.stale.Set(0)
	rc.list.Store(l)
	rc.log.Info("recipient list reloaded", "file", rc.file, "addresses", len(l.addrs), "domains", len(l.domains))
	return nil
}

// check decides one recipient (already in an accepted domain): nil when
// it may be accepted; otherwise the reply, the reason, and what the next
// hop said (for the log).
func (rc *recipientCheck) check(ctx context.Context, local, domain string) (*smtp.SMTPError, string, string) {
	if l := rc.list.Load(); l != nil && !l.has(local, domain) {
		return replyUnlisted, refusedUnlisted, ""
	}
	if rc.verify == nil {
		return nil, "", ""
	}
	res := rc.verify.verify(ctx, local+"@"+domain)
	if res.cached {
		res.reply += " (cached)"
	}
	switch res.verdict {
	case verdictValid:
		return nil, "", ""
	case verdictUnknown:
		return replyUnknownUser, refusedUnknown, res.reply
	}
	return replyUnverified, refusedUnverified, res.reply
}

// checkRecipient is the RCPT step for addr (local@domain): a refusal is
// counted, logged with its reason and audited like every rejection, and
// returned as the reply.
func (s *session) checkRecipient(addr, local, domain string) *smtp.SMTPError {
	rc := s.g.rcpt
	ctx, cancel := context.WithTimeout(context.Background(), rc.timeout+time.Second)
	defer cancel()
	se, reason, said := rc.check(ctx, local, domain)
	if se == nil {
		return nil
	}
	se = s.g.cfg.policyReject(se) // accept.soft_reject: 450 4.1.1 while a deployment is checked
	rc.refused.WithLabelValues(reason).Inc()
	level := slog.LevelInfo
	if reason == refusedUnverified {
		level = slog.LevelWarn
	}
	s.log.Log(ctx, level, "recipient refused", "from", s.from, "rcpt", addr, "reason", reason, "next_hop", said)
	s.reject("", se, s.from, []string{addr})
	return se
}

// validateRecipients checks the accept.recipients and accept.verify_*
// keys.
func (c *Config) validateRecipients(add problem) {
	a := c.Accept
	if a.Recipients != "" {
		if _, err := loadRecipients(a.Recipients); err != nil {
			add("accept.recipients", "%v", err)
		}
	}
	if a.VerifyRecipients && c.Deliver.Relay == "" {
		add("accept.verify_recipients", "needs deliver.relay: the next hop to ask (Maildir delivery has no one to ask)")
	}
	if a.VerifySender != "" {
		if _, _, ok := splitMailbox(a.VerifySender); !ok {
			add("accept.verify_sender", "%q is not a plain local@domain address (empty: the null sender <>)", a.VerifySender)
		}
	}
	if t := a.VerifyTimeout.D(); t <= 0 || t > 5*time.Minute {
		add("accept.verify_timeout", "%s must be a positive duration up to 5m (RFC 5321 gives a sender 5 minutes for the reply to RCPT), such as 10s", t)
	}
	if a.VerifyCachePositive <= 0 {
		add("accept.verify_cache_positive", "must be a positive duration such as 7d")
	}
	if a.VerifyCacheNegative <= 0 {
		add("accept.verify_cache_negative", "must be a positive duration such as 3h")
	}
	if a.VerifyCacheSize < 1 || a.VerifyCacheSize > 10000000 {
		add("accept.verify_cache_size", "%d must be between 1 and 10000000", a.VerifyCacheSize)
	}
	if a.VerifyRate < 1 || a.VerifyRate > 10000 {
		add("accept.verify_rate", "%d must be between 1 and 10000 probes a second", a.VerifyRate)
	}
}
