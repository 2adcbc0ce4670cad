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
// Accepted messages, releases and rebuilt entries commit their records
// this way (DSNs too, in delivery): nothing reaches the spool without
// them.
func auditJournal(log *audit.Log, write func() (*os.File, func(), error), syncFailed func(error)) func() (*os.File, func(error), error) {
	return safeio.PinnedJournal(write, func(err error) {
		if syncFailed != nil {
			syncFailed(err)
		}
		log.Fail(err)
	})
}
