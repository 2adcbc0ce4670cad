package courier

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// Reuse configures the SMTP courier's connection cache, as Postfix's
// smtp_connection_cache_* settings do: a connection whose transaction
// ended cleanly (every command answered as expected, 250 at the end of
// DATA) is kept idle for the next delivery instead of QUIT. Zero values
// take the defaults.
type Reuse struct {
	// MaxIdle is how many idle connections are kept (0: DefaultMaxIdle;
	// negative: none, every delivery opens its own connection).
	MaxIdle int
	// IdleTimeout closes a connection idle this long (0: 2 s, Postfix's
	// smtp_connection_cache_time_limit).
	IdleTimeout time.Duration
	// MaxAge: no new transaction starts on a connection older than this
	// (0: 300 s, Postfix's smtp_connection_reuse_time_limit).
	MaxAge time.Duration
	// MaxUses: transactions per connection (0: no limit, as Postfix's
	// smtp_connection_reuse_count_limit).
	MaxUses int
}

// The defaults of Reuse.
const (
	DefaultMaxIdle     = 4 // deliver.workers' default
	DefaultIdleTimeout = 2 * time.Second
	DefaultMaxAge      = 300 * time.Second
)

// Stats counts the connections an SMTP courier used for its transactions.
type Stats struct {
	Opened uint64 // new connections (fresh TCP, EHLO, STARTTLS)
	Reused uint64 // transactions on a kept connection (after a good RSET)
}

// pconn is one connection to the next hop with its client.
type pconn struct {
	c        *smtp.Client
	bc       *boundedConn
	verified bool // STARTTLS done with a verified certificate (deliver.tls: required)
	born     time.Time
	uses     int         // transactions started on it
	timer    *time.Timer // closes it when idle too long; under pool.mu
}

// pool holds one courier's idle connections, most recently used last.
type pool struct {
	mu     sync.Mutex
	idle   []*pconn
	opened atomic.Uint64
	reused atomic.Uint64
}

func (r Reuse) maxIdle() int {
	if r.MaxIdle == 0 {
		return DefaultMaxIdle
	}
	return r.MaxIdle
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// take returns an idle connection, bound to ctx, on which RSET succeeded,
// or nil. A connection that is too old, used up, or not verified when TLS
// is required, or whose RSET fails, is closed. go-smtp's Reset (v0.25.1)
// sends RSET and then makes the next command greet again (EHLO): a failure
// there is a failure before MAIL, and the caller retries on a new
// connection.
func (s *SMTP) take(ctx context.Context) *pconn {
	for {
		s.pool.mu.Lock()
		n := len(s.pool.idle)
		if n == 0 {
			s.pool.mu.Unlock()
			return nil
		}
		pc := s.pool.idle[n-1]
		s.pool.idle = s.pool.idle[:n-1]
		pc.timer.Stop()
		s.pool.mu.Unlock()
		if !s.reusable(pc) {
			go quit(pc)
			continue
		}
		pc.bc.bind(ctx)
		if err := pc.c.Reset(); err != nil {
			pc.c.Close()
			return nil // one stale connection tried; the rest age out
		}
		pc.uses++
		s.pool.reused.Add(1)
		return pc
	}
}

// reusable reports whether a new transaction may start on pc.
func (s *SMTP) reusable(pc *pconn) bool {
	r := s.Reuse
	if r.MaxUses > 0 && pc.uses >= r.MaxUses {
		return false
	}
	if time.Since(pc.born) >= orDefault(r.MaxAge, DefaultMaxAge) {
		return false
	}
	if s.RequireTLS {
		st, ok := pc.c.TLSConnectionState()
		return pc.verified && ok && st.HandshakeComplete
	}
	return true
}

// release ends a transaction on pc: clean (every reply as expected) and
// room in the pool, pc waits idle for the next one; not clean, it is
// closed (a refusal, an error: never reused); else QUIT.
func (s *SMTP) release(pc *pconn, clean bool) {
	if !clean {
		pc.c.Close()
		return
	}
	if s.Reuse.maxIdle() < 0 || !s.reusable(pc) {
		quit(pc)
		return
	}
	pc.bc.bind(context.Background())
	s.pool.mu.Lock()
	if len(s.pool.idle) >= s.Reuse.maxIdle() {
		s.pool.mu.Unlock()
		quit(pc)
		return
	}
	pc.timer = time.AfterFunc(orDefault(s.Reuse.IdleTimeout, DefaultIdleTimeout), func() { s.expire(pc) })
	s.pool.idle = append(s.pool.idle, pc)
	s.pool.mu.Unlock()
}

// expire closes pc if it is still idle.
func (s *SMTP) expire(pc *pconn) {
	s.pool.mu.Lock()
	found := false
	for i, p := range s.pool.idle {
		if p == pc {
			s.pool.idle = append(s.pool.idle[:i], s.pool.idle[i+1:]...)
			found = true
			break
		}
	}
	s.pool.mu.Unlock()
	if found {
		quit(pc)
	}
}

// CloseIdle closes the idle connections (QUIT), at shutdown. In-flight
// transactions are not touched; the courier stays usable.
func (s *SMTP) CloseIdle() {
	s.pool.mu.Lock()
	idle := s.pool.idle
	s.pool.idle = nil
	for _, pc := range idle {
		pc.timer.Stop()
	}
	s.pool.mu.Unlock()
	var wg sync.WaitGroup
	for _, pc := range idle {
		wg.Go(func() { quit(pc) })
	}
	wg.Wait()
}

// Stats returns the connection counts so far.
func (s *SMTP) Stats() Stats {
	return Stats{Opened: s.pool.opened.Load(), Reused: s.pool.reused.Load()}
}

// quitTimeout bounds the QUIT that closes a connection nobody waits for.
const quitTimeout = 2 * time.Second

// quit says QUIT on pc within quitTimeout and closes it.
func quit(pc *pconn) {
	ctx, cancel := context.WithTimeout(context.Background(), quitTimeout)
	defer cancel()
	pc.bc.bind(ctx)
	_ = pc.c.Quit()
	pc.c.Close()
}
