package smtpd

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
)

// parseCommand splits a command line (CRLF included) into its verb,
// upper-cased, and its argument, trimmed. The verb is what precedes the
// first space. bad is the reply for a line that is not a command at all:
// one ending in a bare LF (commands end in CRLF, RFC 5321 2.3.8), one
// holding a CR, LF or NUL elsewhere, an empty one; the verb is still returned
// for counting.
func parseCommand(line []byte) (verb string, arg []byte, bad *Reply) {
	body, ok := bytes.CutSuffix(line, []byte("\r\n"))
	if !ok {
		body = bytes.TrimSuffix(line, []byte("\n"))
		bad = replyBareLFCommand
	}
	if bad == nil && bytes.ContainsAny(body, "\r\n\x00") {
		bad = replyBadChars
	}
	v, rest, _ := bytes.Cut(body, []byte(" "))
	if len(v) == 0 || len(v) > 10 {
		if bad == nil {
			bad = replyUnknown
		}
		return "", nil, bad
	}
	return strings.ToUpper(string(v)), bytes.TrimSpace(rest), bad
}

// cutPrefixFold cuts prefix (ASCII, any case) from the start of s.
func cutPrefixFold(s []byte, prefix string) ([]byte, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(string(s[:len(prefix)]), prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// parsePath parses "<mailbox>" at the start of s (RFC 5321 4.1.2), after
// optional spaces, and returns the mailbox and what follows the ">". A
// source route ("<@a,@b:user@c>") is dropped, as RFC 5321 C asks. The
// mailbox is returned as sent (a quoted local part keeps its quotes):
// whether it is an address the gateway takes is the session's decision.
// nullOK admits "<>" (the null reverse-path), returned as "".
func parsePath(s []byte, nullOK bool) (string, []byte, bool) {
	s = bytes.TrimLeft(s, " ")
	if len(s) == 0 || s[0] != '<' {
		return "", nil, false
	}
	s = s[1:]
	if len(s) > 0 && s[0] == '@' { // source route, up to the ":"
		i := bytes.IndexByte(s, ':')
		if i < 0 || bytes.ContainsAny(s[:i], "<> \"") {
			return "", nil, false
		}
		s = s[i+1:]
	}
	end := pathEnd(s)
	if end < 0 {
		return "", nil, false
	}
	mbox, rest := s[:end], s[end+1:]
	if len(mbox) == 0 && !nullOK || bytes.ContainsAny(mbox, "< \t") && !bytes.HasPrefix(mbox, []byte{'"'}) {
		return "", nil, false
	}
	if len(rest) > 0 && rest[0] != ' ' {
		return "", nil, false
	}
	return string(mbox), rest, true
}

// pathEnd is the index of the ">" that closes a path, skipping a quoted
// local part; -1 when there is none.
func pathEnd(s []byte) int {
	i := 0
	if len(s) > 0 && s[0] == '"' {
		for i = 1; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' {
				i++
			}
		}
		if i >= len(s) {
			return -1
		}
	}
	j := bytes.IndexByte(s[i:], '>')
	if j < 0 {
		return -1
	}
	return i + j
}

// parseMailParams parses the MAIL FROM parameters: SIZE=, BODY= (7BIT,
// 8BITMIME) and SMTPUTF8; anything else, or a value that does not parse,
// is refused.
func parseMailParams(s []byte) (MailParams, bool) {
	var p MailParams
	for _, f := range strings.Fields(string(s)) {
		k, v, hasV := strings.Cut(f, "=")
		switch strings.ToUpper(k) {
		case "SIZE":
			n, err := strconv.ParseInt(v, 10, 64)
			if errors.Is(err, strconv.ErrRange) && strings.Trim(v, "0123456789") == "" {
				n, err = math.MaxInt64, nil // digits beyond int64: too big, not a syntax error (552)
			}
			if !hasV || err != nil || n < 0 || p.Size != 0 {
				return p, false
			}
			p.Size = n
		case "BODY":
			// BINARYMIME (RFC 3030) is not offered: its data is not lines,
			// and a bare LF in it would be refused anyway.
			switch v = strings.ToUpper(v); v {
			case "7BIT", "8BITMIME":
				p.Body = v
			default:
				return p, false
			}
		case "SMTPUTF8":
			if hasV {
				return p, false
			}
			p.SMTPUTF8 = true
		default:
			return p, false
		}
	}
	return p, true
}

// parseBDAT parses "size [LAST]".
func parseBDAT(arg []byte) (size int64, last, ok bool) {
	f := strings.Fields(string(arg))
	if len(f) == 0 || len(f) > 2 || len(f) == 2 && !strings.EqualFold(f[1], "LAST") {
		return 0, false, false
	}
	for _, b := range []byte(f[0]) {
		if b < '0' || b > '9' {
			return 0, false, false
		}
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, false, false
	}
	return n, len(f) == 2, true
}
