package gateway

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/emersion/go-smtp"

	"mugai/gateway/safeio"
	"mugai/gateway/smtpd"
	"mugai/policy/audit"
	"mugai/sanitize"
)

// errClientData marks an error reading DATA from the client (its
// connection, or what it sent): not a local failure.
var errClientData = errors.New("gateway: reading the message data from the client")

// toReply is the one boundary where an error becomes the reply smtpd
// sends (through wire): every error leaving a session method passes
// through here. Known causes get their named reply; everything unknown is
// a temporary 451 with our id, never a 5xx.
func toReply(err error, id string) *smtp.SMTPError {
	if err == nil {
		return nil
	}
	var se *smtp.SMTPError
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, smtpd.ErrTooBig):
		return replyTooBig
	case errors.Is(err, smtpd.ErrLineTooLong):
		return replyLineTooLong
	case errors.Is(err, smtpd.ErrBareLF), errors.Is(err, smtpd.ErrBareCR):
		return replyBareLineEnding(id)
	case errors.Is(err, smtpd.ErrNUL):
		return replyNUL(id)
	case errors.Is(err, sanitize.ErrDeadline):
		return replyRebuildTimeout(id)
	case errors.Is(err, errBusy):
		return replyBusy
	}
	return replyTempInternal(id)
}

// wire is a reply of the gateway (a *smtp.SMTPError, as codes.go names
// them) as smtpd's *Reply; other errors pass as they are.
func wire(err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return &smtpd.Reply{Code: se.Code, Enhanced: [3]int(se.EnhancedCode), Text: se.Message}
	}
	return err
}

// localError is a local failure whose class its maker knows (free space,
// a full queue); other errors are classified by what they wrap.
type localError struct {
	class string // one of audit.Class*
	err   error
}

func (e *localError) Error() string { return e.err.Error() }
func (e *localError) Unwrap() error { return e.err }

// failClass returns the audit.Class* of a temporary local failure, or ""
// when err is not a local failure (the client left, or sent what it may
// not): a full file system first, then the class a localError carries,
// then the store whose path the error names, else internal.
func (g *Gateway) failClass(err error) string {
	var le *localError
	switch {
	case err == nil, errors.Is(err, errClientGone), errors.Is(err, errClientData):
		return ""
	case errors.Is(err, audit.ErrBroken):
		return audit.ClassAudit
	case errors.Is(err, sanitize.ErrDeadline):
		return audit.ClassDeadline
	case errors.Is(err, errBusy):
		return audit.ClassMemory
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return audit.ClassSpace
	case errors.As(err, &le):
		return le.class
	}
	if p := errPath(err); p != "" {
		switch {
		case within(p, g.cfg.Originals):
			return audit.ClassOriginals
		case within(p, g.cfg.Spool):
			return audit.ClassSpool
		case filepath.Clean(p) == filepath.Clean(g.cfg.Audit):
			return audit.ClassAudit
		}
	}
	return audit.ClassInternal
}

// errPath returns the file path the first file error inside err names.
func errPath(err error) string {
	var pe *fs.PathError
	var le *os.LinkError
	var fe *safeio.FileError
	switch {
	case errors.As(err, &fe):
		return fe.File.Name()
	case errors.As(err, &pe):
		return pe.Path
	case errors.As(err, &le):
		return le.New
	}
	return ""
}

// within says whether path is dir or inside it.
func within(path, dir string) bool {
	path, dir = filepath.Clean(path), filepath.Clean(dir)
	return path == dir || strings.HasPrefix(path, dir+string(filepath.Separator))
}
