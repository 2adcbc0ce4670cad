package delivery

import (
	"container/heap"
	"time"

	"mugai/gateway/queue"
)

// waitList holds the entries waiting for their next attempt: a min-heap
// ordered by the time of that attempt (ties by id, which for gateway ids
// is the order they were received, so the order does not depend on the
// order they were put in), and an index from id to heap position. Taking
// the earliest entry, adding one, removing or rescheduling one by id are
// O(log n); nothing scans the list per entry handed out.
//
// The heap keys on its own copy of the attempt time, kept in the heap's
// slots beside the pointer so that sifting reads contiguous memory (at
// 100,000 entries, chasing a pointer per comparison doubled the cost of a
// take), and so that an entry's NextAttempt changed behind its back cannot
// break the order. Not safe for concurrent use: the Runner holds its mu.
type waitList struct {
	slots []slot
	index map[string]*waiting
}

// slot is one heap position.
type slot struct {
	at time.Time // when it is due: e.NextAttempt when it was put in or rescheduled
	w  *waiting
}

// waiting is one entry in the list and where it is in the heap.
type waiting struct {
	e   *queue.Entry
	pos int // its index in slots
}

func newWaitList() *waitList { return &waitList{index: map[string]*waiting{}} }

// Len is the number of waiting entries (heap.Interface).
func (w *waitList) Len() int { return len(w.slots) }

// Less orders by due time, then by id (heap.Interface).
func (w *waitList) Less(i, j int) bool {
	a, b := &w.slots[i], &w.slots[j]
	if c := a.at.Compare(b.at); c != 0 {
		return c < 0
	}
	return a.w.e.ID < b.w.e.ID
}

// Swap swaps two entries and keeps their positions (heap.Interface).
func (w *waitList) Swap(i, j int) {
	w.slots[i], w.slots[j] = w.slots[j], w.slots[i]
	w.slots[i].w.pos, w.slots[j].w.pos = i, j
}

// Push and Pop are for container/heap only; use put, takeDue and remove.
// Push takes a *waiting (no allocation), due at its entry's NextAttempt.
func (w *waitList) Push(x any) {
	it := x.(*waiting)
	it.pos = len(w.slots)
	w.slots = append(w.slots, slot{at: it.e.NextAttempt, w: it})
}

func (w *waitList) Pop() any {
	n := len(w.slots) - 1
	s := w.slots[n]
	w.slots[n] = slot{}
	w.slots = w.slots[:n]
	s.w.pos = -1
	return s.w
}

// get returns the waiting entry id (nil when it is not waiting).
func (w *waitList) get(id string) *queue.Entry {
	if it := w.index[id]; it != nil {
		return it.e
	}
	return nil
}

// put adds e, due at e.NextAttempt; the caller checked that its id is
// not waiting already.
func (w *waitList) put(e *queue.Entry) {
	it := &waiting{e: e}
	w.index[e.ID] = it
	heap.Push(w, it)
}

// remove takes the entry id out; false when it was not waiting.
func (w *waitList) remove(id string) bool {
	it := w.index[id]
	if it == nil {
		return false
	}
	heap.Remove(w, it.pos)
	delete(w.index, id)
	return true
}

// takeDue removes and returns the earliest entry if it is due at now;
// otherwise it returns nil and when the earliest is due (zero when none
// waits).
func (w *waitList) takeDue(now time.Time) (*queue.Entry, time.Time) {
	if len(w.slots) == 0 {
		return nil, time.Time{}
	}
	if first := w.slots[0].at; first.After(now) {
		return nil, first
	}
	e := heap.Pop(w).(*waiting).e
	delete(w.index, e.ID)
	return e, time.Time{}
}

// dueAt makes the waiting entries ids due at t (their NextAttempt too);
// ids not waiting are skipped. Many at once (a flush) cost one O(n)
// rebuild of the heap, a few O(log n) each.
func (w *waitList) dueAt(ids []string, t time.Time) {
	rebuild := len(ids) > len(w.slots)/16
	for _, id := range ids {
		it := w.index[id]
		if it == nil {
			continue
		}
		w.slots[it.pos].at, it.e.NextAttempt = t, t
		if !rebuild {
			heap.Fix(w, it.pos)
		}
	}
	if rebuild {
		heap.Init(w)
	}
}

// each calls f for every waiting entry, in no particular order; f must
// not change the list.
func (w *waitList) each(f func(*queue.Entry)) {
	for _, s := range w.slots {
		f(s.w.e)
	}
}
