package courier

import (
	"fmt"
	"strconv"
	"strings"
)

// Status is the RFC 3463 status code of a delivery failure: the next
// hop's enhanced code when it gave a valid one, else one derived from the
// reply code's class (5.0.0, 4.0.0); a failure without a reply (network,
// local) is 4.0.0, or 5.0.0 when permanent.
func (e *Error) Status() string {
	if e.Enhanced != "" {
		return e.Enhanced
	}
	switch {
	case e.Code >= 500 && e.Code < 600:
		return "5.0.0"
	case e.Code >= 400 && e.Code < 500:
		return "4.0.0"
	case e.Permanent:
		return "5.0.0"
	}
	return "4.0.0"
}

// validEnhanced reports whether enh ("5.1.1") is an RFC 3463 status code
// that agrees with the class of the SMTP reply code: a 5xx reply cannot
// carry 2.x.x or 4.x.x.
func validEnhanced(code int, enh string) bool {
	f := strings.Split(enh, ".")
	if len(f) != 3 || len(f[0]) != 1 || f[0][0] != byte('0'+code/100) || code/100 != 2 && code/100 != 4 && code/100 != 5 {
		return false
	}
	for _, s := range f[1:] {
		if n, err := strconv.Atoi(s); err != nil || len(s) > 3 || n < 0 || s[0] == '+' || s[0] == '-' {
			return false
		}
	}
	return true
}

// ParseReply reads back an SMTP failure from the text of an *Error (what
// Result.Reply and a spool entry's last reply hold): "550 5.1.1 text".
// The enhanced code counts only where RFC 3463 puts it, right after the
// reply code, and only when it agrees with the reply code's class; one
// elsewhere in the text ("host 2.0.0.1") is text. ok is false when s does
// not start with a reply code (a network or local error).
func ParseReply(s string) (e *Error, ok bool) {
	if len(s) < 3 || len(s) > 3 && s[3] != ' ' && s[3] != '-' {
		return nil, false
	}
	code, err := strconv.Atoi(s[:3])
	if err != nil || code < 200 || code > 599 {
		return nil, false
	}
	e = &Error{Permanent: code >= 500, Code: code, Msg: strings.TrimSpace(s[min(len(s), 4):])}
	if enh, rest, _ := strings.Cut(e.Msg, " "); validEnhanced(code, enh) {
		e.Enhanced, e.Msg = enh, rest
	}
	return e, true
}

// enhancedString formats a go-smtp enhanced code.
func enhancedString(c [3]int) string { return fmt.Sprintf("%d.%d.%d", c[0], c[1], c[2]) }
