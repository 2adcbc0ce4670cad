package delivery

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"mugai/gateway/queue"
)

// TestWaitListOrder: random puts, removes, reschedules (one at a time and
// a flush of many) and takes against a plain map: every take returns the
// entry a full scan would pick (earliest due, then lowest id), and the
// index always points at the right heap slot.
func TestWaitListOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := newWaitList()
	model := map[string]time.Time{}
	at := func() time.Time { return base.Add(time.Duration(rng.IntN(50)) * time.Second) } // many ties
	ids := func() []string {
		var out []string
		for id := range model {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	for step := range 20_000 {
		switch op := rng.IntN(10); {
		case op < 4: // put
			id := fmt.Sprintf("id-%04d", rng.IntN(2000))
			if _, ok := model[id]; ok {
				continue
			}
			e := &queue.Entry{ID: id, NextAttempt: at()}
			w.put(e)
			model[id] = e.NextAttempt
		case op < 5: // remove
			id := fmt.Sprintf("id-%04d", rng.IntN(2000))
			_, ok := model[id]
			if got := w.remove(id); got != ok {
				t.Fatalf("step %d: remove(%s) = %v, want %v", step, id, got, ok)
			}
			delete(model, id)
		case op < 6: // reschedule some, or (rarely) flush all
			all := ids()
			if rng.IntN(20) > 0 && len(all) > 0 {
				all = all[rng.IntN(len(all)):][:1]
			}
			t0 := at()
			w.dueAt(append(all, "id-absent"), t0)
			for _, id := range all {
				model[id] = t0
			}
		default: // take what is due at a random time
			now := at()
			want, wantNext := "", time.Time{}
			for _, id := range ids() {
				switch d := model[id]; {
				case !d.After(now) && (want == "" || d.Before(model[want])):
					want = id
				case d.After(now) && (wantNext.IsZero() || d.Before(wantNext)):
					wantNext = d
				}
			}
			e, next := w.takeDue(now)
			switch {
			case want == "" && e != nil:
				t.Fatalf("step %d: took %s, nothing due", step, e.ID)
			case want != "" && (e == nil || e.ID != want):
				t.Fatalf("step %d: took %v, want %s", step, e, want)
			case want == "" && !next.Equal(wantNext):
				t.Fatalf("step %d: next %v, want %v", step, next, wantNext)
			}
			if e != nil {
				if !e.NextAttempt.Equal(model[want]) {
					t.Fatalf("step %d: %s NextAttempt %v, want %v", step, want, e.NextAttempt, model[want])
				}
				delete(model, want)
			}
		}
		if w.Len() != len(model) || len(w.index) != len(model) {
			t.Fatalf("step %d: %d in heap, %d indexed, want %d", step, w.Len(), len(w.index), len(model))
		}
		for i, s := range w.slots {
			if s.w.pos != i || w.index[s.w.e.ID] != s.w {
				t.Fatalf("step %d: %s at %d says %d", step, s.w.e.ID, i, s.w.pos)
			}
		}
	}
}
