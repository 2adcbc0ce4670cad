package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseRecipients(t *testing.T) {
	l, err := parseRecipients("r.txt", []byte(strings.Join([]string{
		"# staff of the city",
		"",
		"  Staff@City.Example  ",
		"kikaku@city.example OK\t",
		"\t# indented comment",
		"@Branch.City.Example",
		"crlf@city.example\r",
	}, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		local, domain string
		want          bool
	}{
		// listed addresses, any case (Postfix folds lookup keys to lower case)
		{"staff", "city.example", true},
		{"STAFF", "CITY.EXAMPLE", true},
		{"kikaku", "city.example", true},
		{"crlf", "city.example", true},
		// a wildcard covers every local part of its domain only
		{"anyone", "branch.city.example", true},
		{"Anyone", "BRANCH.city.example", true},
		{"anyone", "sub.branch.city.example", false},
		// not listed: no address extensions, no other domains
		{"staff+tag", "city.example", false},
		{"nobody", "city.example", false},
		{"staff", "other.example", false},
	} {
		if got := l.has(c.local, c.domain); got != c.want {
			t.Errorf("has(%q, %q) = %v, want %v", c.local, c.domain, got, c.want)
		}
	}
	want := "crlf@city.example kikaku@city.example staff@city.example @branch.city.example"
	if got := strings.Join(l.entries(), " "); got != want {
		t.Errorf("entries = %q, want %q", got, want)
	}
}

func TestParseRecipientsErrors(t *testing.T) {
	for _, c := range []struct {
		name, data string
		want       []string // each in the error
	}{
		// every bad line reported with file:line, in one pass
		{"bad lines", "ok@city.example\nnot an address at all\n@\n\"q\"@city.example\nstaff@city.example x y\n",
			[]string{"r.txt:2:", "r.txt:3:", "r.txt:4:", "r.txt:5:", "at most one word"}},
		{"bad wildcard", "@-bad.example\n@nodot\n", []string{"r.txt:1:", "r.txt:2:", "not a valid @domain"}},
		// an empty list would refuse everyone: a truncated file, most likely
		{"empty", "# only comments\n\n", []string{"no address or @domain"}},
		{"many bad", strings.Repeat("x\n", 30), []string{"r.txt:20:", "10 more problems"}},
	} {
		_, err := parseRecipients("r.txt", []byte(c.data))
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
		if c.name == "many bad" && strings.Contains(err.Error(), "r.txt:21:") {
			t.Errorf("more than %d problems listed: %v", maxListErrors, err)
		}
	}
}

// TestRecipientsConfig: accept.recipients is checked with its key path,
// and New refuses to start on a list that does not load.
func TestRecipientsConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("staff@city.example\nbroken line here\n"), 0o644)
	cfg := testConfig(t, func(c *Config) { c.Accept.Recipients = bad })
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "accept.recipients: "+bad+":2:") {
		t.Fatalf("Validate: %v, want accept.recipients with file:line", err)
	}
	if _, err := New(cfg, rcptTestLog(t), nil); err == nil || !strings.Contains(err.Error(), bad+":2:") {
		t.Fatalf("New: %v, want a refusal naming %s:2", err, bad)
	}
	cfg.Accept.Recipients = filepath.Join(dir, "missing.txt")
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "accept.recipients: ") {
		t.Fatalf("Validate with a missing file: %v", err)
	}
}

// TestVerifyConfig: every accept.verify_* problem is reported at once,
// each with its key path.
func TestVerifyConfig(t *testing.T) {
	cfg := testConfig(t, func(c *Config) {
		c.Deliver.Relay = ""
		c.Accept.VerifyRecipients = true
		c.Accept.VerifySender = "not an address"
		c.Accept.VerifyTimeout = Duration(10 * time.Minute)
		c.Accept.VerifyCachePositive = 0
		c.Accept.VerifyCacheNegative = -1
		c.Accept.VerifyCacheSize = 0
	})
	err := cfg.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, key := range []string{"accept.verify_recipients: needs deliver.relay", "accept.verify_sender: ", "accept.verify_timeout: ",
		"accept.verify_cache_positive: ", "accept.verify_cache_negative: ", "accept.verify_cache_size: "} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error lacks %q:\n%v", key, err)
		}
	}
	if def := testConfig(t, nil); def.Validate() != nil {
		t.Errorf("defaults: %v", def.Validate())
	}
}

func FuzzParseRecipients(f *testing.F) {
	f.Add([]byte("staff@city.example\n@city.example\n# c\n"))
	f.Add([]byte("a@b.c OK\r\n\r\n@x.y z\n"))
	f.Add([]byte("\"q\"@x.y\n@\n@@\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := parseRecipients("f", data)
		if err != nil {
			return
		}
		// The entries, written back as a list, parse to the same list,
		// and each is found.
		es := l.entries()
		l2, err := parseRecipients("g", []byte(strings.Join(es, "\n")))
		if err != nil {
			t.Fatalf("entries %q do not parse again: %v", es, err)
		}
		if strings.Join(l2.entries(), "\n") != strings.Join(es, "\n") {
			t.Fatalf("entries changed: %q → %q", es, l2.entries())
		}
		for _, e := range es {
			at := strings.LastIndexByte(e, '@')
			local := e[:at]
			if local == "" {
				local = "anyone"
			}
			if !l.has(strings.ToUpper(local), strings.ToUpper(e[at+1:])) {
				t.Fatalf("entry %q not found in upper case", e)
			}
		}
	})
}

// TestParseRecipientsBOM: a list saved by Windows Notepad starts with a
// UTF-8 byte order mark; its first address is read like the others
// instead of refusing the start with "\ufeffstaff@…" is not a plain
// address.
func TestParseRecipientsBOM(t *testing.T) {
	l, err := parseRecipients("r.txt", []byte("\ufeffstaff@city.example\r\n@dept.city.example\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !l.has("staff", "city.example") || !l.has("x", "dept.city.example") {
		t.Errorf("entries %v", l.entries())
	}
}
