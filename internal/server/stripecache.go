package server

import (
	"sync"
	"time"
)

// stripeCache keeps answers read from Stripe for pages in this process's
// memory, by key, so reloads do not call Stripe each time. With several
// instances each keeps its own, which only means a few more Stripe calls.
// keep says how long an answer (or its failure) stays; 0 keeps nothing.
// The zero value with keep set is ready.
type stripeCache[V any] struct {
	keep    func(v V, err error) time.Duration
	mu      sync.Mutex
	entries map[string]stripeCacheEntry[V]
}

type stripeCacheEntry[V any] struct {
	at, until time.Time
	v         V
	err       error
}

// get returns what is kept for key at now, if it is still fresh (a clock
// gone back counts as stale).
func (c *stripeCache[V]) get(key string, now time.Time) (V, error, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !now.Before(e.until) || now.Before(e.at) {
		var zero V
		return zero, nil, false
	}
	return e.v, e.err, true
}

// put keeps v (or err) for key from now on, as long as keep says, and
// drops the entries gone stale so the map holds only recent keys.
func (c *stripeCache[V]) put(key string, v V, err error, now time.Time) {
	ttl := c.keep(v, err)
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if !now.Before(e.until) {
			delete(c.entries, k)
		}
	}
	if ttl <= 0 {
		return
	}
	if c.entries == nil {
		c.entries = map[string]stripeCacheEntry[V]{}
	}
	c.entries[key] = stripeCacheEntry[V]{at: now, until: now.Add(ttl), v: v, err: err}
}
