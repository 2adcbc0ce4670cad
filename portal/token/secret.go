package token

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"mugai/gateway/safeio"
)

const (
	// SecretLen is the length of a secret LoadSecret creates, and the
	// shortest it accepts.
	SecretLen = 32
	// maxSecretLen bounds what LoadSecret reads: a key file, not a
	// document.
	maxSecretLen = 4096
)

// LoadSecret returns the key in the file at path, used as its raw bytes
// (a trailing newline is part of the key). When the file does not exist
// it creates it: SecretLen random bytes, mode 0600, its directory made
// 0700 when missing, written durably (temp file, fsync, link into place,
// fsync of the directory). When two processes create it at once, both
// get the one that was linked first.
//
// It refuses, naming the path, a file that is not a regular file, that
// is shorter than SecretLen bytes or longer than 4096, or that group or
// others may read, write or execute (chmod 600 fixes that).
func LoadSecret(path string) ([]byte, error) {
	key, err := readSecret(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := createSecret(path); err != nil {
		return nil, fmt.Errorf("portal secret %s: creating it: %w", path, err)
	}
	return readSecret(path)
}

func readSecret(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("portal secret: %w", err) // names path
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("portal secret: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("portal secret %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("portal secret %s: mode %04o lets group or others at it; it must be 0600 (chmod 600 %s)", path, perm, path)
	}
	key, err := io.ReadAll(io.LimitReader(f, maxSecretLen+1))
	if err != nil {
		return nil, fmt.Errorf("portal secret: %w", err)
	}
	switch {
	case len(key) < SecretLen:
		return nil, fmt.Errorf("portal secret %s: %d bytes, shorter than %d", path, len(key), SecretLen)
	case len(key) > maxSecretLen:
		return nil, fmt.Errorf("portal secret %s: longer than %d bytes: not a key file", path, maxSecretLen)
	}
	return key, nil
}

// createSecret writes a new random key at path unless a file is there
// already (then it leaves that one).
func createSecret(path string) error {
	dir := filepath.Dir(path)
	if err := safeio.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	key := make([]byte, SecretLen)
	rand.Read(key) // never fails (crypto/rand)
	f, err := safeio.CreateTemp(dir, filepath.Base(path), 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(key); err != nil {
		f.Close()
		return err
	}
	if err := safeio.SyncData(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// A link, not a rename: it fails when another process created the
	// file meanwhile, and then that process's key is the one.
	if err := os.Link(f.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := os.Remove(f.Name()); err != nil {
		return err
	}
	return safeio.SyncDir(dir)
}
