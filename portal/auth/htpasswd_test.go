package auth

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// testdata/htpasswd was made by Debian's htpasswd -B (the commands are in
// its comment lines).
func TestUsersApacheFile(t *testing.T) {
	u, err := LoadUsers("testdata/htpasswd")
	if err != nil {
		t.Fatal(err)
	}
	if u.Len() != 3 {
		t.Errorf("Len = %d, want 3", u.Len())
	}
	for _, tc := range []struct {
		name, password string
		want           bool
	}{
		// The right passwords.
		{"alice", "correct horse battery staple", true},
		{"承認者", "パスワード１２３", true},
		{"carol", "c", true},
		// Wrong ones.
		{"alice", "correct horse battery stapl", false},
		{"alice", "Correct horse battery staple", false},
		{"alice", "", false},
		{"carol", "パスワード１２３", false},
		{"承認者", "パスワード123", false}, // ASCII digits, not full-width
		// Names that are not there, or nearly.
		{"Alice", "correct horse battery staple", false},
		{"alice ", "correct horse battery staple", false},
		{"mallory", "c", false},
		{"", "", false},
	} {
		if got := u.Check(tc.name, tc.password); got != tc.want {
			t.Errorf("Check(%q, %q) = %v, want %v", tc.name, tc.password, got, tc.want)
		}
	}
}

// Every hash kind htpasswd can write but bcrypt is refused, with file:line.
func TestUsersRefuseOtherHashes(t *testing.T) {
	_, err := LoadUsers("testdata/htpasswd-mixed")
	if err == nil {
		t.Fatal("loaded a file of MD5, SHA-1, crypt and plain passwords")
	}
	msg := err.Error()
	for _, want := range []string{
		"testdata/htpasswd-mixed:5: user \"dave-md5\": the password hash is Apache MD5",
		"testdata/htpasswd-mixed:7: user \"frank-sha\": the password hash is SHA-1",
		"testdata/htpasswd-mixed:8: user \"grace-crypt\": the password hash is DES crypt",
		"testdata/htpasswd-mixed:9: user \"heidi-plain\": the password hash is plain text",
		"testdata/htpasswd-mixed:10: user \"ivan-sha512\": the password hash is SHA-2 crypt",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "erin") || strings.Contains(msg, "$apr1$hjHN") || strings.Contains(msg, "EfatjsUq") {
		t.Errorf("error names the good user or quotes a hash:\n%s", msg)
	}
}

// A file made here with x/crypto's bcrypt, in each prefix Apache and
// others write.
func TestUsersXCryptoFile(t *testing.T) {
	var lines []string
	for i, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		h, err := bcrypt.GenerateFromPassword(fmt.Appendf(nil, "pw%d", i), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf("user%d:%s%s", i, prefix, h[4:]))
	}
	long := strings.Repeat("長", 24) // 72 bytes
	h, _ := bcrypt.GenerateFromPassword([]byte(long), bcrypt.MinCost)
	lines = append(lines, "", "# comment", "  long:"+string(h)+"  \r")
	u := loadString(t, strings.Join(lines, "\n"))
	for i := range 3 {
		name := fmt.Sprintf("user%d", i)
		if !u.Check(name, fmt.Sprintf("pw%d", i)) {
			t.Errorf("%s: right password refused", name)
		}
		if u.Check(name, fmt.Sprintf("pw%d", i+1)) {
			t.Errorf("%s: wrong password accepted", name)
		}
	}
	// bcrypt reads 72 bytes: what follows is ignored, as by Apache.
	if !u.Check("long", long) || !u.Check("long", long+"anything") {
		t.Error("72-byte password, or it with more bytes after, refused")
	}
	if u.Check("long", long[:71]) {
		t.Error("71 bytes of a 72-byte password accepted")
	}
}

func TestUsersRefuseMalformed(t *testing.T) {
	good, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	g := string(good)
	for _, tc := range []struct {
		name, file, want string
	}{
		// Lines that are not name:hash.
		{"no colon", "alice", `not "name:hash"`},
		{"empty name", ":" + g, "empty user name"},
		{"control in name", "al\x01ice:" + g, "control or format"},
		{"RLO in name", "al\u202eice:" + g, "control or format"},
		{"long name", strings.Repeat("a", 129) + ":" + g, "longer than 128"},
		{"not UTF-8", "al\xffice:" + g, "not UTF-8"},
		{"twice", "alice:" + g + "\nalice:" + g, `:2: user "alice" already on line 1`},
		// Hashes that look like bcrypt but are not usable.
		{"$2x$", "alice:$2x$" + g[4:], "unsupported bcrypt variant"},
		{"short", "alice:" + g[:59], "malformed"},
		{"long", "alice:" + g + "A", "malformed"},
		{"bad char", "alice:" + g[:30] + "!" + g[31:], "malformed"},
		{"signed cost", "alice:$2y$+5" + g[6:], "malformed"},
		{"cost 3", "alice:$2y$03" + g[6:], "cost 3 outside 4 to 17"},
		{"cost 18", "alice:$2y$18" + g[6:], "cost 18 outside"},
		{"htdigest line", "alice:realm:5f4dcc3b5aa765d61d8327deb882cf99", "unknown kind"},
		{"empty hash", "alice:", "is empty"},
	} {
		_, err := loadStringErr(t, tc.file)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "htpasswd:") {
			t.Errorf("%s: %v; want file:line and %q", tc.name, err, tc.want)
		}
	}
}

func TestUsersReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	write := func(lines ...string) {
		// A new mtime for each write even on coarse clocks.
		old, _ := os.Stat(path)
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if old != nil {
			os.Chtimes(path, time.Time{}, old.ModTime().Add(time.Second))
		}
	}
	a := hash(t, "a-pw")
	b := hash(t, "b-pw")
	write("alice:" + a)
	u, err := LoadUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	if !u.Check("alice", "a-pw") || u.Check("bob", "b-pw") {
		t.Fatal("first load")
	}
	// htpasswd -B adds bob and removes alice: seen at the next Check.
	write("bob:" + b)
	if u.Check("alice", "a-pw") || !u.Check("bob", "b-pw") {
		t.Error("change not seen by Check")
	}
	// A broken file refuses everyone until it is fixed.
	write("bob:"+b, "eve:{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI=")
	if u.Check("bob", "b-pw") {
		t.Error("broken file: login still accepted")
	}
	if err := u.Err(); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("Err = %v, want the broken line", err)
	}
	write("bob:" + b)
	if !u.Check("bob", "b-pw") || u.Err() != nil {
		t.Errorf("fixed file: refused (%v)", u.Err())
	}
	// A removed file refuses everyone; Reload says why.
	os.Remove(path)
	if u.Check("bob", "b-pw") {
		t.Error("removed file: login accepted")
	}
	if err := u.Reload(); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Reload of a removed file: %v", err)
	}
}

// An unknown name costs one bcrypt compare at the file's cost, as a
// known one does.
func TestUsersUnknownNameCost(t *testing.T) {
	h, _ := bcrypt.GenerateFromPassword([]byte("x"), 8)
	u := loadString(t, "alice:"+string(h))
	if cost, err := bcrypt.Cost(u.dummy); err != nil || cost != 8 {
		t.Fatalf("dummy hash cost %d, %v; want 8", cost, err)
	}
	if u.Check("nobody", "x") || u.Check("nobody", "") {
		t.Error("an unknown name logged in")
	}
	empty := loadString(t, "# nobody yet\n")
	if cost, _ := bcrypt.Cost(empty.dummy); cost != bcrypt.DefaultCost {
		t.Errorf("empty file's dummy cost %d, want %d", cost, bcrypt.DefaultCost)
	}
	if empty.Check("", "") {
		t.Error("empty file accepted a login")
	}
}

// BenchmarkCheck compares a wrong password for a known name with one for
// an unknown name: both run one bcrypt compare of the same cost, so their
// times match (a timing test would flake on a shared machine; compare the
// two lines of the benchmark's output instead).
func BenchmarkCheck(b *testing.B) {
	h, _ := bcrypt.GenerateFromPassword([]byte("x"), 8)
	path := filepath.Join(b.TempDir(), "htpasswd")
	os.WriteFile(path, []byte("alice:"+string(h)), 0o600)
	u, err := LoadUsers(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"alice", "nobody"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				u.Check(name, "wrong")
			}
		})
	}
}

func FuzzParseUsers(f *testing.F) {
	for _, name := range []string{"testdata/htpasswd", "testdata/htpasswd-mixed"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a:$2y$04$ZTNa8zBxzqqqcQAnGiju1e6gDknC4PMykRAlAlB1dm7SFunSyHxkC\n#x\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		users, cost, err := parseUsers("f", data)
		if err != nil {
			return
		}
		if cost < minCost || cost > maxCost {
			t.Fatalf("cost %d", cost)
		}
		// What loads is valid, and loads again the same when written out.
		var out strings.Builder
		for name, h := range users {
			if checkName(name) != nil || checkHash(name, string(h)) != nil {
				t.Fatalf("loaded %q:%q", name, h)
			}
			if _, err := bcrypt.Cost(h); err != nil {
				t.Fatalf("loaded hash %q: %v", h, err)
			}
			fmt.Fprintf(&out, "%s:%s\n", name, h)
		}
		again, _, err := parseUsers("f", []byte(out.String()))
		if err != nil || len(again) != len(users) {
			t.Fatalf("written out, did not load the same: %v", err)
		}
		for name, h := range users {
			if string(again[name]) != string(h) {
				t.Fatalf("%q changed", name)
			}
		}
	})
}

func hash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func loadStringErr(t *testing.T, content string) (*Users, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return LoadUsers(path)
}

func loadString(t *testing.T, content string) *Users {
	t.Helper()
	u, err := loadStringErr(t, content)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Stamp changes with the user's entry and is gone with the user or a
// file that does not load.
func TestUsersStamp(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "htpasswd")
	write := func(s string, at time.Time) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(path, at, at)
	}
	a1, a2, b := hash(t, "a-pw"), hash(t, "a-new"), hash(t, "b-pw")
	write("alice:"+a1+"\nbob:"+b+"\n", t0)
	u, err := LoadUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	s1, ok1 := u.Stamp("alice")
	sb, okb := u.Stamp("bob")
	if !ok1 || !okb || s1 == sb {
		t.Fatalf("stamps %v %v, equal %v", ok1, okb, s1 == sb)
	}
	if _, ok := u.Stamp("carol"); ok {
		t.Error("a stamp for an unknown user")
	}
	write("alice:"+a2+"\nbob:"+b+"\n", t0.Add(time.Second))
	if s2, ok := u.Stamp("alice"); !ok || s2 == s1 {
		t.Error("a new password kept the stamp")
	}
	if s, _ := u.Stamp("bob"); s != sb {
		t.Error("another user's new password changed bob's stamp")
	}
	write("bob:"+b+"\n", t0.Add(2*time.Second))
	if _, ok := u.Stamp("alice"); ok {
		t.Error("a removed user has a stamp")
	}
	write("bob:{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI=\n", t0.Add(3*time.Second))
	if _, ok := u.Stamp("bob"); ok {
		t.Error("a stamp from a file that does not load")
	}
}
