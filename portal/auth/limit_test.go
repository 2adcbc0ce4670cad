package auth

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// 5 failures in 15 minutes lock a key for an hour.
func TestLimiterLocks(t *testing.T) {
	c := newClock()
	l := NewLimiter(5, 15*time.Minute, time.Hour, c.now)
	for i := range 4 {
		if ok, _ := l.Allow("part"); !ok {
			t.Fatalf("refused after %d failures", i)
		}
		l.Fail("part")
		c.add(time.Minute)
	}
	if ok, _ := l.Allow("part"); !ok {
		t.Fatal("refused after 4 failures")
	}
	l.Fail("part") // the fifth, at 09:04
	ok, retry := l.Allow("part")
	if ok || retry != time.Hour {
		t.Fatalf("after the fifth failure: %v, retry %v; want locked for 1h", ok, retry)
	}
	if ok, _ := l.Allow("other part"); !ok {
		t.Error("another key locked too")
	}
	// Failures while locked do not extend the lock.
	c.add(59 * time.Minute)
	l.Fail("part")
	if ok, retry := l.Allow("part"); ok || retry != time.Minute {
		t.Fatalf("59 min into the lock: %v, %v; want 1 min left", ok, retry)
	}
	c.add(time.Minute)
	if ok, _ := l.Allow("part"); !ok {
		t.Fatal("still locked after the lockout")
	}
	// After the lock, counting starts again from zero.
	for range 4 {
		l.Fail("part")
	}
	if ok, _ := l.Allow("part"); !ok {
		t.Fatal("locked after 4 new failures")
	}
}

// Failures older than the window do not count.
func TestLimiterWindow(t *testing.T) {
	c := newClock()
	l := NewLimiter(3, 15*time.Minute, time.Hour, c.now)
	l.Fail("k") // 09:00
	c.add(10 * time.Minute)
	l.Fail("k") // 09:10
	c.add(5 * time.Minute)
	l.Fail("k") // 09:15: the first is out of the window
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("locked by a failure out of the window")
	}
	c.add(time.Minute)
	l.Fail("k") // 09:16: three within 15 minutes (09:10, 09:15, 09:16)
	if ok, _ := l.Allow("k"); ok {
		t.Fatal("three failures within the window did not lock")
	}
}

func TestLimiterReset(t *testing.T) {
	c := newClock()
	l := NewLimiter(2, time.Minute, time.Hour, c.now)
	l.Fail("k")
	l.Reset("k") // a success
	l.Fail("k")
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("failure before a success counted")
	}
	l.Fail("k")
	if ok, _ := l.Allow("k"); ok {
		t.Fatal("not locked")
	}
	l.Reset("k")
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("locked after Reset")
	}
}

func TestLimiterBounded(t *testing.T) {
	c := newClock()
	l := NewLimiter(2, time.Minute, time.Hour, c.now)
	l.cap = 100
	// Keys whose failures left the window are swept.
	for i := range 50 {
		l.Fail(fmt.Sprint("a", i))
	}
	c.add(time.Minute)
	l.Fail("b")
	if l.Len() != 1 {
		t.Fatalf("Len = %d, want 1 after the window", l.Len())
	}
	// A locked key survives a flood of new keys: the counting ones go first.
	l.Fail("victim")
	l.Fail("victim")
	for i := range 1000 {
		l.Fail(fmt.Sprint("flood", i))
	}
	if l.Len() != 100 {
		t.Fatalf("Len = %d, want the cap 100", l.Len())
	}
	if ok, _ := l.Allow("victim"); ok {
		t.Fatal("a flood of keys lifted a lock")
	}
	// Only a flood of locks displaces locks, the oldest first.
	for i := range 100 {
		l.Fail(fmt.Sprint("lock", i))
		l.Fail(fmt.Sprint("lock", i))
	}
	if ok, _ := l.Allow("victim"); !ok {
		t.Error("oldest lock kept past the cap of locks")
	}
	if ok, _ := l.Allow("lock99"); ok {
		t.Error("newest lock evicted")
	}
	// Ended locks are swept.
	c.add(time.Hour)
	l.Allow("x")
	if l.Len() != 0 {
		t.Errorf("Len = %d after every lock ended", l.Len())
	}
}

func TestRate(t *testing.T) {
	c := newClock()
	r := NewRate(60, 10, c.now) // one a second, 10 at once
	for i := range 10 {
		if !r.Allow("192.0.2.1") {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	if r.Allow("192.0.2.1") {
		t.Fatal("11th request at once allowed")
	}
	if !r.Allow("192.0.2.2") {
		t.Fatal("another client refused")
	}
	c.add(999 * time.Millisecond)
	if r.Allow("192.0.2.1") {
		t.Fatal("allowed before a token refilled")
	}
	c.add(time.Millisecond)
	if !r.Allow("192.0.2.1") || r.Allow("192.0.2.1") {
		t.Fatal("want exactly one request after one second")
	}
	// Refill stops at the burst.
	c.add(time.Hour)
	n := 0
	for r.Allow("192.0.2.1") {
		n++
	}
	if n != 10 {
		t.Errorf("after an hour %d requests at once, want 10", n)
	}
}

func TestRateBounded(t *testing.T) {
	c := newClock()
	r := NewRate(60, 10, c.now) // full again 10 s after the last request
	r.cap = 100
	for i := range 50 {
		r.Allow(fmt.Sprint("a", i))
	}
	c.add(10 * time.Second)
	r.Allow("b")
	if r.Len() != 1 {
		t.Fatalf("Len = %d, want 1: full buckets are forgotten", r.Len())
	}
	for i := range 1000 {
		r.Allow(fmt.Sprint("flood", i))
	}
	if r.Len() != 100 {
		t.Errorf("Len = %d, want the cap 100", r.Len())
	}
}

func TestLimitsConcurrent(t *testing.T) {
	l := NewLimiter(1000, time.Hour, time.Hour, time.Now)
	r := NewRate(1, 1000, time.Now)
	var allowed sync.Map
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			n := 0
			for range 200 {
				l.Allow("k")
				l.Fail("k")
				if r.Allow("c") {
					n++
				}
			}
			allowed.Store(i, n)
		})
	}
	wg.Wait()
	total := 0
	allowed.Range(func(_, v any) bool { total += v.(int); return true })
	if total < 1000 || total > 1001 {
		t.Errorf("%d of 1600 requests allowed, want the burst of 1000", total)
	}
	if ok, _ := l.Allow("k"); ok {
		t.Error("1600 failures did not lock")
	}
}
