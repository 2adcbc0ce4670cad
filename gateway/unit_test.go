package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mugai/gateway/smtpd"
	"mugai/sanitize"
	"mugai/sanitize/format"
)

// TestToReply: every error leaving a session becomes a named *SMTPError;
// unknown ones are temporary (451), never a 5xx that loses mail.
func TestToReply(t *testing.T) {
	tests := []struct {
		err  error
		code int
		enh  smtp.EnhancedCode
	}{
		// size and line limits from smtpd's readers, wrapped or not
		{smtpd.ErrTooBig, 552, smtp.EnhancedCode{5, 3, 4}},
		{fmt.Errorf("copy: %w", smtpd.ErrTooBig), 552, smtp.EnhancedCode{5, 3, 4}},
		{fmt.Errorf("copy: %w", smtpd.ErrLineTooLong), 500, smtp.EnhancedCode{5, 5, 2}},
		// strict line endings
		{smtpd.ErrBareLF, 550, smtp.EnhancedCode{5, 6, 0}},
		{fmt.Errorf("x: %w", smtpd.ErrBareCR), 550, smtp.EnhancedCode{5, 6, 0}},
		{smtpd.ErrNUL, 550, smtp.EnhancedCode{5, 6, 0}},
		// no rebuild memory in time: the client retries
		{errBusy, 451, smtp.EnhancedCode{4, 3, 2}},
		{&format.GrowError{Err: fmt.Errorf("x: %w", errBusy)}, 451, smtp.EnhancedCode{4, 3, 2}},
		// the rebuild ran out of limits.rebuild_timeout: nothing kept, retry
		{fmt.Errorf("rebuild: %w: %w", sanitize.ErrDeadline, context.DeadlineExceeded), 451, smtp.EnhancedCode{4, 3, 0}},
		// internal failures are temporary
		{errors.New("disk full"), 451, smtp.EnhancedCode{4, 3, 0}},
		{fmt.Errorf("spool: %w", os.ErrPermission), 451, smtp.EnhancedCode{4, 3, 0}},
		{io.ErrUnexpectedEOF, 451, smtp.EnhancedCode{4, 3, 0}},
		// our named replies pass through untouched
		{replyClientDenied, 550, smtp.EnhancedCode{5, 7, 1}},
		{replyQueued("x"), 250, smtp.EnhancedCode{2, 0, 0}},
	}
	for _, tc := range tests {
		got := toReply(tc.err, "ID")
		if got.Code != tc.code || got.EnhancedCode != tc.enh {
			t.Errorf("toReply(%v) = %d %v, want %d %v", tc.err, got.Code, got.EnhancedCode, tc.code, tc.enh)
		}
		if strings.Contains(got.Message, "disk full") || strings.Contains(got.Message, "permission") {
			t.Errorf("internal detail leaked to the client: %q", got.Message)
		}
	}
	if got := toReply(sanitize.ErrDeadline, "ID").Message; !strings.Contains(got, "took too long") || !strings.Contains(got, "ID") {
		t.Errorf("deadline reply %q does not say it took too long, with the id", got)
	}
	if toReply(nil, "ID") != nil {
		t.Error("toReply(nil) != nil")
	}
}

func TestSplitMailbox(t *testing.T) {
	tests := []struct {
		in     string
		domain string // "" = refused
	}{
		// accepted
		{"yamada@city.example.lg.jp", "city.example.lg.jp"},
		{"Yamada.Taro@City.Example.LG.JP", "city.example.lg.jp"},
		{"a+tag@example.jp", "example.jp"},
		{"postmaster@localhost", "localhost"},
		// relay hacks and odd forms
		{"a%b@example.jp", ""},
		{"a!b@example.jp", ""},
		{"a@b@example.jp", ""},
		{`"a b"@example.jp`, ""},
		{".a@example.jp", ""},
		{"a..b@example.jp", ""},
		{"a@[192.0.2.1]", ""},
		{"a@example.jp.", ""},
		{"a@-x.jp", ""},
		{"a@nodot", ""},
		{"@example.jp", ""},
		{"a@", ""},
		{"日本@example.jp", ""},
		{strings.Repeat("a", 65) + "@example.jp", ""},
	}
	for _, tc := range tests {
		_, d, ok := splitMailbox(tc.in)
		if ok != (tc.domain != "") || d != tc.domain {
			t.Errorf("splitMailbox(%q) = %q, %v; want %q", tc.in, d, ok, tc.domain)
		}
	}
}

func TestConfig(t *testing.T) {
	def := Defaults()
	if err := def.Validate(); err != nil {
		t.Fatalf("embedded defaults invalid: %v", err)
	}
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, fmt.Sprintf("c%d.yaml", len(s)))
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	t.Run("overrides keep other defaults", func(t *testing.T) {
		c, err := LoadConfig(write("listen: \"127.0.0.1:2526\"\ndeliver:\n  relay: \"127.0.0.1:25\"\n  retry_min: 30s\n  lifetime: 3d\n"))
		if err != nil {
			t.Fatal(err)
		}
		if c.Listen != "127.0.0.1:2526" || c.Deliver.Relay != "127.0.0.1:25" || c.Deliver.RetryMin.D().String() != "30s" ||
			c.Deliver.Lifetime.D().Hours() != 72 || c.Accept.MaxMessageBytes != 26214400 || c.Deliver.Maildir != "var/maildir" {
			t.Errorf("config = %+v", c)
		}
	})
	t.Run("unknown key names its path and line", func(t *testing.T) {
		_, err := LoadConfig(write("deliver:\n  relai: \"x:25\"\naccept:\n  networks: [\"127.0.0.1\"]\n  domain: []\n"))
		if err == nil {
			t.Fatal("no error")
		}
		for _, want := range []string{":2: deliver.relai: unknown key", ":5: accept.domain: unknown key"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
	})
	t.Run("all bad values reported at once", func(t *testing.T) {
		_, err := LoadConfig(write("listen: nope\naccept:\n  networks: [\"10.0.0.0/33\"]\n  max_message_bytes: 5\ndeliver:\n  relay: \"no-port\"\n  workers: 0\ndurability: fast\nlimits:\n  rebuild_memory: 1000\n"))
		if err == nil {
			t.Fatal("no error")
		}
		for _, want := range []string{"listen:", "accept.networks[0]:", "accept.max_message_bytes:", "deliver.relay:", "deliver.workers:", `durability: "fast" is not filesystem or files`, "limits.rebuild_memory:"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q:\n%v", want, err)
			}
		}
	})
	t.Run("rebuild limits", func(t *testing.T) {
		tests := []struct {
			yaml, want string // want "": valid
		}{
			// limits.rebuild_timeout: positive and under RFC 5321's 10 minutes
			{"limits:\n  rebuild_timeout: 90s\n", ""},
			{"limits:\n  rebuild_timeout: 9m59s\n", ""},
			{"limits:\n  rebuild_timeout: 10m\n", "limits.rebuild_timeout: 10m0s must be a positive duration below 10m"},
			{"limits:\n  rebuild_timeout: 1h\n", "limits.rebuild_timeout: 1h0m0s must be a positive duration below 10m"},
			{"limits:\n  rebuild_timeout: 0s\n", "limits.rebuild_timeout: 0s must be a positive duration"},
			{"limits:\n  rebuild_timeout: -1m\n", "limits.rebuild_timeout: -1m0s must be a positive duration"},
			{"limits:\n  rebuild_timeout: soon\n", `"soon" is not a duration`},
			// limits.message_expansion: bytes, at least 1 MiB
			{"limits:\n  message_expansion: 1048576\n", ""},
			{"limits:\n  message_expansion: 1000\n", "limits.message_expansion: 1000 is too small"},
			{"limits:\n  message_expansion: 0\n", "limits.message_expansion: 0 is too small"},
			// the sanitizer, archive and forwarding limits
			{"limits:\n  sanitize_timeout: 90s\n  forward_depth: 1\n  archive_depth: 10\n  archive_members: 100000\n  archive_bytes: 1048576\n", ""},
			{"limits:\n  sanitize_timeout: 0s\n", "limits.sanitize_timeout: 0s must be a positive duration below 10m"},
			{"limits:\n  sanitize_timeout: 10m\n", "limits.sanitize_timeout: 10m0s must be a positive duration below 10m"},
			{"limits:\n  sanitize_timeout: later\n", `"later" is not a duration`},
			{"limits:\n  forward_depth: 0\n", "limits.forward_depth: 0 must be between 1 and 10"},
			{"limits:\n  archive_depth: 11\n", "limits.archive_depth: 11 must be between 1 and 10"},
			{"limits:\n  archive_members: -1\n", "limits.archive_members: -1 must be between 1 and 100000"},
			{"limits:\n  archive_bytes: 1000\n", "limits.archive_bytes: 1000 is too small (at least 1048576)"},
			{"limits:\n  archive_member: 5\n", "limits.archive_member: unknown key"},
		}
		for i, tc := range tests {
			p := filepath.Join(dir, fmt.Sprintf("limits%d.yaml", i))
			os.WriteFile(p, []byte(tc.yaml), 0o644)
			_, err := LoadConfig(p)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%q: %v", tc.yaml, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
			}
		}
		if d := Defaults().Limits; d.RebuildTimeout.D() != 3*time.Minute || int64(d.MessageExpansion) != sanitize.DefaultLimits.MaxExpansion {
			t.Errorf("defaults: rebuild_timeout %s, message_expansion %d", d.RebuildTimeout.D(), d.MessageExpansion)
		}
		// The defaults are what was fixed in code before they were keys.
		if d := Defaults().Limits; d.SanitizeTimeout.D() != 60*time.Second || d.ForwardDepth != 3 || d.ArchiveDepth != 3 ||
			d.ArchiveMembers != 5000 || d.ArchiveBytes != 256<<20 || d.MIMEDepth != 32 || d.MIMEParts != 1000 || d.HeaderBytes != 256<<10 {
			t.Errorf("defaults: %+v", d)
		}
	})
	t.Run("limits reach the rebuild", func(t *testing.T) {
		c := Defaults()
		c.Accept.MaxMessageBytes = 7 << 20
		c.Limits = Limits{MIMEDepth: 11, MIMEParts: 12, HeaderBytes: 13 << 10, MessageExpansion: 14 << 20,
			SanitizeTimeout: Duration(15 * time.Second), ForwardDepth: 2, ArchiveDepth: 4, ArchiveMembers: 17, ArchiveBytes: 18 << 20}
		want := sanitize.Limits{MaxDepth: 11, MaxParts: 12, MaxHeaderBytes: 13 << 10, MaxPartBytes: 7 << 20, MaxExpansion: 14 << 20,
			SanitizeTimeout: 15 * time.Second, MaxForwardDepth: 2, MaxArchiveDepth: 4, MaxArchiveMembers: 17, MaxArchiveBytes: 18 << 20}
		if got := c.sanitizeLimits(); got != want {
			t.Errorf("sanitizeLimits = %+v\nwant %+v", got, want)
		}
		// Logged with the effective config at start (serve marshals it).
		js, _ := json.Marshal(Defaults())
		for _, k := range []string{`"sanitize_timeout":"1m0s"`, `"forward_depth":3`, `"archive_depth":3`, `"archive_members":5000`, `"archive_bytes":268435456`} {
			if !strings.Contains(string(js), k) {
				t.Errorf("effective config lacks %s: %s", k, js)
			}
		}
	})
	t.Run("bad duration", func(t *testing.T) {
		_, err := LoadConfig(write("deliver:\n  timeout: soon\n"))
		if err == nil || !strings.Contains(err.Error(), `"soon" is not a duration`) {
			t.Errorf("err = %v", err)
		}
	})
}
