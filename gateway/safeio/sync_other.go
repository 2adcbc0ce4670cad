//go:build !linux

package safeio

import "os"

// SyncData makes f's data durable (fsync where fdatasync is not offered).
func SyncData(f *os.File) error { return f.Sync() }
