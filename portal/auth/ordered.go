package auth

import "container/list"

// Default caps on entries: a flood of keys (client addresses, user
// names) evicts the oldest entries instead of growing memory.
const (
	defaultKeyCap     = 100_000
	defaultSessionCap = 10_000
)

// ordered is a map whose entries are kept in the order they were last
// touched (the front is the newest), so that expired entries are swept
// from the back and, over a cap, the oldest are evicted first. Its
// callers lock around it.
type ordered[V any] struct {
	byKey map[string]*list.Element
	order list.List // of *entry[V]
}

type entry[V any] struct {
	key string
	val V
}

func newOrdered[V any]() *ordered[V] {
	return &ordered[V]{byKey: map[string]*list.Element{}}
}

func (o *ordered[V]) len() int { return len(o.byKey) }

// get returns key's value to read or change in place, or nil.
func (o *ordered[V]) get(key string) *V {
	if e, ok := o.byKey[key]; ok {
		return &e.Value.(*entry[V]).val
	}
	return nil
}

// put sets key's value and makes it the newest.
func (o *ordered[V]) put(key string, v V) {
	if e, ok := o.byKey[key]; ok {
		e.Value.(*entry[V]).val = v
		o.order.MoveToFront(e)
		return
	}
	o.byKey[key] = o.order.PushFront(&entry[V]{key, v})
}

// touch makes key the newest.
func (o *ordered[V]) touch(key string) {
	if e, ok := o.byKey[key]; ok {
		o.order.MoveToFront(e)
	}
}

func (o *ordered[V]) del(key string) {
	if e, ok := o.byKey[key]; ok {
		o.order.Remove(e)
		delete(o.byKey, key)
	}
}

// sweep removes entries from the oldest on while dead says they are.
func (o *ordered[V]) sweep(dead func(*V) bool) {
	for e := o.order.Back(); e != nil; e = o.order.Back() {
		it := e.Value.(*entry[V])
		if !dead(&it.val) {
			return
		}
		o.order.Remove(e)
		delete(o.byKey, it.key)
	}
}

// oldest returns the oldest entry's key.
func (o *ordered[V]) oldest() (string, bool) {
	if e := o.order.Back(); e != nil {
		return e.Value.(*entry[V]).key, true
	}
	return "", false
}

// evictOldest removes the oldest entry; false when there is none.
func (o *ordered[V]) evictOldest() bool {
	e := o.order.Back()
	if e == nil {
		return false
	}
	o.order.Remove(e)
	delete(o.byKey, e.Value.(*entry[V]).key)
	return true
}
