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
	// Only CR, LF and NUL matter: jump from one to the next.
	for i := 0; i < n; i++ {
		if s.prevCR {
			if p[i] != '\n' {
				s.err = errBareCR
				return i, s.err
			}
			s.prevCR = false
			continue
		}
		j := bytes.IndexAny(p[i:n], "\r\n\x00")
		if j < 0 {
			break
		}
		i += j
		switch p[i] {
		case '\n':
			s.err = errBareLF
		case 0:
			s.err = errNUL
		default:
			s.prevCR = true
			continue
		}
		return i, s.err
	}
	if err == io.EOF && s.prevCR {
		s.err = errBareCR
		return n, s.err
	}
	return n, err
}
