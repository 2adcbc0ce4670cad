package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// sessionIDLen is the length of a session id: 32 random bytes, base64url
// without padding.
const sessionIDLen = 43

// Sessions are the approvers' logins, in memory (a restart logs everyone
// out). A session ends after idle without a Get, or max after its
// Create, whichever comes first, or at Delete (logout). At most 10,000
// live at once; past that, Create evicts the least recently used.
//
// Ids are kept only as their SHA-256, so a map lookup's timing says
// nothing about the ids stored. Sessions may be used concurrently.
type Sessions struct {
	idle, max time.Duration
	now       func() time.Time
	cap       int

	mu sync.Mutex
	m  *ordered[session] // by sha256(id); newest use first
}

type session struct {
	user          string
	created, last time.Time
}

// NewSessions returns an empty set of sessions. idle and max must be
// positive; now is the clock (time.Now in production).
func NewSessions(idle, max time.Duration, now func() time.Time) *Sessions {
	if idle <= 0 || max <= 0 {
		panic("auth: NewSessions needs positive idle and max durations")
	}
	return &Sessions{idle: idle, max: max, now: now, cap: defaultSessionCap, m: newOrdered[session]()}
}

// Create starts a session for user and returns its id: 32 random bytes,
// base64url without padding (43 characters), for a cookie.
func (s *Sessions) Create(user string) (id string) {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	id = base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.m.put(sessionKey(id), session{user: user, created: now, last: now})
	for s.m.len() > s.cap {
		s.m.evictOldest()
	}
	return id
}

// Get returns the user of a live session and extends its idle time; an
// expired session is removed and gives false, as does an unknown id.
func (s *Sessions) Get(id string) (user string, ok bool) {
	if len(id) != sessionIDLen {
		return "", false
	}
	now := s.now()
	key := sessionKey(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	se := s.m.get(key)
	if se == nil {
		return "", false
	}
	if s.expired(se, now) {
		s.m.del(key)
		return "", false
	}
	se.last = now
	s.m.touch(key)
	return se.user, true
}

// Delete ends a session (logout); an unknown id is no error.
func (s *Sessions) Delete(id string) {
	key := sessionKey(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m.del(key)
}

// Len returns how many sessions are held (some may have expired and not
// been swept yet).
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.len()
}

func (s *Sessions) expired(se *session, now time.Time) bool {
	return now.Sub(se.last) >= s.idle || now.Sub(se.created) >= s.max
}

// sweep drops the sessions idle too long: the oldest in use order. Those
// past max but recently used go at their next Get, or idle later.
func (s *Sessions) sweep(now time.Time) {
	s.m.sweep(func(se *session) bool { return now.Sub(se.last) >= s.idle })
}

func sessionKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return string(h[:])
}
