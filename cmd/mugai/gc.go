package main

import (
	"math"
	"os"
	"runtime/debug"

	"mugai/gateway"
)

// gcPercent is the garbage collector's target for mugai serve when GOGC
// is not set: the heap may grow to three times what is live between
// collections instead of twice. A strict gateway's live heap is a few
// megabytes while every message allocates about three times its size, so
// at GOGC=100 the collector ran every few messages and, on a 2-core
// machine, took one of the two cores from the session and its commit: the
// time from a single sender's message to its 250 was 6–7 % shorter at
// 200 (make perf's phase probe, 2026-12-01), for a peak RSS at 20
// sessions of 35 → 40 MB (strict) and 127 → 149 MB (default policy).
const gcPercent = 200

// memoryLimitOver is what the soft memory limit set when GOMEMLIMIT is not
// allows above twice limits.rebuild_memory (see tuneGC).
const memoryLimitOver = 256 << 20

// tuneGC sets the collector's percent and a soft memory limit for the
// serving process, each only where its environment variable (GOGC,
// GOMEMLIMIT) does not say otherwise, and returns what is in force. The
// limit keeps the worst case where GOGC=100 had it: the rebuilds' memory
// is bounded by limits.rebuild_memory, and the heap could then grow to
// twice that; near the limit the collector runs as often as it needs.
func tuneGC(cfg gateway.Config) (percent int, limit int64) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit(int64(cfg.Limits.RebuildMemory)))
	}
	percent = debug.SetGCPercent(-1) // reads it; set back at once
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

// memoryLimit is twice the rebuilds' budget plus memoryLimitOver, or no
// limit (math.MaxInt64) when that does not fit an int64: a size may be
// up to 4 EiB, and SetMemoryLimit ignores the negative a wrap gives.
func memoryLimit(budget int64) int64 {
	if budget > (math.MaxInt64-memoryLimitOver)/2 {
		return math.MaxInt64
	}
	return 2*budget + memoryLimitOver
}

// setBy names who set a runtime setting: the environment variable name,
// or "mugai" when tuneGC did.
func setBy(name string) string {
	if os.Getenv(name) != "" {
		return name
	}
	return "mugai"
}
