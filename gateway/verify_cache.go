package gateway

import (
	"container/list"
	"time"
)

// verifyCache remembers what the next hop said of addresses until each
// answer expires, holding at most max of them: past it the least
// recently used goes. It is not safe for concurrent use (the verifier
// holds its lock around it).
type verifyCache struct {
	max int
	ll  *list.List // of *cacheEntry, most recently used first
	m   map[string]*list.Element
}

type cacheEntry struct {
	key     string
	res     verifyResult
	expires time.Time
}

func newVerifyCache(max int) *verifyCache {
	return &verifyCache{max: max, ll: list.New(), m: map[string]*list.Element{}}
}

// get returns the answer for key while it has not expired at now.
func (c *verifyCache) get(key string, now time.Time) (verifyResult, bool) {
	el, ok := c.m[key]
	if !ok {
		return verifyResult{}, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.ll.Remove(el)
		delete(c.m, key)
		return verifyResult{}, false
	}
	c.ll.MoveToFront(el)
	return e.res, true
}

// put remembers res for key until expires.
func (c *verifyCache) put(key string, res verifyResult, expires time.Time) {
	if el, ok := c.m[key]; ok {
		e := el.Value.(*cacheEntry)
		e.res, e.expires = res, expires
		c.ll.MoveToFront(el)
		return
	}
	c.m[key] = c.ll.PushFront(&cacheEntry{key: key, res: res, expires: expires})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.m, old.Value.(*cacheEntry).key)
	}
}

// len returns how many answers are held (expired ones included until
// they are looked up or pushed out).
func (c *verifyCache) len() int { return c.ll.Len() }
