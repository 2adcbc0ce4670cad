//go:build !linux

package safeio

import "os"

// SyncData makes f's data durable (fsync where fdatasync is not offered).
func SyncData(f *os.File) error { return f.Sync() }

func syncFS(f *os.File) error { return f.Sync() }

// checkWriteback: elsewhere rounds run in files mode, where each file's
// own fsync already reports its errors.
func checkWriteback(*os.File) error { return nil }

func device(*os.File) (uint64, error) { return 0, nil }

// FilesystemSync reports whether syncfs(2) can be trusted: only on Linux.
func FilesystemSync() bool { return false }

// renameNoReplace renames from to to; elsewhere a plain rename (to is a
// fresh random temp name).
func renameNoReplace(from, to string) error { return os.Rename(from, to) }
