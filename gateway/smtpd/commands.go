package smtpd

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
)

func (c *Conn) mail(arg []byte) {
	switch {
	case c.srv.closing.Load(): // shutting down: no new transaction
		c.replyHost(replyShutdown)
		return
	case c.helo == "":
		c.reply(replyNeedHelo)
		c.refused()
		return
	case c.inMail:
		c.reply(replyNestedMail)
		c.refused()
		return
	}
	rest, ok := cutPrefixFold(arg, "FROM:")
	var from string
	if ok {
		from, rest, ok = parsePath(rest, true)
	}
	if !ok {
		c.reply(replyMailSyntax)
		c.refused()
		return
	}
	p, ok := parseMailParams(rest)
	switch {
	case !ok, p.SMTPUTF8 && !c.srv.SMTPUTF8:
		c.reply(replyMailParam)
	case c.srv.MaxMessageBytes > 0 && p.Size > c.srv.MaxMessageBytes:
		c.reply(replyTooBig)
	default:
		r := asReply(c.sess.Mail(from, p), replyMailOK)
		c.reply(r)
		if r.Code < 300 {
			c.inMail, c.rcpts, c.counting = true, 0, false
			return
		}
	}
	c.refused()
}

func (c *Conn) rcpt(arg []byte) {
	if !c.inMail {
		c.reply(replyNeedMail)
		return
	}
	rest, ok := cutPrefixFold(arg, "TO:")
	var to string
	if ok {
		to, rest, ok = parsePath(rest, false)
	}
	switch {
	case !ok:
		c.reply(replyRcptSyntax)
	case len(bytes.TrimSpace(rest)) > 0:
		c.reply(replyRcptParam)
	case c.srv.MaxRecipients > 0 && c.rcpts >= c.srv.MaxRecipients:
		c.reply(replyTooManyRcpts)
	default:
		r := asReply(c.sess.Rcpt(to), replyRcptOK)
		if r.Code < 300 {
			c.rcpts++
		}
		c.reply(r)
	}
}

// data runs DATA: the session reads the message through a dataReader;
// whatever it leaves is drained to the end of data before the reply, so
// the transaction is never split.
func (c *Conn) data(arg []byte) error {
	switch {
	case len(arg) > 0:
		c.reply(replyNoArgs)
		return nil
	case !c.inMail:
		c.reply(replyNeedMailData)
		return nil
	case c.rcpts == 0:
		c.reply(replyNeedRcpt)
		return nil
	}
	c.reply(replyStartData)
	d := newDataReader(c, c.br, c.srv.MaxMessageBytes, c.srv.maxLine())
	err := c.sess.Data(d)
	d.drain()
	switch {
	case d.stalled: // the client waits, its data not ended: reply, then close
		c.reply(c.dataReply(err, d.fault, true))
		c.reset()
		return errClose
	case d.err != nil: // the client is gone, or timed out
		c.readFailed(d.err)
		return d.err
	}
	c.messageReply(c.dataReply(err, d.fault, true))
	c.reset()
	return nil
}

// messageReply sends the reply to a message. A message accepted
// forgives the session's earlier errors (MaxErrors), as Postfix's smtpd
// does: a relay's cached connection carries many senders' mail, and the
// odd refused recipient must not add up to a 421 that cuts an unrelated
// transaction.
func (c *Conn) messageReply(r *Reply) {
	c.reply(r)
	if r.Code < 300 {
		c.errs = 0
	}
}

// dataReply is the reply to a message: the session's, unless the data
// had a fault and the session said ok; a transfer the session did not
// read to its end is never acknowledged.
func (c *Conn) dataReply(err, fault error, complete bool) *Reply {
	r := asReply(err, replyDataQueued)
	if r.Code < 400 && fault != nil {
		return faultReply(fault)
	}
	if r.Code < 400 && !complete {
		return replyTempFail
	}
	return r
}

// bdatCommand runs a BDAT that starts a transfer (the chunks after the
// first are read by the chunkReader inside the session's Data), or
// discards the chunk of one that cannot be taken.
func (c *Conn) bdatCommand(arg []byte) error {
	size, last, ok := parseBDAT(arg)
	if !ok {
		c.reply(replyBDATSyntax) // the chunk's length is unknown: nothing to discard
		return nil
	}
	if size > c.srv.maxChunk() {
		// Nothing could be done with it, and skipping it could take
		// until the session's deadline: refused, and the connection
		// closes (the client may not write past the chunk anyway).
		c.reply(replyChunkTooBig)
		return errClose
	}
	if r := c.bdatFail; r != nil || !c.inMail || c.rcpts == 0 {
		if _, err := c.br.Discard(int(size)); err != nil {
			return err
		}
		switch {
		case r != nil:
			c.reply(r) // a failed transfer: each chunk until LAST gets its reply
			if last {
				c.bdatFail = nil
			}
		case !c.inMail:
			c.reply(replyNeedMailData)
		default:
			c.reply(replyNeedRcpt)
		}
		return nil
	}
	b := newChunkReader(c, size, last)
	err := c.sess.Data(b)
	if b.err != nil && !errors.Is(b.err, ErrAborted) {
		c.readFailed(b.err)
		return b.err
	}
	if errors.Is(b.err, ErrAborted) {
		c.reset() // the next command is in c.pending; no reply to the transfer
		return nil
	}
	if err := b.discard(); errors.Is(err, errChunkTooBig) {
		c.reply(replyChunkTooBig)
		return errClose
	} else if err != nil {
		c.readFailed(err)
		return err
	}
	r := c.dataReply(err, b.fault, b.last && b.left == 0)
	c.messageReply(r)
	if !b.last {
		c.bdatFail = r // the client's next chunks are discarded until LAST
	}
	c.reset()
	return nil
}

// startTLS runs STARTTLS. Commands the client sent after it, before the
// handshake, are never run (RFC 3207 4.2, CVE-2011-0411): the session is
// refused and closed. After the handshake everything starts over: no
// HELO name, no transaction, a new reader on the TLS connection.
func (c *Conn) startTLS(arg []byte) error {
	switch {
	case c.srv.TLSConfig == nil || c.tls:
		c.reply(replyNoTLS)
		c.refused()
		return nil
	case len(arg) > 0:
		c.reply(replyNoArgs)
		c.refused()
		return nil
	case c.br.Buffered() > 0:
		c.replyHost(replyTLSInjection)
		c.srv.log().Warn("commands pipelined after STARTTLS refused", "client", c.nc.RemoteAddr().String())
		return errClose
	}
	c.reply(replyReadyTLS)
	if err := c.bw.Flush(); err != nil {
		return err
	}
	tc := tls.Server(c.nc, c.srv.TLSConfig)
	ctx, cancel := context.WithTimeout(context.Background(), tlsTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		c.srv.log().Info("TLS handshake failed", "client", c.nc.RemoteAddr().String(), "err", err)
		return err
	}
	c.nc, c.tls, c.helo = tc, true, ""
	c.setIO()
	c.reset()
	return nil
}

var _ io.Reader = (*dataReader)(nil)
