package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"mugai/gateway/originals"
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
	failed := func(detail string) {
		g.audit.Portal(audit.EventUnlockFailed, audit.PortalRecord{Header: audit.Header{ID: id}, Actor: operatorName(to),
			Part: part, Rcpt: []string{to}, Detail: detail})
	}
	found, orig, err := lockedPart(m, path, part, g.cfg.sanitizeLimits())
	if errors.Is(err, portal.ErrNotFound) {
		return portal.Unlocked{}, err
	}
	if err != nil {
		failed("the part does not read back as the index says")
		return portal.Unlocked{}, err
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
		Detail: fmt.Sprintf("members: %d delivered, %d removed", res.Kept, res.Removed)}
	err = g.spoolOwn(newID, []string{to}, res.Message, func() (*os.File, func(), error) {
		return g.audit.UnlockedPinned(rec, res.Decisions, eng.policy.SHA256)
	})
	if err != nil {
		return portal.Unlocked{}, err
	}
	return portal.Unlocked{SpoolID: newID, Kept: res.Kept, Removed: res.Removed}, nil
}

// lockedPart reads part of original m (kept at path) back for an unlock:
// the index must know it as an encrypted archive (portal.ErrNotFound
// otherwise), and it must read back with the sha256 the index says.
func lockedPart(m originals.Meta, path, part string, lim sanitize.Limits) (sanitize.LockedPart, []byte, error) {
	i := slices.IndexFunc(m.Parts, func(p originals.Part) bool { return p.Path == part && unlockable(p) })
	if i < 0 {
		return sanitize.LockedPart{}, nil, fmt.Errorf("%w: part %s of %s is not an encrypted archive", portal.ErrNotFound, part, m.ID)
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		return sanitize.LockedPart{}, nil, err
	}
	found, err := sanitize.FindLocked(bytes.NewReader(orig), part, lim)
	if err == nil && found.SHA256 != m.Parts[i].SHA256 {
		err = fmt.Errorf("sha256 %s, the index says %s", found.SHA256, m.Parts[i].SHA256)
	}
	if err != nil {
		return sanitize.LockedPart{}, nil, fmt.Errorf("part %s of %s does not read back as kept: %w", part, m.ID, err)
	}
	return found, orig, nil
}
