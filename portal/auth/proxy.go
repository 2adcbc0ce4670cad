package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLen is the longest user name accepted, from an htpasswd file or
// a trusted header.
const MaxNameLen = 128

// ParseProxies parses portal.trusted_proxies: each entry an address
// ("192.0.2.10", "::1"), taken as a one-address prefix, or a prefix in
// CIDR notation ("10.0.0.0/8"). A prefix with host bits set
// ("10.1.2.3/8") is refused as a likely typo, and so are zones. All bad
// entries are reported together.
func ParseProxies(cidrsOrIPs []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for i, s := range cidrsOrIPs {
		p, err := parseProxy(strings.TrimSpace(s))
		if err != nil {
			errs = append(errs, fmt.Errorf("trusted_proxies[%d] %q: %w", i, s, err))
			continue
		}
		out = append(out, p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func parseProxy(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, errors.New("empty")
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, errors.New("not an IP address or CIDR prefix")
		}
		if a.Zone() != "" {
			return netip.Prefix{}, errors.New("an address with a zone")
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, errors.New("not an IP address or CIDR prefix")
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Errorf("host bits set: did you mean %s, or %s/%d?", p.Masked(), p.Addr(), p.Addr().BitLen())
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p, nil
}

// TrustedUser returns the user a reverse proxy named in header, but only
// when the request came straight from one of proxies (r.RemoteAddr; an
// IPv4-mapped IPv6 address counts as IPv4). The value is trimmed of
// spaces and refused when empty, longer than MaxNameLen bytes, not UTF-8,
// or holding control, format or line-separator characters; so is a
// header given more than once (a proxy that appends to the client's
// header instead of replacing it). With no header name or no proxies,
// nobody is trusted.
func TrustedUser(r *http.Request, header string, proxies []netip.Prefix) (user string, ok bool) {
	if header == "" || len(proxies) == 0 {
		return "", false
	}
	from, ok := remoteAddr(r.RemoteAddr)
	if !ok || !inAny(from, proxies) {
		return "", false
	}
	vals := r.Header.Values(header)
	if len(vals) != 1 {
		return "", false
	}
	user = strings.TrimSpace(vals[0])
	if checkName(user) != nil {
		return "", false
	}
	return user, true
}

// ClientKey returns the key to rate-limit a client by, from a request's
// RemoteAddr: the IPv4 address, or the IPv6 /64 (one host's usual
// share, so a client cannot dodge the limit by changing addresses within
// it). An address it cannot parse is returned as it is.
func ClientKey(remote string) string {
	a, ok := remoteAddr(remote)
	if !ok {
		return remote
	}
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

func remoteAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone("").Unmap(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.WithZone("").Unmap(), true
	}
	return netip.Addr{}, false
}

func inAny(a netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// checkName says what is wrong with a user name, or nil.
func checkName(s string) error {
	switch {
	case s == "":
		return errors.New("empty user name")
	case len(s) > MaxNameLen:
		return fmt.Errorf("user name longer than %d bytes", MaxNameLen)
	case !utf8.ValidString(s):
		return errors.New("user name not UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			return fmt.Errorf("user name holds the control or format character %U", r)
		}
	}
	return nil
}
