package gateway

import (
	"bytes"
	"io"
)

// strictReader passes DATA through unchanged and fails at the first bare
// LF, bare CR or NUL. go-smtp's data reader keeps CRLF as it is, so a bare
// LF it lets through is visible here; rejecting it closes the SMTP smuggling
// family of attacks (\n.\n and friends) against any MTA behind us.
//
// One case never reaches us: go-smtp elides a "." followed by CR at the
// start of a line and drops that CR, so "\r\n.\rX" arrives as "\r\nX".
// The connection layer catches it on plaintext sessions (dotCRScan); inside
// STARTTLS it passes unseen, but the data still ends only at CRLF.CRLF, so
// it cannot split a message in two.
type strictReader struct {
	r      io.Reader
	prevCR bool // the last byte read was CR
	err    error
}

func (s *strictReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	if i, bad := s.scan(p[:n]); bad != nil {
		s.err = bad
		return i, bad
	}
	if err == io.EOF && s.prevCR {
		s.err = errBareCR
		return n, s.err
	}
	return n, err
}

var (
	cr   = []byte{'\r'}
	lf   = []byte{'\n'}
	crlf = []byte("\r\n")
)

// scan checks the next piece of DATA and returns the offset and error of
// its first bare CR, bare LF or NUL. A piece of ordinary CRLF lines is
// checked with a few vectorised counts (every CR and every LF in a CRLF
// pair, no NUL); anything else is walked byte by byte.
func (s *strictReader) scan(b []byte) (int, error) {
	start := 0
	if s.prevCR && len(b) > 0 {
		if b[0] != '\n' {
			return 0, errBareCR
		}
		s.prevCR, start = false, 1
	}
	rest := b[start:]
	if len(rest) == 0 {
		return len(b), nil
	}
	if bytes.IndexByte(rest, 0) < 0 {
		pairs := bytes.Count(rest, crlf)
		trailingCR := rest[len(rest)-1] == '\r'
		crs := pairs
		if trailingCR {
			crs++
		}
		if bytes.Count(rest, lf) == pairs && bytes.Count(rest, cr) == crs {
			s.prevCR = trailingCR
			return len(b), nil
		}
	}
	return s.walk(b, start)
}

// walk finds the first fault from start, jumping from one CR, LF or NUL to
// the next.
func (s *strictReader) walk(p []byte, start int) (int, error) {
	for i := start; i < len(p); i++ {
		if s.prevCR {
			if p[i] != '\n' {
				return i, errBareCR
			}
			s.prevCR = false
			continue
		}
		j := bytes.IndexAny(p[i:], "\r\n\x00")
		if j < 0 {
			break
		}
		i += j
		switch p[i] {
		case '\n':
			return i, errBareLF
		case 0:
			return i, errNUL
		default:
			s.prevCR = true
		}
	}
	return len(p), nil
}
