package courier

import (
	"fmt"
	"strings"
)

// checkAddress is the last guard before an address goes on the wire.
// go-smtp's client writes "MAIL FROM:<%s>" and "RCPT TO:<%s>" verbatim, so
// an address holding '>' or a space (a quoted local part such as
// "a> ORCPT=rfc822;x"@example.jp) would add parameters at the next hop, and
// CR or LF would add commands. Intake accepts only dot-atom addresses; this
// refuses anything else here too, so a spool entry written by an older or
// tampered-with version cannot inject either. An empty sender (<>) is
// allowed.
func checkAddress(addr string, sender bool) error {
	if addr == "" && sender {
		return nil
	}
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return fmt.Errorf("address %q is not local@domain", addr)
	}
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		if c <= ' ' || c == 0x7f || strings.IndexByte(`<>"\()[],;:`, c) >= 0 {
			return fmt.Errorf("address %q holds %q, which would be unsafe on the wire", addr, c)
		}
	}
	return nil
}
