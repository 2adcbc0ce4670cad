package smtpd

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"time"
)

// dataReader reads the message after DATA, line by line (ReadSlice: no
// copy until the session's buffer). A line that starts with "." loses
// that dot (RFC 5321 4.5.2). The data ends only at CRLF "." CRLF (the
// start of data counts as a CRLF): "\n.\n", "\r\n.\n" or "\n.\r\n" never
// end it. Line endings are strict: any CR not followed by LF, any LF not
// preceded by CR, and any NUL is a fault, a ".\r" + non-LF at the start of
// a line included (it is a "." line whose dot is removed, leaving a bare
// CR). A fault (or a message over the size limit, or a line over the
// line limit) fails the read; the rest of the data is then only scanned
// for its end (drain), so the next command is read in sync.
//
// A client whose data had a bare CR or LF may believe it has ended the
// data ("\n.\n") and wait for a reply that a strict reader would never
// give: when the drain after such a fault finds the client silent for
// drainIdle, it stops (stalled); the server then replies and closes the
// connection, so nothing the client sends later can be read as a command.
type dataReader struct {
	c       *Conn // for the drain's idle wait; nil in tests
	br      *bufio.Reader
	max     int64 // bytes of message; 0: no limit
	maxLine int   // bytes per line, CRLF included

	pending   []byte // the current line's bytes not yet handed out (in br's buffer)
	size      int64
	lineLen   int  // bytes of the current line so far
	lineStart bool // the next read starts a line
	afterCRLF bool // the last line ended with CRLF (true at the start)
	tailCR    bool // the last piece read ended with CR
	prevCR    bool // a partial line ended with CR
	draining  bool
	stalled   bool  // the drain after a bare CR or LF found the client silent
	done      bool  // the end of data was read
	fault     error // what the client sent that fails the message
	err       error // reading from the client failed
}

// drainIdle is how long a drain after a bare CR or LF waits for a silent
// client before it gives the reply and closes.
var drainIdle = 2 * time.Second

func newDataReader(c *Conn, br *bufio.Reader, max int64, maxLine int) *dataReader {
	return &dataReader{c: c, br: br, max: max, maxLine: maxLine, lineStart: true, afterCRLF: true}
}

// Read hands out whole lines while they fit in p and more are buffered;
// it blocks only for the first.
func (d *dataReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(d.pending) > 0 {
			k := copy(p[n:], d.pending)
			d.pending, n = d.pending[k:], n+k
			continue
		}
		if d.done || d.fault != nil || d.err != nil || n > 0 && d.br.Buffered() == 0 {
			break
		}
		d.next()
	}
	switch {
	case n > 0:
		return n, nil
	case d.fault != nil:
		return 0, d.fault
	case d.err != nil:
		return 0, d.err
	case d.done:
		return 0, io.EOF
	}
	return 0, nil
}

// next reads the next line (or the next bufferful of a long one).
func (d *dataReader) next() {
	line, err := d.br.ReadSlice('\n')
	full := err == nil
	if errors.Is(err, bufio.ErrBufferFull) {
		err = nil
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
		return
	}
	start, crlfBefore := d.lineStart, d.afterCRLF
	d.lineStart = full
	d.afterCRLF = full && (len(line) >= 2 && line[len(line)-2] == '\r' || len(line) == 1 && d.tailCR)
	d.tailCR = line[len(line)-1] == '\r'
	if start && crlfBefore && len(line) == 3 && line[0] == '.' && line[1] == '\r' && line[2] == '\n' {
		d.done = true
		return
	}
	d.lineLen += len(line)
	tooLong := d.lineLen > d.maxLine
	if full {
		d.lineLen = 0
	}
	if d.draining {
		return
	}
	if tooLong {
		d.failed(ErrLineTooLong)
		return
	}
	if start && line[0] == '.' && len(line) > 1 {
		line = line[1:]
	}
	if err := d.check(line, full); err != nil {
		d.failed(err)
		return
	}
	if d.size += int64(len(line)); d.max > 0 && d.size > d.max {
		d.failed(ErrTooBig)
		return
	}
	d.pending = line
}

// check applies the strict line endings to a line (or a piece of one,
// when !full). The common case, a full line with its one CR right before
// its LF and no NUL, is two vectorised scans.
func (d *dataReader) check(line []byte, full bool) error {
	if full && !d.prevCR && len(line) >= 2 && bytes.IndexByte(line, '\r') == len(line)-2 && bytes.IndexByte(line, 0) < 0 {
		return nil
	}
	var s strictScan
	s.prevCR = d.prevCR
	if _, err := s.scan(line); err != nil {
		return err
	}
	d.prevCR = s.prevCR
	if full && s.prevCR {
		return ErrBareCR // cannot happen: a full line ends with LF
	}
	return nil
}

func (d *dataReader) failed(err error) {
	d.fault, d.draining, d.pending = err, true, nil
}

// drain reads what the session left, up to the end of data; the session
// deadline of the connection bounds a client that never ends it.
func (d *dataReader) drain() {
	d.draining, d.pending = true, nil
	lineEnding := errors.Is(d.fault, ErrBareCR) || errors.Is(d.fault, ErrBareLF)
	if lineEnding && d.c != nil {
		d.c.readWait = drainIdle // applies to reads that would block only
		defer func() { d.c.readWait = 0 }()
	}
	for !d.done && d.err == nil {
		d.next()
	}
	var ne net.Error
	if lineEnding && errors.As(d.err, &ne) && ne.Timeout() {
		d.stalled = true
	}
}

// strictScan checks pieces of message data for a bare CR, bare LF or
// NUL, across piece boundaries (a CR ending one piece and an LF starting
// the next are a CRLF).
type strictScan struct {
	prevCR bool // the last byte scanned was CR
}

// scan returns the offset and error of the first fault in b.
func (s *strictScan) scan(b []byte) (int, error) {
	for i := 0; i < len(b); i++ {
		if s.prevCR {
			if b[i] != '\n' {
				return i, ErrBareCR
			}
			s.prevCR = false
			continue
		}
		j := bytes.IndexAny(b[i:], "\r\n\x00")
		if j < 0 {
			break
		}
		i += j
		switch b[i] {
		case '\n':
			return i, ErrBareLF
		case 0:
			return i, ErrNUL
		default:
			s.prevCR = true
		}
	}
	return len(b), nil
}
