package auth

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake time source tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestSessions(t *testing.T) {
	c := newClock()
	s := NewSessions(30*time.Minute, 8*time.Hour, c.now)
	id := s.Create("tanaka")
	if len(id) != 43 || strings.ContainsAny(id, "+/=") {
		t.Fatalf("id %q: want 43 URL-safe characters", id)
	}
	if other := s.Create("tanaka"); other == id {
		t.Fatal("two sessions, one id")
	}
	if u, ok := s.Get(id); !ok || u != "tanaka" {
		t.Fatalf("Get = %q, %v", u, ok)
	}
	// Unknown and malformed ids.
	for _, bad := range []string{"", "x", id[:42], id + "A", strings.ToUpper(id)} {
		if u, ok := s.Get(bad); ok {
			t.Errorf("Get(%q) = %q", bad, u)
		}
	}
	s.Delete(id)
	if _, ok := s.Get(id); ok {
		t.Error("session alive after Delete")
	}
	s.Delete(id) // twice is no error
}

func TestSessionsIdle(t *testing.T) {
	c := newClock()
	s := NewSessions(30*time.Minute, 8*time.Hour, c.now)
	id := s.Create("tanaka")
	// Each Get extends the idle time.
	for range 4 {
		c.add(29 * time.Minute)
		if _, ok := s.Get(id); !ok {
			t.Fatal("expired while in use")
		}
	}
	c.add(30 * time.Minute)
	if _, ok := s.Get(id); ok {
		t.Fatal("alive after 30 idle minutes")
	}
	if s.Len() != 0 {
		t.Errorf("expired session still held (%d)", s.Len())
	}
}

func TestSessionsMax(t *testing.T) {
	c := newClock()
	s := NewSessions(30*time.Minute, 2*time.Hour, c.now)
	id := s.Create("tanaka")
	for range 11 {
		c.add(10 * time.Minute)
		if _, ok := s.Get(id); !ok {
			t.Fatalf("expired at %v, before its maximum", c.now())
		}
	}
	c.add(9*time.Minute + 59*time.Second) // 1 s before the maximum
	if _, ok := s.Get(id); !ok {
		t.Fatal("expired a second before its maximum")
	}
	c.add(time.Second) // 2 h after Create
	if _, ok := s.Get(id); ok {
		t.Fatal("alive past its maximum though in use")
	}
}

// Sessions idle too long go at the next call, whoever makes it; past the
// cap the least recently used go first.
func TestSessionsBounded(t *testing.T) {
	c := newClock()
	s := NewSessions(time.Hour, 8*time.Hour, c.now)
	s.cap = 100
	for i := range 50 {
		s.Create(fmt.Sprint("old", i))
	}
	c.add(time.Hour)
	s.Create("new")
	if s.Len() != 1 {
		t.Fatalf("Len = %d after the others idled out, want 1", s.Len())
	}
	first := s.Create("first")
	c.add(time.Minute)
	var ids []string
	for i := range 200 {
		ids = append(ids, s.Create(fmt.Sprint("flood", i)))
		if i%50 == 0 {
			c.add(time.Second)
			if _, ok := s.Get(first); !ok { // in use: among the newest
				t.Fatalf("session in use evicted after %d others", i)
			}
		}
	}
	if s.Len() != 100 {
		t.Fatalf("Len = %d, want the cap 100", s.Len())
	}
	if _, ok := s.Get(first); !ok {
		t.Error("recently used session evicted")
	}
	if _, ok := s.Get(ids[0]); ok {
		t.Error("oldest unused session kept past the cap")
	}
	if u, ok := s.Get(ids[199]); !ok || u != "flood199" {
		t.Error("newest session evicted")
	}
}

func TestSessionsConcurrent(t *testing.T) {
	s := NewSessions(time.Hour, time.Hour, time.Now)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				user := fmt.Sprint(i, "-", j)
				id := s.Create(user)
				if u, ok := s.Get(id); !ok || u != user {
					t.Errorf("Get = %q, %v; want %q", u, ok, user)
				}
				s.Delete(id)
			}
		})
	}
	wg.Wait()
	if s.Len() != 0 {
		t.Errorf("Len = %d", s.Len())
	}
}
