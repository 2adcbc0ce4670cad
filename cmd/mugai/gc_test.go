package main

import (
	"runtime/debug"
	"testing"

	"mugai/gateway"
)

// keepGC restores the test binary's collector settings after a test.
func keepGC(t *testing.T) {
	percent := debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
}

func TestTuneGCDefaults(t *testing.T) {
	keepGC(t)
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	debug.SetGCPercent(100)
	cfg := gateway.Defaults()
	cfg.Limits.RebuildMemory = 512 << 20
	percent, limit := tuneGC(cfg)
	if percent != gcPercent {
		t.Errorf("gc percent %d, want %d", percent, gcPercent)
	}
	if want := int64(2*512<<20 + memoryLimitOver); limit != want {
		t.Errorf("memory limit %d, want %d", limit, want)
	}
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("runtime gc percent %d after tuneGC, want %d", got, gcPercent)
	}
}

// An admin's GOGC or GOMEMLIMIT is the runtime's own (read at start):
// tuneGC leaves it as it is.
func TestTuneGCLeavesEnvironment(t *testing.T) {
	keepGC(t)
	t.Setenv("GOGC", "77")
	t.Setenv("GOMEMLIMIT", "1536MiB")
	debug.SetGCPercent(77)
	debug.SetMemoryLimit(1536 << 20)
	percent, limit := tuneGC(gateway.Defaults())
	if percent != 77 || limit != 1536<<20 {
		t.Errorf("tuneGC = %d, %d; want the environment's 77, %d", percent, limit, 1536<<20)
	}
}
