package pdf

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	pdfium "github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/references"

	"golang.org/x/sys/unix"

	"mugai/sanitize/format"
)

// TestLinearMemory: a reservation grows in place up to its maximum and
// no further, holds what is written, and gives nothing once freed.
func TestLinearMemory(t *testing.T) {
	for name, m := range map[string]interface {
		Reallocate(uint64) []byte
		Free()
	}{"mmap": mmapAllocator.Allocate(0, 1<<20), "heap": &heapMemory{max: 1 << 20}} {
		b := m.Reallocate(64 << 10)
		if len(b) != 64<<10 {
			t.Fatalf("%s: %d bytes", name, len(b))
		}
		b[100] = 7
		g := m.Reallocate(512 << 10)
		if len(g) != 512<<10 || g[100] != 7 || g[200<<10] != 0 {
			t.Errorf("%s: grown to %d bytes, kept %d", name, len(g), g[100])
		}
		if name == "mmap" && &g[0] != &b[0] {
			t.Errorf("%s: the memory moved", name)
		}
		if m.Reallocate(1<<20+1) != nil {
			t.Errorf("%s: grown over its maximum", name)
		}
		m.Free()
		if m.Reallocate(1) != nil && name == "mmap" {
			t.Errorf("%s: usable after Free", name)
		}
	}
}

// TestRetiredWhileCalling: a mapping freed while an open runs stays
// mapped until that open leaves, even when later opens still run; one
// freed with no open running goes at once.
func TestRetiredWhileCalling(t *testing.T) {
	c := &callTracker{active: map[uint64]struct{}{}}
	reserve := func() []byte {
		b, err := syscall.Mmap(-1, 0, 1<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// Whether b's first page is mapped: mincore(2) fails with ENOMEM on
	// an unmapped page. (Looking for b's start in /proc/self/maps failed
	// now and then: the kernel merges adjacent anonymous mappings of the
	// same protection into one line that starts elsewhere.)
	isMapped := func(b []byte) bool {
		var vec [1]byte
		_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(os.Getpagesize()), uintptr(unsafe.Pointer(&vec[0])))
		if errno != 0 && errno != unix.ENOMEM {
			t.Fatal(errno)
		}
		return errno == 0
	}
	leaveOld := c.enter()
	buf := reserve()
	buf[10] = 9
	c.retire(buf)
	leaveNew := c.enter() // entered after the free: cannot touch it
	buf[10] = 1           // a killed call writing late: no fault
	leaveNew()
	if !isMapped(buf) || c.pending() != 1 {
		t.Fatalf("unmapped while the open that may use it runs (%d pending)", c.pending())
	}
	leaveOld()
	if isMapped(buf) || c.pending() != 0 {
		t.Errorf("not unmapped once the open left (%d pending)", c.pending())
	}
	other := reserve()
	c.retire(other)
	if isMapped(other) {
		t.Error("freed with no open running, and not unmapped")
	}
}

// TestFreedPagesZero: a freed reservation's pages are given back at once;
// a late write into it finds zero pages, not the document.
func TestFreedPagesZero(t *testing.T) {
	leave := calls.enter() // keeps it mapped
	defer leave()
	m := mmapAllocator.Allocate(0, 1<<20)
	buf := m.Reallocate(64 << 10)
	buf[10] = 9
	m.Free()
	if buf[10] != 0 {
		t.Errorf("a freed page still holds %d", buf[10])
	}
	buf[10] = 1
}

// TestEngineMemoryReturned: the engine's instances live in reserved
// memory (outside the Go heap), and every reservation is freed and
// unmapped when its instance closes: after the engine's Close none is
// left.
func TestEngineMemoryReturned(t *testing.T) {
	before := mapped.Load()
	e := &Engine{Instances: 2, CacheDir: testEngine.CacheDir}
	f := &Flattener{Engine: e, DPI: 72}
	for range 3 {
		if _, err := f.Sanitize(context.Background(), format.Part{}, bytes.NewReader(japanesePDF()), &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
	}
	var during int64
	err := e.document(context.Background(), japanesePDF(), func(pdfium.Pdfium, references.FPDF_DOCUMENT, int) error {
		during = mapped.Load() - before
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if during < 1 || during > 2 {
		t.Errorf("%d reservations while a document is open in a pool of 2", during)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if n := mapped.Load() - before; n != 0 {
		t.Errorf("%d reservations left after Close", n)
	}
	if n := calls.pending(); n != 0 {
		t.Errorf("%d freed reservations still mapped with no document open", n)
	}
}

// TestLinearMemoryDropped: a memory dropped without Free (a module
// closed by its context during a call) is freed by the collector.
func TestLinearMemoryDropped(t *testing.T) {
	before := mapped.Load()
	m := mmapAllocator.Allocate(0, 1<<20)
	m.Reallocate(64 << 10)[0] = 1
	if mapped.Load() != before+1 {
		t.Fatalf("%d reservations, want %d", mapped.Load(), before+1)
	}
	m = nil
	for start := time.Now(); mapped.Load() != before; {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("a dropped reservation was not freed: %d left", mapped.Load()-before)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
