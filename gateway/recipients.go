package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// maxListErrors bounds the problems one recipient list reports (a binary
// file named by mistake would give one a line).
const maxListErrors = 20

// recipientList is accept.recipients: the addresses mail is accepted for,
// and the domains whose every address is (@domain wildcards). Lookups are
// case-insensitive in the local part and the domain alike, as Postfix's
// table lookups are (it folds the key to lower case). There is no
// address-extension handling: user+tag@domain must be listed itself or be
// covered by @domain. A recipient list is never changed once built.
type recipientList struct {
	source  string
	addrs   map[string]struct{} // local@domain, lower case
	domains map[string]struct{} // lower case
}

// loadRecipients reads and parses a recipient list file.
func loadRecipients(file string) (*recipientList, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return parseRecipients(file, data)
}

// parseRecipients parses a recipient list named name. One entry a line:
// an address (local@domain) or a wildcard (@domain), optionally followed
// by one more word that is ignored, so that a Postfix relay_recipients
// source ("staff@city.example OK") reads as it is. A line whose first
// non-blank character is # is a comment; blank lines are skipped. Every
// problem is reported, each as name:line. A list without any entry is an
// error: it would refuse every recipient (a truncated file, most likely).
func parseRecipients(name string, data []byte) (*recipientList, error) {
	l := &recipientList{source: name, addrs: map[string]struct{}{}, domains: map[string]struct{}{}}
	var errs []error
	bad := 0
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // the byte order mark Windows editors write
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if err := l.add(line); err != nil {
			if bad++; bad <= maxListErrors {
				errs = append(errs, fmt.Errorf("%s:%d: %w", name, i+1, err))
			}
		}
	}
	if bad > maxListErrors {
		errs = append(errs, fmt.Errorf("%s: %d more problems", name, bad-maxListErrors))
	}
	if bad == 0 && len(l.addrs)+len(l.domains) == 0 {
		errs = append(errs, fmt.Errorf("%s: no address or @domain in the list: every recipient would be refused", name))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return l, nil
}

// add records one entry line (trimmed, not a comment).
func (l *recipientList) add(line string) error {
	fields := strings.Fields(line)
	if len(fields) > 2 {
		return fmt.Errorf("%q: one address or @domain a line (and at most one word after it)", line)
	}
	key := fields[0]
	if d, ok := strings.CutPrefix(key, "@"); ok {
		if !validDomain(d) || !strings.Contains(d, ".") && d != "localhost" {
			return fmt.Errorf("%q is not a valid @domain", key)
		}
		l.domains[strings.ToLower(d)] = struct{}{}
		return nil
	}
	local, domain, ok := splitMailbox(key)
	if !ok {
		return fmt.Errorf("%q is not a plain address (local@domain) or a wildcard (@domain)", key)
	}
	l.addrs[strings.ToLower(local)+"@"+domain] = struct{}{}
	return nil
}

// has reports whether the list accepts local@domain.
func (l *recipientList) has(local, domain string) bool {
	domain = strings.ToLower(domain)
	if _, ok := l.domains[domain]; ok {
		return true
	}
	_, ok := l.addrs[strings.ToLower(local)+"@"+domain]
	return ok
}

// entries returns the list's entries, sorted: addresses, then @domains.
func (l *recipientList) entries() []string {
	out := make([]string, 0, len(l.addrs)+len(l.domains))
	for a := range l.addrs {
		out = append(out, a)
	}
	slices.Sort(out)
	var ds []string
	for d := range l.domains {
		ds = append(ds, "@"+d)
	}
	slices.Sort(ds)
	return append(out, ds...)
}
