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
