package pdf

import (
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// mmapMemory is a WebAssembly linear memory outside the Go heap: its
// maximum is reserved at once as anonymous memory that no page of is
// resident until the module writes it, and it never moves when the
// module grows it. By default wazero keeps linear memory in the Go heap,
// zeroed in full at creation (pdfium starts with some 16 MiB), copied
// when grown, and freed only when the collector comes: with one instance
// per document, that garbage set the heap's goal and so the peak RSS.
type mmapMemory struct{ r *reservation }

// reservation is the mapping of an mmapMemory.
type reservation struct {
	mu  sync.Mutex
	buf []byte // len max; nil once freed
}

// mapped counts the reservations not yet freed; unmapped those whose
// mapping is gone (tests).
var mapped, unmapped atomic.Int64

// mmapAllocator allocates mmapMemory, or heapMemory where the
// reservation fails (a system that does not overcommit, for one).
var mmapAllocator = experimental.MemoryAllocatorFunc(func(_, max uint64) experimental.LinearMemory {
	buf, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return &heapMemory{max: max}
	}
	// Huge pages where the system gives them on request: a page fault
	// per 2 MiB rather than per 4 KiB (measured on the rss branch: 4.9
	// times the page faults of the Go heap without, 0.2 times with).
	_ = syscall.Madvise(buf, 14) // MADV_HUGEPAGE; EINVAL where unknown
	mapped.Add(1)
	m := &mmapMemory{r: &reservation{buf: buf}}
	// wazero frees a memory when its module closes, except a module
	// closed by its context during a call (go-pdfium's Kill): then the
	// collector's cleanup frees it once nothing reaches it.
	runtime.AddCleanup(m, (*reservation).free, m.r)
	return m
})

// Reallocate implements experimental.LinearMemory: the reservation's
// first size bytes, nil when over its maximum or freed.
func (m *mmapMemory) Reallocate(size uint64) []byte {
	r := m.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.buf == nil || size > uint64(len(r.buf)) {
		return nil
	}
	return r.buf[:size:size]
}

// Free implements experimental.LinearMemory.
func (m *mmapMemory) Free() { m.r.free() }

// free gives the pages back to the system at once and hands the mapping
// to calls.retire, which removes it once no call can run in it.
func (r *reservation) free() {
	r.mu.Lock()
	buf := r.buf
	r.buf = nil
	r.mu.Unlock()
	if buf == nil {
		return
	}
	mapped.Add(-1)
	// A late write (a module killed during a call runs on to its next
	// check) finds fresh zero pages: nothing of the document is read.
	_ = syscall.Madvise(buf, syscall.MADV_DONTNEED)
	calls.retire(buf)
}

// callTracker knows when a freed mapping can no longer be touched. Code
// runs in pdfium's memory only inside Engine.open (which brackets its
// calls with enter and leave) or while the pool creates an instance, whose
// memory is not freed before that returns. A mapping freed while opens
// were running could still be written by one of them (a killed call runs
// to its next check), so it is unmapped only when all of those have left:
// each open gets a generation, and a mapping freed at generation g goes
// once no open of generation g or earlier is left.
type callTracker struct {
	mu     sync.Mutex
	gen    uint64              // opens entered so far
	active map[uint64]struct{} // generations of the opens not yet left
	limbo  []retired           // freed, pages given back, still mapped
}

type retired struct {
	buf []byte
	gen uint64 // the newest generation when it was freed
}

var calls = &callTracker{active: map[uint64]struct{}{}}

// enter marks the start of an open; leave, its end.
func (c *callTracker) enter() (leave func()) {
	c.mu.Lock()
	c.gen++
	g := c.gen
	c.active[g] = struct{}{}
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.active, g)
		ready := c.sweep()
		c.mu.Unlock()
		unmap(ready)
	}
}

// retire unmaps buf once no open that was running when it was freed is
// left, at once when none is.
func (c *callTracker) retire(buf []byte) {
	c.mu.Lock()
	c.limbo = append(c.limbo, retired{buf, c.gen})
	ready := c.sweep()
	c.mu.Unlock()
	unmap(ready)
}

// sweep takes the mappings no running open can touch out of limbo.
func (c *callTracker) sweep() (ready [][]byte) {
	oldest := c.gen + 1
	for g := range c.active {
		oldest = min(oldest, g)
	}
	keep := c.limbo[:0]
	for _, r := range c.limbo {
		if r.gen < oldest {
			ready = append(ready, r.buf)
		} else {
			keep = append(keep, r)
		}
	}
	clear(c.limbo[len(keep):])
	c.limbo = keep
	return ready
}

// pending is how many freed mappings wait for an open to leave (tests).
func (c *callTracker) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.limbo)
}

func unmap(bufs [][]byte) {
	for _, b := range bufs {
		_ = syscall.Munmap(b)
		unmapped.Add(1)
	}
}

// heapMemory is a linear memory in the Go heap, as wazero's own: the
// fallback when no reservation can be made.
type heapMemory struct {
	buf []byte
	max uint64
}

// Reallocate implements experimental.LinearMemory.
func (m *heapMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if size > uint64(cap(m.buf)) {
		m.buf = append(m.buf[:cap(m.buf)], make([]byte, size-uint64(cap(m.buf)))...)
	}
	m.buf = m.buf[:size]
	return m.buf
}

// Free implements experimental.LinearMemory.
func (m *heapMemory) Free() { m.buf = nil }
