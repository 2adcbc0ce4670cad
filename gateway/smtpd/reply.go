package smtpd

import (
	"errors"
	"fmt"
)

// Errors the DATA and BDAT readers fail with. Each is a fault of what the
// client sent: the reader drains the rest of the transaction before the
// reply, so the next command is read in sync.
var (
	ErrBareLF      = errors.New("smtpd: bare LF in message data")
	ErrBareCR      = errors.New("smtpd: bare CR in message data")
	ErrNUL         = errors.New("smtpd: NUL byte in message data")
	ErrTooBig      = errors.New("smtpd: message exceeds the size limit")
	ErrLineTooLong = errors.New("smtpd: line too long in message data")
	// ErrAborted is returned by a BDAT reader when the client sent another
	// command (RSET, QUIT, MAIL …) instead of the next chunk: the
	// transaction is gone and no reply is given to it.
	ErrAborted = errors.New("smtpd: message transfer aborted by the client")
	// ErrServerClosed is returned by Serve after Shutdown.
	ErrServerClosed = errors.New("smtpd: server closed")
)

// Reply is one SMTP reply: a code, its enhanced status code (RFC 3463)
// and a text. A *Reply is also an error, so a Session returns it where it
// returns errors; a 250 is a normal return value.
type Reply struct {
	Code     int
	Enhanced [3]int // {0,0,0}: none
	Text     string
}

func (r *Reply) Error() string { return r.String() }

// String is the reply as one line, without CRLF ("550 5.7.1 text").
func (r *Reply) String() string {
	if r.Enhanced == [3]int{} {
		return fmt.Sprintf("%d %s", r.Code, r.Text)
	}
	return fmt.Sprintf("%d %d.%d.%d %s", r.Code, r.Enhanced[0], r.Enhanced[1], r.Enhanced[2], r.Text)
}

func newReply(code int, e0, e1, e2 int, text string) *Reply {
	return &Reply{Code: code, Enhanced: [3]int{e0, e1, e2}, Text: text}
}

// The replies the server gives on its own.
var (
	replyOK            = newReply(250, 2, 0, 0, "Ok")
	replyMailOK        = newReply(250, 2, 0, 0, "Sender ok")
	replyRcptOK        = newReply(250, 2, 0, 0, "Recipient ok")
	replyBye           = newReply(221, 2, 0, 0, "Bye")
	replyVrfy          = newReply(252, 2, 5, 0, "Cannot VRFY user, but will accept message")
	replyHelp          = newReply(214, 2, 0, 0, "See RFC 5321")
	replyStartData     = &Reply{Code: 354, Text: "End data with <CR><LF>.<CR><LF>"}
	replyReadyTLS      = newReply(220, 2, 0, 0, "Ready to start TLS")
	replyUnknown       = newReply(500, 5, 5, 2, "Command not recognized")
	replyNotImpl       = newReply(502, 5, 5, 1, "Command not implemented")
	replyBareLFCommand = newReply(500, 5, 5, 2, "Command lines must end with CRLF")
	replyBadChars      = newReply(500, 5, 5, 2, "Bare CR or NUL in command line")
	replyLineTooLong   = newReply(500, 5, 5, 2, "Line too long")
	replyNeedHelo      = newReply(503, 5, 5, 1, "Send HELO or EHLO first")
	replyNestedMail    = newReply(503, 5, 5, 1, "Nested MAIL command")
	replyNeedMail      = newReply(503, 5, 5, 1, "Need MAIL before RCPT")
	replyNeedMailData  = newReply(503, 5, 5, 1, "Need MAIL before DATA")
	replyNeedRcpt      = newReply(503, 5, 5, 1, "Need RCPT before DATA")
	replyNeedBDAT      = newReply(503, 5, 5, 1, "Message transfer by BDAT in progress: BDAT, RSET or QUIT")
	replyHeloArg       = newReply(501, 5, 5, 2, "HELO and EHLO need a domain")
	replyHeloLong      = newReply(501, 5, 5, 2, "Domain name too long")
	replyMailSyntax    = newReply(501, 5, 5, 2, "Syntax: MAIL FROM:<address>")
	replyRcptSyntax    = newReply(501, 5, 5, 2, "Syntax: RCPT TO:<address>")
	replyNoArgs        = newReply(501, 5, 5, 4, "No parameters allowed")
	replyBDATSyntax    = newReply(501, 5, 5, 4, "Syntax: BDAT <size> [LAST]")
	replyMailParam     = newReply(555, 5, 5, 4, "MAIL parameter not recognized or not implemented")
	replyRcptParam     = newReply(555, 5, 5, 4, "RCPT parameter not recognized or not implemented")
	replyTooManyRcpts  = newReply(452, 4, 5, 3, "Too many recipients")
	replyNoTLS         = newReply(502, 5, 5, 1, "STARTTLS not available")
	replyTLSInjection  = newReply(421, 4, 7, 0, "Commands pipelined after STARTTLS are not accepted, closing")
	replyShutdown      = newReply(421, 4, 3, 2, "Gateway shutting down, try again later")
	replyTooMany       = newReply(421, 4, 7, 0, "Too many commands before MAIL, closing")
	replyTooManyErrors = newReply(421, 4, 7, 0, "Too many errors, closing")
	replyTimeout       = newReply(421, 4, 4, 2, "Timeout, closing")
	replyInternal      = newReply(421, 4, 3, 0, "Local error, closing")
	replyDataQueued    = newReply(250, 2, 0, 0, "Ok")
	replyTempFail      = newReply(451, 4, 3, 0, "Local error, try again later")

	// Faults of the message data, when the session did not name a reply.
	replyTooBig = newReply(552, 5, 3, 4, "Message exceeds the size limit")
	// A BDAT chunk larger than a whole message may be: the connection
	// closes after it.
	replyChunkTooBig = newReply(552, 5, 3, 4, "BDAT chunk exceeds the message size limit, closing")
	replyBareEnd     = newReply(550, 5, 6, 0, "Bare CR or LF in message data not accepted")
	replyNULData     = newReply(550, 5, 6, 0, "NUL byte in message data not accepted")
	replyDataLine    = replyLineTooLong
)

// maxDomain is the longest domain (or address literal) a HELO or EHLO
// may name: RFC 5321 4.5.3.1.2.
const maxDomain = 255

// faultReply is the reply for a fault of the message data.
func faultReply(err error) *Reply {
	switch {
	case errors.Is(err, ErrTooBig):
		return replyTooBig
	case errors.Is(err, ErrLineTooLong):
		return replyDataLine
	case errors.Is(err, ErrNUL):
		return replyNULData
	case errors.Is(err, ErrBareCR), errors.Is(err, ErrBareLF):
		return replyBareEnd
	}
	return nil
}

// asReply turns what a Session returned into the reply to send: nil is
// ok, a *Reply passes as it is, a data fault gets its reply, anything else
// is a temporary 451 (never a 5xx that loses mail, never err's text).
func asReply(err error, ok *Reply) *Reply {
	if err == nil {
		return ok
	}
	var r *Reply
	if errors.As(err, &r) {
		return r
	}
	if f := faultReply(err); f != nil {
		return f
	}
	return replyTempFail
}
