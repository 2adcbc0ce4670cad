package policy

import (
	"slices"
	"strings"
)

// AuthResult is one passing or failing method of an Authentication-Results
// header field (RFC 8601), with the domain it speaks for.
type AuthResult struct {
	Method string // dkim, dmarc, spf (lower case)
	Result string // pass, fail, none, … (lower case)
	Domain string // dkim: header.d (or the domain of header.i); dmarc: header.from; spf: smtp.mailfrom's domain
}

// Authentication says which Authentication-Results fields rules may trust.
// Only fields whose authserv-id is listed count, and only those above at
// most ReceivedAbove Received fields: the upstream MTA adds its result at
// the top, and anything lower may have come with the message from the
// Internet (RFC 8601 §5 asks the border MTA to remove forged ones; this is
// the second line).
type Authentication struct {
	AuthservIDs   List `yaml:"authserv_ids"`
	ReceivedAbove int  `yaml:"received_above"`
}

var authMethods = []string{"dkim", "dmarc", "spf"}

// Field is one header field, in the order of the message.
type Field struct{ Name, Value string }

// TrustedResults returns the results the configuration lets rules rely on.
func (a Authentication) TrustedResults(fields []Field) []AuthResult {
	if len(a.AuthservIDs) == 0 {
		return nil
	}
	var out []AuthResult
	received := 0
	for _, f := range fields {
		switch strings.ToLower(f.Name) {
		case "received":
			received++
		case "authentication-results":
			if received > a.ReceivedAbove {
				continue
			}
			id, rs := ParseAuthResults(f.Value)
			if slices.ContainsFunc(a.AuthservIDs, func(t string) bool { return strings.EqualFold(t, id) }) {
				out = append(out, rs...)
			}
		}
	}
	return out
}

// ParseAuthResults reads an Authentication-Results value: the authserv-id
// and each method's result. Comments are removed; what cannot be read is
// skipped (a result we cannot read is not a pass).
func ParseAuthResults(v string) (authservID string, results []AuthResult) {
	v = stripComments(v)
	parts := splitUnquoted(v, ';')
	if len(parts) == 0 {
		return "", nil
	}
	idf := strings.Fields(parts[0])
	if len(idf) == 0 {
		return "", nil
	}
	authservID = strings.ToLower(idf[0])
	for _, p := range parts[1:] {
		toks := strings.Fields(p)
		if len(toks) == 0 {
			continue
		}
		method, result, ok := strings.Cut(toks[0], "=")
		if !ok {
			continue // "none" or junk
		}
		method, _, _ = strings.Cut(strings.ToLower(method), "/")
		if method == "" {
			continue
		}
		r := AuthResult{Method: method, Result: strings.ToLower(result)}
		props := map[string]string{}
		for _, t := range toks[1:] {
			if k, val, ok := strings.Cut(t, "="); ok {
				props[strings.ToLower(k)] = strings.ToLower(strings.Trim(val, `"`))
			}
		}
		switch method {
		case "dkim":
			r.Domain = props["header.d"]
			if r.Domain == "" {
				_, r.Domain, _ = strings.Cut(props["header.i"], "@")
			}
		case "dmarc":
			r.Domain = props["header.from"]
		case "spf":
			r.Domain = props["smtp.mailfrom"]
			if _, d, ok := strings.Cut(r.Domain, "@"); ok {
				r.Domain = d
			}
		}
		results = append(results, r)
	}
	return authservID, results
}

// authenticated reports whether one of methods passed for a domain aligned
// with the sender's: the same domain or a parent of it (relaxed alignment,
// RFC 7489 3.1), never a bare top-level label.
func authenticated(methods List, results []AuthResult, sender string) bool {
	_, domain, ok := strings.Cut(strings.ToLower(sender), "@")
	if !ok || domain == "" {
		return false
	}
	for _, r := range results {
		if r.Result != "pass" || r.Domain == "" || !strings.Contains(r.Domain, ".") || !slices.Contains(methods, r.Method) {
			continue
		}
		if domain == r.Domain || strings.HasSuffix(domain, "."+r.Domain) {
			return true
		}
	}
	return false
}

func stripComments(s string) string {
	var b strings.Builder
	depth, quoted := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (depth > 0 || quoted):
			if depth == 0 {
				b.WriteByte(c)
				b.WriteByte(s[i+1])
			}
			i++
			continue
		case c == '"' && depth == 0:
			quoted = !quoted
		case c == '(' && !quoted:
			depth++
			continue
		case c == ')' && !quoted && depth > 0:
			depth--
			continue
		}
		if depth == 0 {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func splitUnquoted(s string, sep byte) []string {
	var parts []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"':
			quoted = !quoted
		case s[i] == sep && !quoted:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
