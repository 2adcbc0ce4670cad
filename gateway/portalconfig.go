package gateway

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// Portal configures the staff and approver web pages (package portal):
// the link in every notice, requests for originals, PPAP unlock.
type Portal struct {
	// Listen is host:port of the portal's own listener, on the LGWAN
	// side; empty turns the portal off (notices then say to ask the
	// admin).
	Listen string `yaml:"listen" json:"listen"`
	// URL is the base written into notices, as staff's browsers reach
	// the portal (through a proxy, a name); default "http://" + listen.
	URL     string `yaml:"url" json:"url"`
	TLSCert string `yaml:"tls_cert" json:"tls_cert"` // PEM; with tls_key the portal speaks HTTPS
	TLSKey  string `yaml:"tls_key" json:"tls_key"`
	// SecretFile holds the key that signs the links (created 0600 on the
	// first start when missing). Nodes that share it and the originals
	// serve each other's links.
	SecretFile string `yaml:"secret_file" json:"secret_file"`
	// State is the folder of the release requests (durable, kept as long
	// as their original).
	State string `yaml:"state" json:"state"`
	// Users is an htpasswd file with bcrypt hashes (htpasswd -B): the
	// approvers' logins.
	Users string `yaml:"users" json:"users"`
	// TrustedHeader names the header an SSO reverse proxy sets to the
	// authenticated user (e.g. X-Remote-User); honoured only from
	// TrustedProxies.
	TrustedHeader  string   `yaml:"trusted_header" json:"trusted_header"`
	TrustedProxies []string `yaml:"trusted_proxies" json:"trusted_proxies"`
	// Approvers may decide requests; empty: every authenticated user.
	Approvers []string `yaml:"approvers" json:"approvers"`
	// Notify gets a short mail when a request waits and when it is decided.
	Notify []string `yaml:"notify" json:"notify"`
}

func defaultPortal() Portal {
	return Portal{Listen: "127.0.0.1:8025", SecretFile: "var/portal.key", State: "var/portal", Users: "var/approvers.htpasswd",
		TrustedProxies: []string{}, Approvers: []string{}, Notify: []string{}}
}

// BaseURL is the portal's URL as notices carry it: URL without a
// trailing slash, or http://listen.
func (p Portal) BaseURL() string {
	if p.URL != "" {
		return strings.TrimRight(p.URL, "/")
	}
	return "http://" + p.Listen
}

// Proxies parses TrustedProxies (addresses or CIDRs).
func (p Portal) Proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range p.TrustedProxies {
		pfx, err := parseNetwork(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR or IP address", s)
		}
		out = append(out, pfx)
	}
	return out, nil
}

// validatePortal checks the portal's keys when it is on.
func (c *Config) validatePortal(add problem) {
	p := c.Portal
	if p.Listen == "" {
		return
	}
	host, _, err := net.SplitHostPort(p.Listen)
	listenOK := err == nil
	if !listenOK {
		add("portal.listen", "%q is not host:port (e.g. 127.0.0.1:8025)", p.Listen)
	}
	switch u, err := url.Parse(p.URL); {
	case p.URL == "" && err == nil && host == "" && listenOK:
		add("portal.url", "required when portal.listen has no host (%q): the address staff's browsers use", p.Listen)
	case p.URL == "":
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		add("portal.url", "%q is not an http:// or https:// URL without query, fragment or user", p.URL)
	case strings.Trim(u.Path, "/") != "":
		// The pages and the approvers' cookie live at the root (/m/, /admin/).
		add("portal.url", "%q has a path: the portal is served at the root of its host (proxy a whole host name to it)", p.URL)
	}
	if (p.TLSCert == "") != (p.TLSKey == "") {
		add("portal.tls_cert", "tls_cert and tls_key go together")
	}
	for k, v := range map[string]string{"portal.secret_file": p.SecretFile, "portal.state": p.State} {
		if v == "" {
			add(k, "required when the portal is on")
		}
	}
	if _, err := p.Proxies(); err != nil {
		add("portal.trusted_proxies", "%v", err)
	}
	if p.TrustedHeader != "" && len(p.TrustedProxies) == 0 {
		add("portal.trusted_header", "needs portal.trusted_proxies: the header is honoured only from them")
	}
	if p.TrustedHeader != "" && !validHeaderName(p.TrustedHeader) {
		add("portal.trusted_header", "%q is not a header name", p.TrustedHeader)
	}
	for i, a := range p.Approvers {
		if err := CheckOperator(a); err != nil {
			add(fmt.Sprintf("portal.approvers[%d]", i), "%v", err)
		}
	}
	for i, a := range p.Notify {
		if _, _, ok := splitMailbox(a); !ok {
			add(fmt.Sprintf("portal.notify[%d]", i), "%q is not a plain local@domain address", a)
		}
	}
}

func validHeaderName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return s != ""
}
