package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"mugai/policy/audit"
	"mugai/portal"
	"mugai/sanitize"
)

// Unlock opens the encrypted ZIP kept as part of original id with the
// password its recipient typed into the portal, decides every member by
// the policy in force as any attachment is decided, and queues the
// rebuilt members to rcpt with the unlocked record and the members'
// decisions in the entry's commit. A wrong password, or an archive that
// cannot be opened, is audited as unlock-failed and delivers nothing.
// The password is neither kept nor logged; the caller zeroes it.
func (b portalBackend) Unlock(id, part, rcpt string, password []byte) (portal.Unlocked, error) {
	g := b.g
	m, path, err := g.originals.Get(id)
	if err != nil {
		return portal.Unlocked{}, fmt.Errorf("%w: %s", portal.ErrNotFound, id)
	}
	to, err := recipientOf(m, rcpt)
	if err != nil {
		return portal.Unlocked{}, err
	}
	i := -1
	for j, p := range m.Parts {
		if p.Path == part && unlockable(p) {
			i = j
		}
	}
	if i < 0 {
		return portal.Unlocked{}, fmt.Errorf("%w: part %s of %s is not an encrypted archive", portal.ErrNotFound, part, id)
	}
	failed := func(detail string) {
		g.audit.Portal(audit.EventUnlockFailed, audit.PortalRecord{Header: audit.Header{ID: id}, Actor: operatorName(to),
			Part: part, Rcpt: []string{to}, Detail: detail})
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		return portal.Unlocked{}, err
	}
	found, err := sanitize.FindLocked(bytes.NewReader(orig), part, g.cfg.sanitizeLimits())
	if err != nil || found.SHA256 != m.Parts[i].SHA256 {
		failed("the part does not read back as the index says")
		return portal.Unlocked{}, fmt.Errorf("part %s of %s does not read back as kept: %v", part, id, err)
	}
	eng := g.engine.Load()
	newID := NewID(g.Now())
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.Limits.RebuildTimeout.D())
	defer cancel()
	// The members are decided for the original's sender, with its
	// trusted authentication results, as they would have been without
	// the password.
	res, err := eng.rebuilder.Unlock(ctx, sanitize.UnlockRequest{Archive: found.Body, Filename: found.Filename,
		DeclaredType: found.DeclaredType, Filenames: found.Filenames, Password: password, OrigID: id, Part: part, Subject: m.Subject, Sender: m.From,
		Auth: eng.rebuilder.TrustedAuth(bytes.NewReader(orig)),
		Env: sanitize.Envelope{ID: newID, From: g.cfg.releaseSender(), Rcpts: []string{to}, Received: g.Now(),
			Portal: g.portalLink(id, m.Received)}})
	switch {
	case errors.Is(err, sanitize.ErrWrongPassword):
		failed("wrong password")
		return portal.Unlocked{}, portal.ErrWrongPassword
	case errors.Is(err, sanitize.ErrNotOpened):
		failed("the policy does not open archives of this kind")
		return portal.Unlocked{}, fmt.Errorf("%w: %v", portal.ErrNotAllowed, err)
	case err != nil:
		failed("the archive could not be opened: " + err.Error())
		return portal.Unlocked{}, err
	}
	rec := audit.PortalRecord{Header: audit.Header{ID: id}, Actor: operatorName(to), Part: part, Rcpt: []string{to}, SpoolID: newID,
		Detail: fmt.Sprintf("%d members delivered, %d removed", res.Kept, res.Removed)}
	err = g.spoolOwn(newID, []string{to}, res.Message, func() (*os.File, func(), error) {
		return g.audit.UnlockedPinned(rec, res.Decisions, eng.policy.SHA256)
	})
	if err != nil {
		return portal.Unlocked{}, err
	}
	return portal.Unlocked{SpoolID: newID, Kept: res.Kept, Removed: res.Removed}, nil
}
