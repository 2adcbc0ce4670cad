// Package safeio writes files so that, once a function returns nil, the
// data and its directory entry survive a crash or power loss: write,
// make the data durable, rename into place, make the directory durable.
// chasquid's safeio skips the directory sync; maddy renames before syncing
// the data. We do neither. Staged and Committer do the same for several
// files at once, in rounds shared between concurrent callers (group
// commit).
package safeio

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TempSuffix marks files that are not committed yet. Recovery removes them.
const TempSuffix = ".tmp"

// WriteFile writes data to path atomically: a temp file in the same
// directory, fsynced, renamed over path. The caller fsyncs the directory
// (SyncDir) once after its last commit, so several files share one
// directory sync.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := CreateTemp(filepath.Dir(path), filepath.Base(path), perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	return Commit(f, path)
}

// CreateTemp creates an exclusive temp file in dir whose name starts with
// prefix and ends with TempSuffix, for the caller to stream into and then
// Commit or Discard.
func CreateTemp(dir, prefix string, perm os.FileMode) (*os.File, error) {
	name, err := tempName(dir, prefix)
	if err != nil {
		return nil, err
	}
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
}

// tempName is a new random temp file name in dir (IsTemp).
func tempName(dir, prefix string) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return filepath.Join(dir, "."+prefix+"."+hex.EncodeToString(b[:])+TempSuffix), nil
}

// Commit syncs f's data (SyncData), closes it and renames it to path. The
// directory still needs SyncDir before the rename is durable.
func Commit(f *os.File, path string) error {
	if err := SyncData(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// Discard closes and removes an uncommitted temp file.
func Discard(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}

// SyncDir fsyncs a directory so that entries created or renamed in it are
// durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}

// MkdirAll creates dir and its missing parents, fsyncing each parent whose
// entries changed, so a new directory cannot vanish in a crash.
func MkdirAll(dir string, perm os.FileMode) error {
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := MkdirAll(parent, perm); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, perm); err != nil && !os.IsExist(err) {
		return err
	}
	return SyncDir(parent)
}

// IsTemp reports whether a directory entry is an uncommitted temp file.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, TempSuffix)
}
