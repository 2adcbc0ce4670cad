package smtpd

import (
	"errors"
	"io"
)

var replyChunkOK = newReply(250, 2, 0, 0, "Ok: chunk received")

// chunkReader reads a BDAT transfer (RFC 3030) for the session: exact
// byte counts, the chunks after the first read from the commands that
// announce them (each chunk but the last answered 250 when the session
// asks for more). The strict line endings of DATA apply across chunk
// boundaries (a CR ending one chunk and an LF starting the next are a
// CRLF), and so does the size limit. A fault fails the read; the server
// then discards the rest of that chunk, replies, and discards the
// transfer's next chunks until LAST, answering each.
type chunkReader struct {
	c     *Conn
	left  int64 // bytes of the current chunk still to read
	last  bool  // the current chunk is the last
	total int64 // bytes announced so far
	scan  strictScan
	fault error
	err   error // reading from the client failed, or ErrAborted
}

func newChunkReader(c *Conn, size int64, last bool) *chunkReader {
	b := &chunkReader{c: c}
	b.begin(size, last)
	return b
}

// begin starts a chunk of size bytes.
func (b *chunkReader) begin(size int64, last bool) {
	b.left, b.last = size, last
	// Compared before adding: announced sizes up to 2^63-1 must not wrap
	// the sum below the limit.
	if max := b.c.srv.MaxMessageBytes; max > 0 && size > max-b.total {
		b.fault = ErrTooBig
		return
	}
	b.total += size
}

func (b *chunkReader) Read(p []byte) (int, error) {
	for {
		switch {
		case b.fault != nil:
			return 0, b.fault
		case b.err != nil:
			return 0, b.err
		case b.left == 0 && b.last:
			if b.scan.prevCR {
				b.fault = ErrBareCR
				continue
			}
			return 0, io.EOF
		case b.left == 0:
			b.nextChunk()
			continue
		case len(p) == 0:
			return 0, nil
		}
		n, err := b.c.br.Read(p[:min(int64(len(p)), b.left)])
		b.left -= int64(n)
		if _, bad := b.scan.scan(p[:n]); bad != nil {
			b.fault = bad
			return 0, bad
		}
		if n > 0 {
			return n, nil
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		b.err = err
	}
}

// nextChunk answers the chunk just read and reads the command that
// follows: a BDAT goes on with its chunk, a NOOP is answered, a line too
// long is answered; anything else aborts the transfer and is left in
// c.pending for the command loop.
func (b *chunkReader) nextChunk() {
	c := b.c
	c.reply(replyChunkOK)
	for {
		line, err := c.readCommand()
		if errors.Is(err, errLineTooLong) {
			c.reply(replyLineTooLong)
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) { // the stream ended inside the transfer: never a whole message
				err = io.ErrUnexpectedEOF
			}
			b.err = err
			return
		}
		verb, arg, bad := parseCommand(line)
		if bad == nil && verb == "NOOP" {
			c.reply(replyOK)
			continue
		}
		if bad == nil && verb == "BDAT" {
			if size, last, ok := parseBDAT(arg); ok {
				b.begin(size, last)
				return
			}
		}
		c.pending = append([]byte(nil), line...)
		b.err = ErrAborted
		return
	}
}

// discard reads what is left of the current chunk, unless it is more than
// a client keeping to SIZE could send (errChunkTooBig: the reply is then
// followed by the connection's close, since the stream cannot be followed).
func (b *chunkReader) discard() error {
	if b.left > b.c.srv.maxChunk() {
		return errChunkTooBig
	}
	for b.left > 0 {
		n, err := b.c.br.Discard(int(min(b.left, 1<<30)))
		b.left -= int64(n)
		if err != nil {
			b.err = err
			return err
		}
	}
	return nil
}
