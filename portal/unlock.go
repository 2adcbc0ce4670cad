package portal

import (
	"errors"
	"net/http"
	"sync"
	"time"
)

// staffUnlock opens a password-protected ZIP part with the password
// typed into the page. The password is read as bytes from the body
// (never through ParseForm's strings), handed to the backend, zeroed
// afterwards and never logged. Attempts are limited per part, not per
// client address, so changing address does not buy more tries.
func (s *Server) staffUnlock(w http.ResponseWriter, r *http.Request) {
	p, ok := s.readStaffPost(w, r)
	defer p.f.zero()
	if !ok {
		return
	}
	if !p.part.Encrypted {
		s.fail(w, http.StatusBadRequest, errNotLocked)
		return
	}
	rcpt, ok := pickRcpt(p.m, p.f)
	if !ok {
		s.fail(w, http.StatusBadRequest, errBadRcpt)
		return
	}
	to := rcptIndex(p.m, rcpt)
	pw := p.f.bytes("password")
	if len(pw) == 0 {
		s.back(w, r, p.tok, resNoPassword, p.part.Path, to, -1)
		return
	}
	flag, left := s.unlock(p.m.ID, p.part.Path, rcpt, pw)
	p.f.zero()
	s.back(w, r, p.tok, flag, p.part.Path, to, left)
}

// unlock tries one password on a part, one attempt at a time per part,
// and returns the result flag and, after a wrong password, the tries
// left before the part locks.
func (s *Server) unlock(id, part, rcpt string, pw []byte) (flag string, left int) {
	key := id + "\x00" + part
	if !s.claim(key) {
		return resBusy, -1
	}
	defer s.release(key)
	if ok, _ := s.unlocks.Allow(key); !ok {
		return resLocked, -1
	}
	sent := key + "\x00" + rcpt
	if ok, _ := s.opened.Allow(sent); !ok {
		return resSentEnough, -1
	}
	res, err := s.b.Unlock(id, part, rcpt, pw)
	clear(pw)
	switch {
	case errors.Is(err, ErrWrongPassword):
		s.unlocks.Fail(key)
		left := s.tries.fail(key, s.cfg.Now())
		if ok, _ := s.unlocks.Allow(key); !ok || left <= 0 {
			s.tries.reset(key)
			return resLocked, -1
		}
		return resWrong, left
	case err != nil:
		s.cfg.Log.Error("portal: unlock", "msg_id", id, "part", part, "err", err)
		return resUnlockFailed, -1
	}
	s.unlocks.Reset(key)
	s.tries.reset(key)
	s.opened.Fail(sent) // counts a delivery: the limiter locks after unlockDeliveries
	s.cfg.Log.Info("portal: unlocked", "msg_id", id, "part", part, "spool_id", res.SpoolID, "kept", res.Kept, "removed", res.Removed)
	return resUnlocked, -1
}

// claim marks an unlock of key in flight; false when one already is, so
// parallel posts cannot try more passwords than the limiter allows.
func (s *Server) claim(key string) bool {
	s.inflightMu.Lock()
	defer s.inflightMu.Unlock()
	if s.inflight[key] {
		return false
	}
	if s.inflight == nil {
		s.inflight = map[string]bool{}
	}
	s.inflight[key] = true
	return true
}

func (s *Server) release(key string) {
	s.inflightMu.Lock()
	delete(s.inflight, key)
	s.inflightMu.Unlock()
}

// tries counts an unlock's recent failures per part only to tell the
// page how many remain; the auth.Limiter decides the lock. It holds at
// most maxTrackedTries keys (the oldest go first: the page then says a
// number too high, never locks less).
type tries struct {
	max    int
	window time.Duration
	mu     sync.Mutex
	fails  map[string][]time.Time
}

const maxTrackedTries = 10_000

func newTries(max int, window time.Duration) *tries {
	return &tries{max: max, window: window, fails: map[string][]time.Time{}}
}

// fail counts one failure of key at now and returns the tries left.
func (t *tries) fail(key string, now time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	var recent []time.Time
	for _, at := range t.fails[key] {
		if now.Sub(at) < t.window {
			recent = append(recent, at)
		}
	}
	recent = append(recent, now)
	if _, ok := t.fails[key]; !ok && len(t.fails) >= maxTrackedTries {
		t.evict(now)
	}
	t.fails[key] = recent
	return t.max - len(recent)
}

// evict drops keys whose failures are all out of the window, or, when
// none are, an arbitrary one.
func (t *tries) evict(now time.Time) {
	for k, at := range t.fails {
		if now.Sub(at[len(at)-1]) >= t.window {
			delete(t.fails, k)
		}
	}
	for k := range t.fails {
		if len(t.fails) < maxTrackedTries {
			break
		}
		delete(t.fails, k)
	}
}

func (t *tries) reset(key string) {
	t.mu.Lock()
	delete(t.fails, key)
	t.mu.Unlock()
}
