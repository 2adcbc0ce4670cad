package gateway

import (
	"fmt"
	"time"

	"mugai/gateway/courier"
	"mugai/policy"
	"mugai/policy/strictyaml"
	"mugai/sanitize"
)

// Config is the whole gateway configuration. Defaults live in one literal
// (Defaults); a file only overrides what it names, and an unknown key is an
// error naming its path.
type Config struct {
	Listen    string  `yaml:"listen" json:"listen"`
	Hostname  string  `yaml:"hostname" json:"hostname"`
	Accept    Accept  `yaml:"accept" json:"accept"`
	Deliver   Deliver `yaml:"deliver" json:"deliver"`
	Spool     string  `yaml:"spool" json:"spool"`
	Originals string  `yaml:"originals" json:"originals"`
	// OriginalsRetention is how long originals are kept (原本保管), by
	// whole days; purged daily by serve and by mugai originals purge.
	OriginalsRetention Duration     `yaml:"originals_retention" json:"originals_retention"`
	Audit              string       `yaml:"audit" json:"audit"`
	Cache              string       `yaml:"cache" json:"cache"`     // compiled WebAssembly (PDF rendering); speeds up starts
	Policy             string       `yaml:"policy" json:"policy"`   // empty: the embedded default policy
	Clauses            string       `yaml:"clauses" json:"clauses"` // the municipality's clause catalogue; empty: the embedded one
	Metrics            string       `yaml:"metrics" json:"metrics"` // host:port for /metrics and /healthz; empty: off
	Limits             Limits       `yaml:"limits" json:"limits"`
	Backpressure       Backpressure `yaml:"backpressure" json:"backpressure"`
	// Durability is how a message is made durable before 250: "filesystem"
	// (group commit: one syncfs(2) per round, shared by every session
	// waiting; used only on Linux 5.8 or later, which reports write errors
	// from it) or "files" (each file's data, then each directory).
	Durability string `yaml:"durability" json:"durability"`
	// ShutdownGrace is how long SIGTERM waits for SMTP sessions to finish
	// before it cuts them (logged; still a normal exit).
	ShutdownGrace Duration `yaml:"shutdown_grace" json:"shutdown_grace"`
	// Portal is the staff and approver web pages (portalconfig.go).
	Portal Portal `yaml:"portal" json:"portal"`
}

// The values of durability and deliver.tls.
const (
	DurabilityFilesystem = "filesystem" // group commit, one syncfs(2) per round
	DurabilityFiles      = "files"      // each file's data, then each directory

	TLSOpportunistic = "opportunistic" // STARTTLS when offered, not verified
	TLSRequired      = "required"      // STARTTLS and a verified certificate
	TLSNone          = "none"
)

// Backpressure refuses new mail (452 4.3.1 at MAIL) while it could not be
// stored safely; it lifts by itself.
type Backpressure struct {
	MinFreeBytes Size `yaml:"min_free_bytes" json:"min_free_bytes"` // free space on the spool's file system
	MaxQueued    int  `yaml:"max_queued" json:"max_queued"`         // messages waiting for delivery
}

// Accept configures the SMTP listener.
type Accept struct {
	Networks          []string `yaml:"networks" json:"networks"` // CIDRs or addresses of clients allowed to hand us mail
	Domains           []string `yaml:"domains" json:"domains"`   // recipient domains accepted; empty = any
	MaxMessageBytes   Size     `yaml:"max_message_bytes" json:"max_message_bytes"`
	MaxRecipients     int      `yaml:"max_recipients" json:"max_recipients"`
	MaxLineLength     int      `yaml:"max_line_length" json:"max_line_length"`
	MaxConnections    int      `yaml:"max_connections" json:"max_connections"`               // in total; over it: 421
	MaxConnsPerIP     int      `yaml:"max_connections_per_ip" json:"max_connections_per_ip"` // per client address; over it: 421
	SessionTimeout    Duration `yaml:"session_timeout" json:"session_timeout"`               // a whole session, however active
	TLSCert           string   `yaml:"tls_cert" json:"tls_cert"`                             // PEM; with tls_key, STARTTLS is offered
	TLSKey            string   `yaml:"tls_key" json:"tls_key"`
	RequireTLS        bool     `yaml:"require_tls" json:"require_tls"`                           // MAIL before STARTTLS: 530 5.7.0
	MaxCmdsBeforeMail int      `yaml:"max_commands_before_mail" json:"max_commands_before_mail"` // then 421
	// MaxErrors closes a session (421 4.7.0) after this many error
	// replies to it, as Postfix's smtpd_hard_error_limit.
	MaxErrors int `yaml:"max_errors" json:"max_errors"`
	// SoftReject turns the policy's refusals (client not allowed,
	// recipient not accepted) into 4xx, as Postfix's soft_bounce, while a
	// new deployment is checked: a mistake defers mail instead of
	// bouncing it (softreject.go).
	SoftReject   bool     `yaml:"soft_reject" json:"soft_reject"`
	ReadTimeout  Duration `yaml:"read_timeout" json:"read_timeout"`
	WriteTimeout Duration `yaml:"write_timeout" json:"write_timeout"`
	// Recipients is a file of the addresses (and @domain wildcards) mail
	// is accepted for, reloaded on SIGHUP; others get 550 5.1.1 at RCPT.
	// Empty: every address of accept.domains (recipients.go).
	Recipients string `yaml:"recipients" json:"recipients"`
	// VerifyRecipients probes deliver.relay (MAIL FROM, RCPT TO, QUIT;
	// never DATA) before a recipient is accepted, with caching:
	// unknown there → 550 5.1.1, undecided → 450 4.1.1 (verify.go).
	VerifyRecipients    bool     `yaml:"verify_recipients" json:"verify_recipients"`
	VerifySender        string   `yaml:"verify_sender" json:"verify_sender"`                 // the probe's MAIL FROM; empty: <>
	VerifyTimeout       Duration `yaml:"verify_timeout" json:"verify_timeout"`               // one probe, connect to QUIT
	VerifyCachePositive Duration `yaml:"verify_cache_positive" json:"verify_cache_positive"` // how long "exists" is trusted
	VerifyCacheNegative Duration `yaml:"verify_cache_negative" json:"verify_cache_negative"` // how long "unknown" is trusted
	VerifyCacheSize     int      `yaml:"verify_cache_size" json:"verify_cache_size"`         // addresses remembered; the least recently used go first
	VerifyRate          int      `yaml:"verify_rate" json:"verify_rate"`                     // probes started per second at most (a burst of twice that)
}

// Deliver configures the outbound side.
type Deliver struct {
	Relay string `yaml:"relay" json:"relay"` // host:port of the LGWAN-side MTA; empty = Maildir
	// BounceRelay is where delivery status notifications go (host:port);
	// empty: failures are audited and the message kept in spool/failed/.
	BounceRelay string `yaml:"bounce_relay" json:"bounce_relay"`
	// ReleaseSender is the envelope sender of mail the gateway itself
	// originates (releases of originals): its failures go to the admin,
	// never to the Internet. Empty: postmaster@<hostname>.
	ReleaseSender string `yaml:"release_sender" json:"release_sender"`
	// TLS to the relay: opportunistic (STARTTLS when offered, not
	// verified), required (STARTTLS and a verified certificate), none.
	TLS           string   `yaml:"tls" json:"tls"`
	TLSCA         string   `yaml:"tls_ca" json:"tls_ca"`                   // PEM CA bundle to verify against (pinned); empty = system roots
	TLSServerName string   `yaml:"tls_server_name" json:"tls_server_name"` // name to verify; empty = the relay's host
	Maildir       string   `yaml:"maildir" json:"maildir"`                 // used when relay is empty
	Workers       int      `yaml:"workers" json:"workers"`
	Timeout       Duration `yaml:"timeout" json:"timeout"`     // one SMTP transaction to the relay
	RetryMin      Duration `yaml:"retry_min" json:"retry_min"` // first retry delay after a 4xx
	RetryMax      Duration `yaml:"retry_max" json:"retry_max"` // the delay stops doubling here
	Lifetime      Duration `yaml:"lifetime" json:"lifetime"`   // give up (bounce) after this long in the queue
	// The connection cache to the relay and the bounce relay, as
	// Postfix's smtp_connection_cache_* (see courier.Reuse).
	MaxIdle     int      `yaml:"max_idle" json:"max_idle"`         // idle connections kept per relay; 0 = deliver.workers; -1 = none
	IdleTimeout Duration `yaml:"idle_timeout" json:"idle_timeout"` // an idle connection is closed after this
	ReuseTime   Duration `yaml:"reuse_time" json:"reuse_time"`     // no new transaction on a connection older than this
	ReuseCount  int      `yaml:"reuse_count" json:"reuse_count"`   // transactions per connection; 0 = no limit
}

// Reuse is the connection cache's settings for the couriers.
func (d Deliver) Reuse() courier.Reuse {
	r := courier.Reuse{MaxIdle: d.MaxIdle, IdleTimeout: d.IdleTimeout.D(), MaxAge: d.ReuseTime.D(), MaxUses: d.ReuseCount}
	if r.MaxIdle == 0 {
		r.MaxIdle = d.Workers
	}
	return r
}

// Limits bound the rebuild of one message.
type Limits struct {
	MIMEDepth   int  `yaml:"mime_depth" json:"mime_depth"`
	MIMEParts   int  `yaml:"mime_parts" json:"mime_parts"`
	HeaderBytes Size `yaml:"header_bytes" json:"header_bytes"`
	// RebuildMemory bounds the memory of the rebuilds running at once: each
	// reserves three times its message's size (what a rebuild holds at
	// most, measured) before it starts, and waits while the budget is spent
	// (at most 2 minutes, within rebuild_timeout; then 451 4.3.2); while it
	// runs it reserves more as it expands (see message_expansion).
	RebuildMemory Size `yaml:"rebuild_memory" json:"rebuild_memory"`
	// RebuildTimeout bounds the time from the end of DATA to the decision
	// to keep a message: waiting for rebuild memory and the rebuild itself.
	// Past it the client gets 451 4.3.0 and nothing is kept. It must stay
	// well under the 10 minutes a sender waits for the reply to DATA
	// (RFC 5321 4.5.3.2.6), or the sender gives up while we still queue
	// the message and its retry becomes a second copy.
	RebuildTimeout Duration `yaml:"rebuild_timeout" json:"rebuild_timeout"`
	// MessageExpansion bounds what one message may expand into while it
	// is rebuilt, all parts together (decompressed archive members,
	// decoded pixels, rendered pages, sanitizer output), in bytes. A part
	// that would go past it is removed; the rest of the message goes on.
	// What a rebuild expands into is also reserved from rebuild_memory.
	MessageExpansion Size `yaml:"message_expansion" json:"message_expansion"`
	// SanitizeTimeout bounds one sanitizer run (one file disarmed,
	// flattened or extracted): past it the part is removed
	// (sanitize-failed) and the rest of the message goes on. The whole
	// rebuild stays bounded by rebuild_timeout.
	SanitizeTimeout Duration `yaml:"sanitize_timeout" json:"sanitize_timeout"`
	// ForwardDepth bounds messages inside messages (message/rfc822 and
	// mails in files): a deeper one is removed (depth-limit).
	ForwardDepth int `yaml:"forward_depth" json:"forward_depth"`
	// ArchiveDepth bounds archives inside archives (a ZIP in a ZIP is 2).
	ArchiveDepth int `yaml:"archive_depth" json:"archive_depth"`
	// ArchiveMembers bounds the archive members of one message, all its
	// archives together (each archive holds at most 1000).
	ArchiveMembers int `yaml:"archive_members" json:"archive_members"`
	// ArchiveBytes bounds the decompressed bytes of one archive, all its
	// members, checked on the sizes its directory declares before
	// anything is inflated (message_expansion bounds all of them).
	ArchiveBytes Size `yaml:"archive_bytes" json:"archive_bytes"`
}

// sanitizeLimits are the rebuild's limits (sanitize.Limits) the config
// sets: every one, so none is fixed in code.
func (c Config) sanitizeLimits() sanitize.Limits {
	l := c.Limits
	return sanitize.Limits{
		MaxDepth: l.MIMEDepth, MaxParts: l.MIMEParts, MaxHeaderBytes: int(l.HeaderBytes), MaxPartBytes: int64(c.Accept.MaxMessageBytes),
		MaxExpansion: int64(l.MessageExpansion), SanitizeTimeout: l.SanitizeTimeout.D(), MaxForwardDepth: l.ForwardDepth,
		MaxArchiveDepth: l.ArchiveDepth, MaxArchiveMembers: l.ArchiveMembers, MaxArchiveBytes: int64(l.ArchiveBytes),
	}
}

// maxRebuildTimeout is the 10 minutes RFC 5321 4.5.3.2.6 gives a sender
// waiting for the reply to the final dot; limits.rebuild_timeout must be
// below it.
const maxRebuildTimeout = 10 * time.Minute

// maxMessageBytes bounds accept.max_message_bytes far beyond any mail
// but well below what the rebuild's arithmetic on it (three times the
// size, for a part's raw bytes) can hold in an int64.
const maxMessageBytes Size = 1 << 40

// Defaults is the embedded configuration `mugai serve` runs on without
// -config. README "Configuration" documents every key.
func Defaults() Config {
	return Config{
		Listen:   "127.0.0.1:2525",
		Hostname: "mugai.localhost",
		Accept: Accept{
			Networks:          []string{"127.0.0.0/8", "::1/128"},
			Domains:           []string{},
			MaxMessageBytes:   26214400,
			MaxRecipients:     100,
			MaxLineLength:     4096,
			MaxConnections:    200,
			MaxConnsPerIP:     50,
			SessionTimeout:    Duration(30 * time.Minute),
			MaxCmdsBeforeMail: 20,
			MaxErrors:         20,
			ReadTimeout:       Duration(5 * time.Minute),
			WriteTimeout:      Duration(5 * time.Minute),

			VerifyTimeout:       Duration(10 * time.Second),
			VerifyCachePositive: Duration(7 * 24 * time.Hour),
			VerifyCacheNegative: Duration(3 * time.Hour),
			VerifyCacheSize:     100000,
			VerifyRate:          10,
		},
		Deliver: Deliver{
			Maildir:  "var/maildir",
			TLS:      TLSOpportunistic,
			Workers:  4,
			Timeout:  Duration(5 * time.Minute),
			RetryMin: Duration(5 * time.Minute),
			RetryMax: Duration(time.Hour),
			Lifetime: Duration(5 * 24 * time.Hour),

			IdleTimeout: Duration(2 * time.Second),
			ReuseTime:   Duration(300 * time.Second),
		},
		Spool:              "var/spool",
		Originals:          "var/originals",
		OriginalsRetention: Duration(30 * 24 * time.Hour),
		Audit:              "var/audit.jsonl",
		Cache:              "var/cache",
		Limits:             defaultLimits(),
		Backpressure:       Backpressure{MinFreeBytes: 512 << 20, MaxQueued: 100000},
		Durability:         DurabilityFilesystem,
		ShutdownGrace:      Duration(30 * time.Second),
		Portal:             defaultPortal(),
	}
}

// defaultLimits are the embedded limits: the rebuild's own defaults
// (sanitize.DefaultLimits), and the gateway's memory and time budgets.
func defaultLimits() Limits {
	s := sanitize.DefaultLimits
	return Limits{MIMEDepth: s.MaxDepth, MIMEParts: s.MaxParts, HeaderBytes: Size(s.MaxHeaderBytes), RebuildMemory: 1 << 30,
		RebuildTimeout: Duration(3 * time.Minute), MessageExpansion: Size(s.MaxExpansion),
		SanitizeTimeout: Duration(s.SanitizeTimeout), ForwardDepth: s.MaxForwardDepth, ArchiveDepth: s.MaxArchiveDepth,
		ArchiveMembers: s.MaxArchiveMembers, ArchiveBytes: Size(s.MaxArchiveBytes)}
}

// LoadClauses reads the clause catalogue the config names (the embedded
// one when it names none) and checks that it holds the clauses the
// gateway cites itself, beside the policy's rules: RetentionClause, in
// every purge record. LoadConfig checks it; the gateway loads it with the
// policy at start and on every reload.
func (c Config) LoadClauses() (policy.Catalogue, error) {
	cs, source := policy.DefaultClauses(), policy.DefaultClausesSource
	if c.Clauses != "" {
		var err error
		if cs, err = policy.LoadClauses(c.Clauses); err != nil {
			return nil, fmt.Errorf("clauses: %w", err)
		}
		source = c.Clauses
	}
	if _, ok := cs.Lookup(RetentionClause); !ok {
		return nil, fmt.Errorf("clauses: %s: clause %q is missing: purging originals (originals_retention) cites it", source, RetentionClause)
	}
	return cs, nil
}

// Duration is a time.Duration written as "30s", "5m", "2h" or whole days
// "90d" (strictyaml.ParseDuration): every duration of the configuration.
type Duration = strictyaml.Duration

// Size is a number of bytes written as 26214400, "25MiB", "25MB" or
// "512KiB" (strictyaml.ParseSize): every size of the configuration.
type Size = strictyaml.Size
