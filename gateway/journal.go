package gateway

import (
	"os"

	"mugai/gateway/safeio"
	"mugai/policy/audit"
)

// auditJournal is a safeio.Staged.Journal that writes a commit's audit
// records with write (one of the audit log's *Pinned methods) and, when
// the commit's sync of the audit file fails, marks the log broken (see
// audit.ErrBroken) after telling syncFailed (for the error log line).
// Accepted messages, releases and DSNs all commit their records this
// way: nothing reaches the spool without them.
func auditJournal(log *audit.Log, write func() (*os.File, func(), error), syncFailed func(error)) func() (*os.File, func(error), error) {
	return func() (*os.File, func(error), error) {
		af, unpin, err := write()
		if err != nil {
			return nil, nil, err
		}
		return af, func(cerr error) {
			if ferr := safeio.FailedFile(cerr, af); ferr != nil && af != nil {
				if syncFailed != nil {
					syncFailed(ferr)
				}
				log.Fail(ferr)
			}
			unpin()
		}, nil
	}
}
