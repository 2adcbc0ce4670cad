package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestBudget(t *testing.T) {
	b := newBudget(100)
	ctx := context.Background()
	a, err := b.acquire(ctx, 60)
	if err != nil || a != 60 {
		t.Fatalf("acquire 60: %d %v", a, err)
	}
	// Over the total: cut to it, and it waits for everything to be free.
	big := make(chan int64, 1)
	go func() { n, _ := b.acquire(ctx, 500); big <- n }()
	for b.waiters() != 1 {
		time.Sleep(time.Millisecond)
	}
	// First come, first served: a small one that would fit waits behind it.
	small := make(chan int64, 1)
	go func() { n, _ := b.acquire(ctx, 10); small <- n }()
	for b.waiters() != 2 {
		time.Sleep(time.Millisecond)
	}
	select {
	case <-small:
		t.Fatal("a later reservation overtook a waiting one")
	case <-time.After(20 * time.Millisecond):
	}
	b.release(a)
	if n := <-big; n != 100 {
		t.Errorf("the large reservation got %d, want it cut to the total", n)
	}
	if b.inUse() != 100 {
		t.Errorf("in use %d", b.inUse())
	}
	b.release(100)
	if n := <-small; n != 10 {
		t.Errorf("small got %d", n)
	}
	// A wait that ends returns errBusy and leaves the budget as it was.
	ctx2, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := b.acquire(ctx2, 95); !errors.Is(err, errBusy) {
		t.Errorf("timed-out wait: %v", err)
	}
	if b.inUse() != 10 || b.waiters() != 0 {
		t.Errorf("after a timed-out wait: in use %d, %d waiting", b.inUse(), b.waiters())
	}
	b.release(10)
	if b.inUse() != 0 {
		t.Errorf("in use %d at the end", b.inUse())
	}
}

func (b *budget) waiters() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.waiting)
}

// With a budget that admits one large message at a time, concurrent large
// messages are all accepted and delivered, one rebuild after another.
func TestRebuildMemoryBudget(t *testing.T) {
	hop := startNextHop(t)
	tg := startGateway(t, func(c *Config) {
		c.Deliver.Relay = hop.addr
		c.Limits.RebuildMemory = 1 << 20
	})
	body := strings.Repeat("本文の行です。 a line of the body\r\n", 8000) // ~400 KB: reserves more than the budget
	const n = 6
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, fmt.Sprintf("Subject: big %d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s", i, body))
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "all delivered", func() bool { return len(hop.messages()) == n })
	if used := tg.g.memory.inUse(); used != 0 {
		t.Errorf("%d bytes still reserved after every rebuild ended", used)
	}
}

// TestLeaseGrow: a rebuild's reservation grows as it expands and is given
// back whole; a growth that does not fit waits, a second one fails at
// once (no two rebuilds wait on each other), and new rebuilds are held
// back while a growth waits.
func TestLeaseGrow(t *testing.T) {
	ctx := context.Background()
	b := newBudget(100)
	a, err := b.reserve(ctx, 40)
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.reserve(ctx, 40)
	if err != nil {
		t.Fatal(err)
	}
	// Fits: granted at once.
	if err := a.grow(ctx, 10); err != nil || b.inUse() != 90 {
		t.Fatalf("grow that fits: %v, in use %d", err, b.inUse())
	}
	// Does not fit: a waits for c.
	aGrew := make(chan error, 1)
	go func() { aGrew <- a.grow(ctx, 30) }()
	waitGrower(t, b, true)
	// The deadlock case: c grows too while a waits for c's memory. It
	// fails at once instead of waiting on a.
	if err := c.grow(ctx, 20); !errors.Is(err, errBusy) {
		t.Fatalf("second growth: %v, want errBusy at once", err)
	}
	// A new rebuild that would fit now is held back behind the growth.
	newcomer := make(chan int64, 1)
	go func() { n, _ := b.acquire(ctx, 5); newcomer <- n }()
	for b.waiters() != 1 {
		time.Sleep(time.Millisecond)
	}
	select {
	case <-newcomer:
		t.Fatal("a new rebuild was admitted while a running one waited to grow")
	case <-time.After(20 * time.Millisecond):
	}
	c.release() // c's rebuild gave up: a grows, then the newcomer starts
	if err := <-aGrew; err != nil {
		t.Fatalf("waiting growth: %v", err)
	}
	if n := <-newcomer; n != 5 {
		t.Fatalf("newcomer got %d", n)
	}
	if got := b.inUse(); got != 85 { // a: 40+10+30, newcomer 5
		t.Fatalf("in use %d, want 85", got)
	}
	a.release()
	a.release() // idempotent
	b.release(5)
	if got := b.inUse(); got != 0 {
		t.Fatalf("in use %d after every release", got)
	}
	// After release a grow adds nothing (a sanitizer still running past
	// its rebuild's end).
	if err := a.grow(ctx, 1); !errors.Is(err, errReleased) || b.inUse() != 0 {
		t.Fatalf("grow after release: %v, in use %d", err, b.inUse())
	}
}

// TestLeaseGrowEnds: a waiting growth ends with its rebuild's deadline, or
// when its lease is released, leaving nothing reserved; a growth larger
// than the whole budget is cut to it and waits to run alone.
func TestLeaseGrowEnds(t *testing.T) {
	b := newBudget(100)
	other, _ := b.reserve(context.Background(), 50)
	a, _ := b.reserve(context.Background(), 30)

	// The deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := a.grow(ctx, 40); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("grow past the deadline: %v", err)
	}
	if b.inUse() != 80 {
		t.Fatalf("in use %d after a growth timed out", b.inUse())
	}
	waitGrower(t, b, false)

	// Released while waiting.
	grew := make(chan error, 1)
	go func() { grew <- a.grow(context.Background(), 40) }()
	waitGrower(t, b, true)
	a.release()
	if err := <-grew; !errors.Is(err, errReleased) {
		t.Fatalf("growth of a released lease: %v", err)
	}
	if b.inUse() != 50 {
		t.Fatalf("in use %d, want other's 50", b.inUse())
	}

	// Larger than the budget: cut to it, granted when alone.
	big, _ := b.reserve(context.Background(), 10)
	go func() { grew <- big.grow(context.Background(), 1000) }()
	waitGrower(t, b, true)
	other.release()
	if err := <-grew; err != nil {
		t.Fatalf("growth past the budget: %v", err)
	}
	if b.inUse() != 100 {
		t.Fatalf("in use %d, want the whole budget", b.inUse())
	}
	big.release()
	if b.inUse() != 0 {
		t.Fatalf("in use %d at the end", b.inUse())
	}
}

func waitGrower(t *testing.T, b *budget, want bool) {
	t.Helper()
	waitFor(t, fmt.Sprintf("a growth waiting = %v", want), func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return (b.grower != nil) == want
	})
}
