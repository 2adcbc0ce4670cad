package gateway

import "strings"

// splitMailbox validates an envelope address as go-smtp hands it (without
// the angle brackets) and returns its local part and lower-cased domain.
//
// We accept only plain dot-atom local parts: no quoted strings, no source
// routes (@a:b@c), no second @, no % or ! (old relay hacks the LGWAN MTA
// might still honour), no address literals, ASCII only. Real addresses of
// staff and their correspondents fit; what does not is refused at RCPT
// rather than guessed at.
func splitMailbox(addr string) (local, domain string, ok bool) {
	if len(addr) > 254 {
		return "", "", false
	}
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "", "", false
	}
	local, domain = addr[:at], strings.ToLower(addr[at+1:])
	if len(local) > 64 || !validDomain(domain) || !strings.Contains(domain, ".") && domain != "localhost" {
		return "", "", false
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return "", "", false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte(".#$&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return "", "", false
		}
	}
	return local, domain, true
}
