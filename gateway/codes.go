package gateway

import (
	"fmt"

	"github.com/emersion/go-smtp"
)

// Every reply the gateway gives, with its enhanced status code (RFC 3463).
// Texts are generic on purpose: internal details go to the logs, never to
// the client.
var (
	codeQueued        = smtp.EnhancedCode{2, 0, 0}
	codeTempInternal  = smtp.EnhancedCode{4, 3, 0}
	codeTempShutdown  = smtp.EnhancedCode{4, 3, 2}
	codeTempTimeout   = smtp.EnhancedCode{4, 3, 0}
	codeSecurity      = smtp.EnhancedCode{5, 7, 1}
	codeBadAddress    = smtp.EnhancedCode{5, 1, 3}
	codeTooBig        = smtp.EnhancedCode{5, 3, 4}
	codeBadContent    = smtp.EnhancedCode{5, 6, 0}
	codeSyntax        = smtp.EnhancedCode{5, 5, 2}
	codeBadSenderAddr = smtp.EnhancedCode{5, 1, 7}
	codeTempPolicy    = smtp.EnhancedCode{4, 7, 0}
)

func replyQueued(id string) *smtp.SMTPError {
	// smtpd sends a session's 250 as it is, so it carries our id.
	return &smtp.SMTPError{Code: 250, EnhancedCode: codeQueued, Message: "Ok: queued as " + id}
}

var (
	replyClientDenied = &smtp.SMTPError{Code: 550, EnhancedCode: codeSecurity, Message: "Client host not allowed to relay through this gateway"}
	replyDomainDenied = &smtp.SMTPError{Code: 550, EnhancedCode: codeSecurity, Message: "Recipient domain not accepted here"}
	replyBadRcpt      = &smtp.SMTPError{Code: 501, EnhancedCode: codeBadAddress, Message: "Recipient address syntax not accepted"}
	replyBadSender    = &smtp.SMTPError{Code: 501, EnhancedCode: codeBadSenderAddr, Message: "Sender address syntax not accepted"}
	replyTooBig       = &smtp.SMTPError{Code: 552, EnhancedCode: codeTooBig, Message: "Message exceeds the size limit"}
	replyLineTooLong  = &smtp.SMTPError{Code: 500, EnhancedCode: codeSyntax, Message: "Line too long"}
	replyShuttingDown = &smtp.SMTPError{Code: 421, EnhancedCode: codeTempShutdown, Message: "Gateway shutting down, try again later"}
	replyNeedTLS      = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
	replyNoStorage    = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "Insufficient system storage, try again later"}
	replyBusy         = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Too many large messages being sanitized, try again later"}
	replyNeedMail     = &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "Need MAIL before RCPT"}

	// Written by the connection layer itself (wireLine), then it closes.
	// (Replies of the protocol itself, 421 4.7.0 "Too many commands
	// before MAIL" among them, are smtpd's: gateway/smtpd/reply.go.)
	replyTooManyConns = &smtp.SMTPError{Code: 421, EnhancedCode: codeTempPolicy, Message: "Too many connections, try again later"}
)

// wireLine is e as one reply line that the connection layer writes itself,
// below smtpd. host, when not "", goes before the text, as RFC 5321 3.8
// has it for a 421 ("421 <domain> ...").
func wireLine(e *smtp.SMTPError, host string) []byte {
	text := e.Message
	if host != "" {
		text = host + " " + text
	}
	return fmt.Appendf(nil, "%d %d.%d.%d %s\r\n", e.Code, e.EnhancedCode[0], e.EnhancedCode[1], e.EnhancedCode[2], text)
}

// replyLine is e as the reply line the client got ("451 4.3.0 text"),
// for the log and the audit records.
func replyLine(e *smtp.SMTPError) string {
	return fmt.Sprintf("%d %d.%d.%d %s", e.Code, e.EnhancedCode[0], e.EnhancedCode[1], e.EnhancedCode[2], e.Message)
}

// replyBareLineEnding rejects SMTP smuggling attempts and other bare CR or
// LF in DATA (RFC 5321 2.3.8).
func replyBareLineEnding(id string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: 550, EnhancedCode: codeBadContent, Message: "Bare CR or LF in message data not accepted (id " + id + ")"}
}

func replyNUL(id string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: 550, EnhancedCode: codeBadContent, Message: "NUL byte in message data not accepted (id " + id + ")"}
}

// replyRebuildTimeout is a rebuild stopped by limits.rebuild_timeout:
// nothing was kept; the client retries (the work may fit when the gateway
// is less busy, and an admin sees the id in the log).
func replyRebuildTimeout(id string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: 451, EnhancedCode: codeTempTimeout, Message: fmt.Sprintf("Sanitizing the message took too long, try again later (id %s)", id)}
}

func replyTempInternal(id string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: 451, EnhancedCode: codeTempInternal, Message: fmt.Sprintf("Local error, try again later (id %s)", id)}
}
