package main

import (
	"math"
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

// limits.rebuild_memory may be up to 4 EiB (a size's largest): twice it
// plus memoryLimitOver does not fit an int64, and the limit is then none
// (math.MaxInt64), not whatever was in force before nor a wrapped value.
func TestTuneGCHugeBudget(t *testing.T) {
	keepGC(t)
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	for _, size := range []int64{1 << 62, 1<<62 - 1, (math.MaxInt64-memoryLimitOver)/2 + 1} {
		debug.SetMemoryLimit(1 << 30)
		cfg := gateway.Defaults()
		cfg.Limits.RebuildMemory = gateway.Size(size)
		if _, limit := tuneGC(cfg); limit != math.MaxInt64 {
			t.Errorf("rebuild_memory %d: memory limit %d, want none (%d)", size, limit, int64(math.MaxInt64))
		}
	}
	cfg := gateway.Defaults()
	cfg.Limits.RebuildMemory = (math.MaxInt64 - memoryLimitOver) / 2
	if _, limit := tuneGC(cfg); limit != 2*int64(cfg.Limits.RebuildMemory)+memoryLimitOver {
		t.Errorf("largest budget that fits: memory limit %d", limit)
	}
}

// GOGC=off is the admin's: the collector stays off, and the soft limit
// mugai sets is then what makes it run (the runtime's GOGC=off plus
// GOMEMLIMIT mode); the start-up line says -1 from GOGC.
func TestTuneGCOff(t *testing.T) {
	keepGC(t)
	t.Setenv("GOGC", "off")
	t.Setenv("GOMEMLIMIT", "")
	debug.SetGCPercent(-1)
	cfg := gateway.Defaults()
	percent, limit := tuneGC(cfg)
	if percent != -1 || setBy("GOGC") != "GOGC" || limit != 2*int64(cfg.Limits.RebuildMemory)+memoryLimitOver || setBy("GOMEMLIMIT") != "mugai" {
		t.Errorf("tuneGC = %d, %d", percent, limit)
	}
}
