package gateway

import (
	"errors"

	"github.com/emersion/go-smtp"

	"mugai/sanitize"
)

var (
	errBareLF = errors.New("gateway: bare LF in message data")
	errBareCR = errors.New("gateway: bare CR in message data")
	errNUL    = errors.New("gateway: NUL byte in message data")
)

// toReply is the one boundary where an error becomes what go-smtp sends.
// go-smtp type-asserts *smtp.SMTPError and turns anything else, wrapped
// ones included, into a permanent 554 carrying err.Error(); so every error
// leaving a Session method passes through here. Known causes get their named
// reply; everything unknown is a temporary 451 with our id, never a 5xx.
func toReply(err error, id string) *smtp.SMTPError {
	if err == nil {
		return nil
	}
	var se *smtp.SMTPError
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, smtp.ErrDataTooLarge):
		return replyTooBig
	case errors.Is(err, smtp.ErrTooLongLine):
		return replyLineTooLong
	case errors.Is(err, errBareLF), errors.Is(err, errBareCR):
		return replyBareLineEnding(id)
	case errors.Is(err, errNUL):
		return replyNUL(id)
	case errors.Is(err, sanitize.ErrDeadline):
		return replyRebuildTimeout(id)
	case errors.Is(err, errBusy):
		return replyBusy
	}
	return replyTempInternal(id)
}
