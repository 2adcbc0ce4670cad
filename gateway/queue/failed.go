package queue

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"mugai/gateway/safeio"
)

// failedLockName is the lock file in failed/: moves into failed/
// (MoveToFailed, in the gateway) and out of it (Requeue, Delete,
// DeleteFailed, in the admin commands) hold it (flock, exclusive), so
// that no one sees an entry there half moved: its message without its
// meta, whose entry line has a stale state.
const failedLockName = "mugai.lock"

// lockFailed takes failed/'s lock, waiting for it, and returns its
// release. The file is opened read-only (flock needs no more), so that a
// gateway and an admin running as another user share it.
func (s *Spool) lockFailed() (func(), error) {
	failed := filepath.Join(s.dir, "failed")
	path := filepath.Join(failed, failedLockName)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("queue: lock of failed/: %w", err)
	}
	// Created by root (an admin command): give it to the spool's owner.
	if fi, err := f.Stat(); err == nil {
		if di, err := os.Stat(failed); err == nil {
			if fst, ok := fi.Sys().(*syscall.Stat_t); ok {
				if dst, ok := di.Sys().(*syscall.Stat_t); ok && (fst.Uid != dst.Uid || fst.Gid != dst.Gid) && os.Geteuid() == 0 {
					f.Chown(int(dst.Uid), int(dst.Gid))
				}
			}
		}
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("queue: lock of failed/: %w", err)
	}
	return func() { f.Close() }, nil // closing releases the lock
}

// betweenFailedRenames, when set (by tests only), is called between
// MoveToFailed's two renames.
var betweenFailedRenames func(id string)

// Requeue moves an entry from failed/ back into the spool with its failed
// recipients pending again, due now.
//
// The new meta is written into the spool before the message moves there:
// until the message is in place, a rescan of the spool sees a meta
// without its message and skips it, never the message with the state of
// its entry line (which would send it again to recipients that got it).
func (s *Spool) Requeue(id string, now time.Time) (*Entry, error) {
	if err := ValidID(id); err != nil {
		return nil, err
	}
	failed := filepath.Join(s.dir, "failed")
	unlock, err := s.lockFailed()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := os.Stat(filepath.Join(failed, id+".msg")); os.IsNotExist(err) {
		return nil, ErrNotFound
	}
	e, err := readEntry(failed, id)
	if err != nil {
		return nil, fmt.Errorf("queue: %s: %w", id, err)
	}
	for _, r := range e.Rcpts {
		if r.Status == StatusFailed {
			r.Status, r.Attempts = StatusPending, 0
		}
	}
	e.Attempts, e.NextAttempt, e.Created = 0, now, now // a fresh lifetime
	if err := s.writeMeta(e); err != nil {
		return nil, err
	}
	if err := os.Rename(filepath.Join(failed, id+".msg"), s.msgPath(id)); err != nil {
		os.Remove(s.metaPath(id))
		return nil, err
	}
	if err := os.Remove(filepath.Join(failed, id+".json")); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	return e, safeio.SyncDir(failed)
}

// Delete removes an entry from the spool or from failed/.
func (s *Spool) Delete(id string) error {
	if err := ValidID(id); err != nil {
		return err
	}
	if err := deleteIn(s.dir, id); err != ErrNotFound {
		return err
	}
	return s.DeleteFailed(id)
}

// DeleteFailed removes an entry from failed/ only (queue purge-failed).
func (s *Spool) DeleteFailed(id string) error {
	if err := ValidID(id); err != nil {
		return err
	}
	unlock, err := s.lockFailed()
	if err != nil {
		return err
	}
	defer unlock()
	return deleteIn(filepath.Join(s.dir, "failed"), id)
}

func deleteIn(dir, id string) error {
	msg := filepath.Join(dir, id+".msg")
	if _, err := os.Stat(msg); err != nil {
		return ErrNotFound
	}
	if err := os.Remove(filepath.Join(dir, id+".json")); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.Remove(msg); err != nil {
		return err
	}
	return safeio.SyncDir(dir)
}

// MoveToFailed moves a finished entry that has failed recipients into
// failed/, where an admin can inspect it. The meta moves last.
func (s *Spool) MoveToFailed(e *Entry) error {
	if err := ValidID(e.ID); err != nil {
		return err
	}
	if err := s.writeMeta(e); err != nil {
		return err
	}
	failed := filepath.Join(s.dir, "failed")
	// Both renames under failed/'s lock: an admin command never sees the
	// message there without its meta.
	unlock, err := s.lockFailed()
	if err != nil {
		return err
	}
	defer unlock()
	// The message moves first: a crash between the two renames leaves the
	// state in the spool without its message (moved aside and reported at
	// startup), never a message delivered twice.
	if err := os.Rename(s.msgPath(e.ID), filepath.Join(failed, e.ID+".msg")); err != nil {
		return err
	}
	if betweenFailedRenames != nil {
		betweenFailedRenames(e.ID)
	}
	if err := os.Rename(s.metaPath(e.ID), filepath.Join(failed, e.ID+".json")); err != nil {
		return err
	}
	if err := safeio.SyncDir(failed); err != nil {
		return err
	}
	return s.syncDir()
}
