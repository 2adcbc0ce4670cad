package auth

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestParseProxies(t *testing.T) {
	got, err := ParseProxies([]string{"127.0.0.1", " ::1 ", "10.0.0.0/8", "2001:db8::/32", "::ffff:192.0.2.1", "::ffff:198.51.100.0/120"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.1/32", "::1/128", "10.0.0.0/8", "2001:db8::/32", "192.0.2.1/32", "198.51.100.0/24"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("[%d] = %v, want %s", i, got[i], want[i])
		}
	}
	_, err = ParseProxies([]string{"10.0.0.0/8", "", "proxy.example", "10.1.2.3/8", "fe80::1%eth0", "10.0.0.0/33"})
	if err == nil {
		t.Fatal("bad entries accepted")
	}
	for _, want := range []string{
		`trusted_proxies[1] "": empty`,
		`[2] "proxy.example": not an IP`,
		`[3] "10.1.2.3/8": host bits set: did you mean 10.0.0.0/8, or 10.1.2.3/32?`,
		`[4] "fe80::1%eth0": an address with a zone`,
		`[5] "10.0.0.0/33": not an IP`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "[0]") {
		t.Errorf("good entry reported: %v", err)
	}
}

func TestTrustedUser(t *testing.T) {
	proxies, err := ParseProxies([]string{"127.0.0.1", "10.1.0.0/16", "2001:db8::5"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		remote  string
		header  string
		values  []string
		proxies []netip.Prefix
		want    string // "" = refused
	}{
		// From a trusted proxy.
		{"loopback proxy", "127.0.0.1:40000", "X-Remote-User", []string{"tanaka"}, proxies, "tanaka"},
		{"in prefix", "10.1.200.3:443", "X-Remote-User", []string{"  佐藤  "}, proxies, "佐藤"},
		{"v6 proxy", "[2001:db8::5]:8080", "X-Remote-User", []string{"a@city.example.lg.jp"}, proxies, "a@city.example.lg.jp"},
		{"v4-mapped", "[::ffff:127.0.0.1]:1", "X-Remote-User", []string{"tanaka"}, proxies, "tanaka"},
		{"header case", "127.0.0.1:1", "x-remote-user", []string{"tanaka"}, proxies, "tanaka"},
		// From anyone else, the header means nothing.
		{"untrusted v4", "192.0.2.7:40000", "X-Remote-User", []string{"tanaka"}, proxies, ""},
		{"outside prefix", "10.2.0.1:1", "X-Remote-User", []string{"tanaka"}, proxies, ""},
		{"untrusted v6", "[2001:db8::6]:1", "X-Remote-User", []string{"tanaka"}, proxies, ""},
		{"no proxies", "127.0.0.1:1", "X-Remote-User", []string{"tanaka"}, nil, ""},
		{"no header name", "127.0.0.1:1", "", []string{"tanaka"}, proxies, ""},
		{"bad remote", "not an address", "X-Remote-User", []string{"tanaka"}, proxies, ""},
		// Values refused even from a proxy.
		{"absent", "127.0.0.1:1", "X-Remote-User", nil, proxies, ""},
		{"empty", "127.0.0.1:1", "X-Remote-User", []string{""}, proxies, ""},
		{"blank", "127.0.0.1:1", "X-Remote-User", []string{" \t "}, proxies, ""},
		{"twice", "127.0.0.1:1", "X-Remote-User", []string{"mallory", "tanaka"}, proxies, ""},
		{"too long", "127.0.0.1:1", "X-Remote-User", []string{strings.Repeat("a", 129)}, proxies, ""},
		{"128 bytes", "127.0.0.1:1", "X-Remote-User", []string{strings.Repeat("a", 128)}, proxies, strings.Repeat("a", 128)},
		{"control", "127.0.0.1:1", "X-Remote-User", []string{"tana\x00ka"}, proxies, ""},
		{"escape", "127.0.0.1:1", "X-Remote-User", []string{"\x1b[31mroot"}, proxies, ""},
		{"RLO", "127.0.0.1:1", "X-Remote-User", []string{"admin\u202egnp"}, proxies, ""},
		{"zero width", "127.0.0.1:1", "X-Remote-User", []string{"adm\u200bin"}, proxies, ""},
		{"line separator", "127.0.0.1:1", "X-Remote-User", []string{"a\u2028b"}, proxies, ""},
		{"not UTF-8", "127.0.0.1:1", "X-Remote-User", []string{"\xff\xfe"}, proxies, ""},
	} {
		r := httptest.NewRequest("GET", "/admin/", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.values {
			r.Header.Add("X-Remote-User", v)
		}
		got, ok := TrustedUser(r, tc.header, tc.proxies)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}

func TestClientKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.7:1234", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:1234", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa::1]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb::9]:443", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:1", "fe80::/64"},
		{"::1", "::/64"},
		{"@", "@"},
	} {
		if got := ClientKey(tc.in); got != tc.want {
			t.Errorf("ClientKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
