package gateway

import (
	"bytes"
	"fmt"
)

// errDotBareCR is a "." and a bare CR at the start of a line, seen on the
// raw connection. go-smtp's dot reader drops both without a trace
// ("\r\n.\rX" reaches the session as "\r\nX"), so strictReader cannot see
// this one bare CR; the connection layer does, and fails the read.
var errDotBareCR = fmt.Errorf("%w (a line starting with \".\" and a bare CR)", errBareCR)

// dotCRScan watches the plaintext bytes of a session for a line that
// starts with ".\r" followed by anything but "\n". That sequence is never
// valid SMTP: a data line starting with "." is dot-stuffed (".."), and
// ".\r\n" is the end of DATA. Scanning stops at a line starting with
// STARTTLS (case-insensitive): past it the layer sees ciphertext. A data
// line that happens to start with "STARTTLS" only stops this extra check;
// strictReader still sees every other bare CR.
type dotCRScan struct {
	pos    int  // bytes into the current line, saturating
	first  byte // the line's first byte
	dotCR  bool // the line so far is ".\r"
	notTLS bool // the line so far is not a prefix of "STARTTLS"
	off    bool // STARTTLS seen: no more plaintext
}

const startTLSVerb = "STARTTLS"

// scan returns the index in p of the byte that follows a line-start ".\r"
// and is not "\n", or -1. Only the first bytes of a line matter: past them
// it jumps to the next line feed.
func (s *dotCRScan) scan(p []byte) int {
	for i := 0; i < len(p) && !s.off; {
		if s.pos >= len(startTLSVerb) && !s.dotCR {
			j := bytes.IndexByte(p[i:], '\n')
			if j < 0 {
				return -1
			}
			i += j + 1
			s.pos, s.notTLS = 0, false
			continue
		}
		b := p[i]
		if s.dotCR {
			s.dotCR = false
			if b != '\n' {
				return i
			}
		} else if s.pos == 1 && s.first == '.' && b == '\r' {
			s.dotCR = true
		}
		if !s.notTLS {
			if b&^0x20 != startTLSVerb[s.pos] {
				s.notTLS = true
			} else if s.pos == len(startTLSVerb)-1 {
				s.off = true
				return -1
			}
		}
		if s.pos == 0 {
			s.first = b
		}
		i++
		if b == '\n' {
			s.pos, s.notTLS = 0, false
			continue
		}
		s.pos++
	}
	return -1
}
