package gateway

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestParseConfigOnePass: type errors, unknown keys, values out of range
// and a clause catalogue that does not load are all reported at once, each
// with file:line and the key path, in the file's order.
func TestParseConfigOnePass(t *testing.T) {
	src := `listen: nope
accept:
  max_recipients: four
  max_connections: many
  domain: []
  max_message_bytes: 5
deliver:
  lifetime: forever
  workers: 0
limits:
  rebuild_memory: lots
clauses: /nonexistent/clauses.yaml
`
	_, err := ParseConfig("c9.yaml", []byte(src))
	if err == nil {
		t.Fatal("no error")
	}
	got := strings.Split(err.Error(), "\n")
	want := []string{
		`c9.yaml:1: listen: "nope" is not host:port`,
		`c9.yaml:3: accept.max_recipients: expected a whole number, got "four"`,
		`c9.yaml:4: accept.max_connections: expected a whole number, got "many"`,
		`c9.yaml:5: accept.domain: unknown key (known keys here: `,
		`c9.yaml:6: accept.max_message_bytes: 5 is too small (at least 1024)`,
		`c9.yaml:8: deliver.lifetime: "forever" is not a duration (such as 30s, 5m, 2h, 1h30m, or whole days: 90d)`,
		`c9.yaml:9: deliver.workers: must be between 1 and 256`,
		`c9.yaml:11: limits.rebuild_memory: "lots" is not a size (a number of bytes, or with KB, KiB, MB, MiB, GB, GiB, TB, TiB)`,
		`c9.yaml:12: clauses: open /nonexistent/clauses.yaml: no such file or directory`,
	}
	if len(got) != len(want) {
		t.Fatalf("%d problems, want %d:\n%v", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d = %q, want %q…", i, got[i], want[i])
		}
	}
	// A problem of a default the file does not name has no line.
	_, err = ParseConfig("c.yaml", []byte("deliver:\n  relay: \"\"\n  maildir: \"\"\n"))
	if err == nil || err.Error() != "c.yaml:3: deliver.maildir: empty while deliver.relay is empty: nowhere to deliver" {
		t.Errorf("err = %v", err)
	}
	_, err = ParseConfig("c.yaml", []byte("accept:\n  require_tls: true\n"))
	if err == nil || err.Error() != "c.yaml:2: accept.require_tls: needs tls_cert and tls_key" {
		t.Errorf("err = %v", err)
	}
}

// TestConfigUnits: every size key takes units, every duration key days.
func TestConfigUnits(t *testing.T) {
	src := `accept:
  max_message_bytes: 25MiB
  session_timeout: 1d
originals_retention: 90d
backpressure:
  min_free_bytes: 2GB
limits:
  header_bytes: 512KiB
  rebuild_memory: 2GiB
  message_expansion: 300MB
  archive_bytes: 268435456
deliver:
  lifetime: 7d
`
	c, err := ParseConfig("u.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if c.Accept.MaxMessageBytes != 25<<20 || c.Accept.SessionTimeout.D() != 24*time.Hour || c.OriginalsRetention.D() != 90*24*time.Hour ||
		c.Backpressure.MinFreeBytes != 2e9 || c.Limits.HeaderBytes != 512<<10 || c.Limits.RebuildMemory != 2<<30 ||
		c.Limits.MessageExpansion != 300e6 || c.Limits.ArchiveBytes != 256<<20 || c.Deliver.Lifetime.D() != 7*24*time.Hour {
		t.Errorf("config = %+v", c)
	}
	// Every size and duration of the configuration is one of the shared types.
	var walk func(reflect.Type, string)
	walk = func(st reflect.Type, path string) {
		for i := 0; i < st.NumField(); i++ {
			f := st.Field(i)
			key := path + f.Tag.Get("yaml")
			switch {
			case f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[Duration]():
				walk(f.Type, key+".")
			case strings.HasSuffix(key, "_bytes") || strings.HasSuffix(key, "_memory") || strings.HasSuffix(key, "expansion"):
				if f.Type != reflect.TypeFor[Size]() {
					t.Errorf("%s is a %s, not a Size", key, f.Type)
				}
			case strings.HasSuffix(key, "timeout") || strings.HasSuffix(key, "retention") || strings.HasSuffix(key, "grace") ||
				strings.HasPrefix(key, "deliver.retry_") || key == "deliver.lifetime":
				if f.Type != reflect.TypeFor[Duration]() {
					t.Errorf("%s is a %s, not a Duration", key, f.Type)
				}
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
}

// TestEffectiveYAML: what config check prints reads back as the same
// configuration, in the units an admin writes.
func TestEffectiveYAML(t *testing.T) {
	c := Defaults()
	c.Accept.Domains = []string{"city.example.lg.jp"}
	c.Accept.SoftReject = true
	c.Deliver.Relay = "127.0.0.1:25"
	out := c.EffectiveYAML()
	for _, want := range []string{"max_message_bytes: 25MiB\n", "originals_retention: 30d\n", "soft_reject: true\n", "rebuild_timeout: 3m\n", "  domains:\n    - city.example.lg.jp\n"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("effective config lacks %q:\n%s", want, out)
		}
	}
	back, err := ParseConfig("effective.yaml", out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("read back:\n%+v\nwant\n%+v", back, c)
	}
}

// FuzzParseConfig: ParseConfig never panics, and a configuration it
// accepts passes Validate and prints as YAML that reads back to it.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("listen: \"127.0.0.1:2526\"\naccept:\n  max_message_bytes: 25MiB\n  soft_reject: true\noriginals_retention: 90d\n"))
	f.Add([]byte("accept:\n  max_recipients: four\n  networks: [\"10.0.0.0/33\"]\nlimits: {archive_bytes: 1KB}\n"))
	f.Add([]byte("deliver: &d {workers: 2}\nportal: *d\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig("f.yaml", data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted but invalid: %v", err)
		}
		back, err := ParseConfig("back.yaml", c.EffectiveYAML())
		if err != nil || !reflect.DeepEqual(back, c) {
			t.Fatalf("effective config does not read back (%v):\n%s", err, c.EffectiveYAML())
		}
	})
}

// TestSoftReject: with accept.soft_reject the policy's refusals are
// temporary (450 4.7.1), audited as given, and the start logs a warning;
// other replies keep their code.
func TestSoftReject(t *testing.T) {
	soft := Defaults()
	soft.Accept.SoftReject = true
	for _, tc := range []struct {
		cfg  Config
		in   *smtp.SMTPError
		code int
		enh  smtp.EnhancedCode
	}{
		{Defaults(), replyClientDenied, 550, smtp.EnhancedCode{5, 7, 1}},
		{soft, replyClientDenied, 450, smtp.EnhancedCode{4, 7, 1}},
		{soft, replyDomainDenied, 450, smtp.EnhancedCode{4, 7, 1}},
		{soft, replyNoStorage, 452, smtp.EnhancedCode{4, 3, 1}}, // already temporary
	} {
		got := tc.cfg.policyReject(tc.in)
		if got.Code != tc.code || got.EnhancedCode != tc.enh || got.Message != tc.in.Message {
			t.Errorf("policyReject(%d) with soft_reject %v = %d %v", tc.in.Code, tc.cfg.Accept.SoftReject, got.Code, got.EnhancedCode)
		}
	}
	if replyClientDenied.Code != 550 {
		t.Fatal("policyReject changed the shared reply")
	}

	t.Run("client and domain", func(t *testing.T) {
		tg := startGateway(t, func(c *Config) {
			c.Accept.SoftReject = true
			c.Accept.Networks = []string{"192.0.2.0/24"}
		})
		_, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: x\r\n\r\nx\r\n")
		wantSMTPErr(t, err, 450, smtp.EnhancedCode{4, 7, 1})
		tg2 := startGateway(t, func(c *Config) {
			c.Accept.SoftReject = true
			c.Accept.Domains = []string{"city.example.lg.jp"}
		})
		_, err = send(tg2.addr, "a@example.jp", []string{"b@elsewhere.example"}, "Subject: x\r\n\r\nx\r\n")
		wantSMTPErr(t, err, 450, smtp.EnhancedCode{4, 7, 1})
		var replies []string
		for _, r := range auditEvents(t, tg2.cfg.Audit, "") {
			if r["event"] == "rejected" {
				replies = append(replies, r["reply"].(string))
			}
		}
		if !slices.ContainsFunc(replies, func(s string) bool { return strings.HasPrefix(s, "450 4.7.1 Recipient domain not accepted") }) {
			t.Errorf("audited replies %q, want the 450", replies)
		}
	})
	t.Run("unknown recipient", func(t *testing.T) {
		list := filepath.Join(t.TempDir(), "recipients")
		if err := os.WriteFile(list, []byte("staff@city.example.lg.jp\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		tg := startGateway(t, func(c *Config) {
			c.Accept.SoftReject = true
			c.Accept.Recipients = list
		})
		_, err := send(tg.addr, "a@example.jp", []string{"ghost@city.example.lg.jp"}, "Subject: x\r\n\r\nx\r\n")
		wantSMTPErr(t, err, 450, smtp.EnhancedCode{4, 1, 1})
	})
	t.Run("warning at start", func(t *testing.T) {
		var buf bytes.Buffer
		warnSoftReject(slog.New(slog.NewTextHandler(&buf, nil)), soft)
		if !strings.Contains(buf.String(), "level=WARN") || !strings.Contains(buf.String(), "accept.soft_reject is on") {
			t.Errorf("log %q", buf.String())
		}
		buf.Reset()
		warnSoftReject(slog.New(slog.NewTextHandler(&buf, nil)), Defaults())
		if buf.Len() != 0 {
			t.Errorf("warning without soft_reject: %q", buf.String())
		}
	})
}

// TestMaxMessageBytesBound: the largest size ParseSize takes (4 EiB) is
// refused for accept.max_message_bytes with its line: the rebuild reads a
// part with a limit of three times it, which overflowed, and every
// message got 451 from a panic while config check said valid. 1TiB, far
// beyond any mail, still loads.
func TestMaxMessageBytesBound(t *testing.T) {
	_, err := ParseConfig("c.yaml", []byte("accept:\n  max_message_bytes: 4194304TiB\n"))
	if err == nil || !strings.Contains(err.Error(), "c.yaml:2: accept.max_message_bytes: ") {
		t.Errorf("4194304TiB: %v", err)
	}
	if _, err := ParseConfig("c.yaml", []byte("accept:\n  max_message_bytes: 1TiB\n")); err != nil {
		t.Errorf("1TiB: %v", err)
	}
}
