package gateway

import (
	"strings"
	"testing"
)

// TestPortalConfig: every portal key is checked, each problem named by its
// path; an empty listen turns the portal off and nothing else is checked.
func TestPortalConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Portal)
		want string // "" = valid
	}{
		{"defaults", func(*Portal) {}, ""},
		{"off", func(p *Portal) { *p = Portal{URL: "nonsense"} }, ""},
		{"listen", func(p *Portal) { p.Listen = "8025" }, `portal.listen: "8025" is not host:port`},
		{"no host", func(p *Portal) { p.Listen = ":8025" }, "portal.url: required when portal.listen has no host"},
		{"no host, url", func(p *Portal) { p.Listen = ":8025"; p.URL = "https://mugai.city.lg.jp/" }, ""},
		{"url scheme", func(p *Portal) { p.URL = "javascript:alert(1)" }, "portal.url: \"javascript:alert(1)\" is not an http:// or https:// URL"},
		{"url query", func(p *Portal) { p.URL = "https://x.example/?a=b" }, "portal.url:"},
		{"url user", func(p *Portal) { p.URL = "https://u:p@x.example/" }, "portal.url:"},
		{"url path", func(p *Portal) { p.URL = "https://x.example/portal/" }, "portal.url: \"https://x.example/portal/\" has a path"},
		{"tls half", func(p *Portal) { p.TLSCert = "c.pem" }, "portal.tls_cert: tls_cert and tls_key go together"},
		{"secret", func(p *Portal) { p.SecretFile = "" }, "portal.secret_file: required"},
		{"state", func(p *Portal) { p.State = "" }, "portal.state: required"},
		{"proxies", func(p *Portal) { p.TrustedProxies = []string{"10.0.0.0/33"} }, `portal.trusted_proxies: "10.0.0.0/33" is not a CIDR`},
		{"header alone", func(p *Portal) { p.TrustedHeader = "X-Remote-User" }, "portal.trusted_header: needs portal.trusted_proxies"},
		{"header name", func(p *Portal) { p.TrustedHeader = "X User"; p.TrustedProxies = []string{"127.0.0.1"} }, `portal.trusted_header: "X User" is not a header name`},
		{"header ok", func(p *Portal) {
			p.TrustedHeader = "X-Remote-User"
			p.TrustedProxies = []string{"127.0.0.1", "10.1.0.0/16"}
		}, ""},
		{"approver", func(p *Portal) { p.Approvers = []string{"tanaka", " "} }, "portal.approvers[1]: bad operator name"},
		{"approver name", func(p *Portal) { p.Approvers = []string{"bad name"} }, `portal.approvers[0]: bad operator name "bad name"`},
		{"listen without port", func(p *Portal) { p.Listen = "localhost" }, `portal.listen: "localhost" is not host:port`},
		{"notify", func(p *Portal) { p.Notify = []string{"admin@city.example.jp", "<x>"} }, `portal.notify[1]: "<x>" is not a plain local@domain address`},
	} {
		c := Defaults()
		tc.edit(&c.Portal)
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
	c := Defaults()
	if got := c.Portal.BaseURL(); got != "http://127.0.0.1:8025" {
		t.Errorf("default base %q", got)
	}
	c.Portal.URL = "https://mugai.city.lg.jp/"
	if got := c.Portal.BaseURL(); got != "https://mugai.city.lg.jp" {
		t.Errorf("base %q", got)
	}
}
