package format

import (
	"errors"
	"fmt"
	"sync"
)

// ErrBudget is an expansion past the message's budget: the part that
// asked is removed (fail closed), the rest of the message goes on.
var ErrBudget = errors.New("the message's expansion budget is used up")

// Budget bounds everything one message may expand into, whatever holds
// it: decompressed archive members, decoded pixels, rendered pages, the
// bytes sanitizers write. Every expansion is taken from it before the work
// is done, so a small mail cannot cost gigabytes or minutes.
//
// A Budget is shared by every part of one message (archives and forwarded
// messages included) and is safe for concurrent use. The zero value and a
// nil *Budget allow everything (offline tools that set no budget).
type Budget struct {
	mu    sync.Mutex
	limit int64 // 0: unlimited
	used  int64
	// grow, when set, reserves n more bytes of the gateway's rebuild
	// memory before the expansion is allowed; its error (the gateway is
	// short of memory, or the message's deadline passed) aborts the
	// whole rebuild rather than removing the part: it is not the
	// sender's fault, so the client is told to retry.
	grow func(n int64) error
}

// NewBudget returns a budget of limit bytes (0: unlimited). grow may be
// nil; see Budget.
func NewBudget(limit int64, grow func(n int64) error) *Budget {
	return &Budget{limit: limit, grow: grow}
}

// Take reserves n bytes of expansion. It returns an error wrapping
// ErrBudget when the message's budget cannot hold them, or grow's error
// (wrapped in *GrowError) when the gateway could not back them.
func (b *Budget) Take(n int64) error {
	if b == nil || n <= 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limit > 0 && b.used+n > b.limit {
		return fmt.Errorf("%w (%d of %d bytes used, %d more asked)", ErrBudget, b.used, b.limit, n)
	}
	if b.grow != nil {
		if err := b.grow(n); err != nil {
			return &GrowError{Err: err}
		}
	}
	b.used += n
	return nil
}

// Used is the expansion taken so far.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Left is what may still be taken; -1 when unlimited.
func (b *Budget) Left() int64 {
	if b == nil || b.limit <= 0 {
		return -1
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limit - b.used
}

// GrowError is a Take that the gateway's memory could not back: the
// rebuild stops and the message is answered with a temporary failure.
type GrowError struct{ Err error }

func (e *GrowError) Error() string { return "rebuild memory: " + e.Err.Error() }
func (e *GrowError) Unwrap() error { return e.Err }
