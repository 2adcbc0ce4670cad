package gateway

import (
	"errors"
	"fmt"
	"mugai/policy/strictyaml"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Validate checks every field and returns all problems at once, each
// prefixed with its key path.
func (c *Config) Validate() error {
	var errs []error
	for _, p := range c.problems() {
		errs = append(errs, errors.New(p.String()))
	}
	return errors.Join(errs...)
}

// problems checks every field: each problem names its key path.
func (c *Config) problems() []strictyaml.Problem {
	var ps []strictyaml.Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, strictyaml.Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	c.validateAddresses(add)
	c.validateAccept(add)
	c.validateRecipients(add)
	c.validateBudgets(add)
	c.validateDeliver(add)
	c.validateStores(add)
	c.validatePortal(add)
	return ps
}

// problem records what is wrong with the value at a configuration path.
type problem func(path, format string, args ...any)

// validateAddresses checks retention and the addresses mugai listens on
// and names itself by.
func (c *Config) validateAddresses(add problem) {
	if c.OriginalsRetention.D() < 24*time.Hour {
		add("originals_retention", "%s is less than a day", c.OriginalsRetention)
	}
	if c.Metrics != "" {
		if _, _, err := net.SplitHostPort(c.Metrics); err != nil {
			add("metrics", "%q is not host:port (e.g. 127.0.0.1:9425)", c.Metrics)
		}
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen", "%q is not host:port", c.Listen)
	}
	if !validDomain(c.Hostname) {
		add("hostname", "%q is not a valid host name", c.Hostname)
	}
}

// validateAccept checks who may hand mail in and how much.
func (c *Config) validateAccept(add problem) {
	if len(c.Accept.Networks) == 0 {
		add("accept.networks", "empty: no client could hand us mail")
	}
	for i, n := range c.Accept.Networks {
		if _, err := parseNetwork(n); err != nil {
			add(fmt.Sprintf("accept.networks[%d]", i), "%q is not a CIDR or IP address", n)
		}
	}
	for i, d := range c.Accept.Domains {
		if !validDomain(d) {
			add(fmt.Sprintf("accept.domains[%d]", i), "%q is not a valid domain", d)
		}
	}
	if c.Accept.MaxMessageBytes < 1024 {
		add("accept.max_message_bytes", "%d is too small (at least 1024)", c.Accept.MaxMessageBytes)
	}
	if c.Accept.MaxMessageBytes > maxMessageBytes {
		add("accept.max_message_bytes", "%s is too large (at most %s)", c.Accept.MaxMessageBytes, maxMessageBytes)
	}
	if c.Accept.MaxRecipients < 1 {
		add("accept.max_recipients", "must be at least 1")
	}
	if c.Accept.MaxLineLength < 1000 {
		add("accept.max_line_length", "%d is below the 1000 that RFC 5321 requires", c.Accept.MaxLineLength)
	}
	if c.Accept.MaxCmdsBeforeMail < 3 {
		add("accept.max_commands_before_mail", "must be at least 3 (EHLO, STARTTLS, EHLO)")
	}
	if c.Accept.MaxErrors < 1 {
		add("accept.max_errors", "must be at least 1")
	}
	if c.Accept.MaxConnections < 1 || c.Accept.MaxConnsPerIP < 1 {
		add("accept.max_connections", "and max_connections_per_ip must be at least 1")
	}
}

// validateBudgets checks the rebuild's budgets, durability, shutdown,
// backpressure and every timeout.
func (c *Config) validateBudgets(add problem) {
	if c.Limits.RebuildMemory < 1<<20 {
		add("limits.rebuild_memory", "%d is too small (at least 1048576)", c.Limits.RebuildMemory)
	}
	if t := c.Limits.RebuildTimeout.D(); t <= 0 || t >= maxRebuildTimeout {
		add("limits.rebuild_timeout", "%s must be a positive duration below 10m (RFC 5321 gives a sender 10 minutes for the reply to DATA), such as 3m", t)
	}
	if c.Limits.MessageExpansion < 1<<20 {
		add("limits.message_expansion", "%d is too small (at least 1048576)", c.Limits.MessageExpansion)
	}
	if c.Durability != DurabilityFilesystem && c.Durability != DurabilityFiles {
		add("durability", "%q is not filesystem or files", c.Durability)
	}
	if c.ShutdownGrace < 0 {
		add("shutdown_grace", "must be a duration ≥ 0 such as 30s")
	}
	if c.Backpressure.MinFreeBytes < 0 || c.Backpressure.MaxQueued < 1 {
		add("backpressure", "min_free_bytes must be ≥ 0 and max_queued ≥ 1")
	}
	positive := map[string]Duration{
		"accept.session_timeout": c.Accept.SessionTimeout,
		"accept.read_timeout":    c.Accept.ReadTimeout, "accept.write_timeout": c.Accept.WriteTimeout,
		"deliver.timeout": c.Deliver.Timeout, "deliver.retry_min": c.Deliver.RetryMin,
		"deliver.retry_max": c.Deliver.RetryMax, "deliver.lifetime": c.Deliver.Lifetime,
	}
	for _, k := range []string{"accept.session_timeout", "accept.read_timeout", "accept.write_timeout", "deliver.timeout", "deliver.retry_min", "deliver.retry_max", "deliver.lifetime"} {
		if positive[k] <= 0 {
			add(k, "must be a positive duration such as 30s, 5m or 2h")
		}
	}
}

// validateDeliver checks where and how mail leaves, and TLS on both sides.
func (c *Config) validateDeliver(add problem) {
	if c.Deliver.RetryMax < c.Deliver.RetryMin {
		add("deliver.retry_max", "is shorter than deliver.retry_min")
	}
	if c.Deliver.Relay != "" {
		if _, _, err := net.SplitHostPort(c.Deliver.Relay); err != nil {
			add("deliver.relay", "%q is not host:port", c.Deliver.Relay)
		}
	} else if c.Deliver.Maildir == "" {
		add("deliver.maildir", "empty while deliver.relay is empty: nowhere to deliver")
	}
	if c.Deliver.ReleaseSender != "" {
		if _, _, ok := splitMailbox(c.Deliver.ReleaseSender); !ok {
			add("deliver.release_sender", "%q is not a plain local@domain address", c.Deliver.ReleaseSender)
		}
	}
	if c.Deliver.BounceRelay != "" {
		if _, _, err := net.SplitHostPort(c.Deliver.BounceRelay); err != nil {
			add("deliver.bounce_relay", "%q is not host:port", c.Deliver.BounceRelay)
		}
	}
	switch c.Deliver.TLS {
	case TLSOpportunistic, TLSRequired, TLSNone:
	default:
		add("deliver.tls", "%q is not opportunistic, required or none", c.Deliver.TLS)
	}
	if (c.Accept.TLSCert == "") != (c.Accept.TLSKey == "") {
		add("accept.tls_cert", "tls_cert and tls_key go together")
	}
	if c.Accept.RequireTLS && c.Accept.TLSCert == "" {
		add("accept.require_tls", "needs tls_cert and tls_key")
	}
	if c.Deliver.Workers < 1 || c.Deliver.Workers > 256 {
		add("deliver.workers", "must be between 1 and 256")
	}
	if c.Deliver.MaxIdle < -1 || c.Deliver.MaxIdle > 256 {
		add("deliver.max_idle", "must be between -1 (no reuse) and 256")
	}
	if c.Deliver.IdleTimeout <= 0 || c.Deliver.ReuseTime <= 0 {
		add("deliver.idle_timeout", "idle_timeout and reuse_time must be positive durations such as 2s, 5m")
	}
	if c.Deliver.ReuseCount < 0 {
		add("deliver.reuse_count", "must be ≥ 0 (0: no limit)")
	}
}

// validateStores checks the directories and the MIME limits.
func (c *Config) validateStores(add problem) {
	for k, v := range map[string]string{"spool": c.Spool, "originals": c.Originals, "audit": c.Audit, "cache": c.Cache} {
		if v == "" {
			add(k, "must not be empty")
		}
	}
	if c.Limits.MIMEDepth < 2 || c.Limits.MIMEDepth > 100 {
		add("limits.mime_depth", "must be between 2 and 100")
	}
	if c.Limits.MIMEParts < 1 || c.Limits.MIMEParts > 100000 {
		add("limits.mime_parts", "must be between 1 and 100000")
	}
	if c.Limits.HeaderBytes < 1024 {
		add("limits.header_bytes", "must be at least 1024")
	}
	c.Limits.validateSanitize(add)
}

// validateSanitize checks the limits of the sanitizers, archives and
// forwarded messages.
func (l Limits) validateSanitize(add problem) {
	if t := l.SanitizeTimeout.D(); t <= 0 || t >= maxRebuildTimeout {
		add("limits.sanitize_timeout", "%s must be a positive duration below 10m, such as 60s (limits.rebuild_timeout bounds the whole rebuild)", t)
	}
	for _, n := range []struct {
		key    string
		v, max int
	}{{"forward_depth", l.ForwardDepth, 10}, {"archive_depth", l.ArchiveDepth, 10}, {"archive_members", l.ArchiveMembers, 100000}} {
		if n.v < 1 || n.v > n.max {
			add("limits."+n.key, "%d must be between 1 and %d", n.v, n.max)
		}
	}
	if l.ArchiveBytes < 1<<20 {
		add("limits.archive_bytes", "%d is too small (at least 1048576)", l.ArchiveBytes)
	}
}

func parseNetwork(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func validDomain(d string) bool {
	if d == "" || len(d) > 253 || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
