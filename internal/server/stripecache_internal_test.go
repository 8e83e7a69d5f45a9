package server

import (
	"errors"
	"testing"
	"time"
)

// TestStripeCache: an answer is kept as long as keep says, a failure only
// when keep says so, and a clock gone back or an old entry reads as stale.
func TestStripeCache(t *testing.T) {
	t.Parallel()
	c := stripeCache[int]{keep: func(_ int, err error) time.Duration {
		if err != nil {
			return 0
		}
		return time.Minute
	}}
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	c.put("a", 1, nil, t0)
	if v, _, ok := c.get("a", t0.Add(59*time.Second)); !ok || v != 1 {
		t.Errorf("within the minute: %d, %v; want 1 kept", v, ok)
	}
	if _, _, ok := c.get("a", t0.Add(time.Minute)); ok {
		t.Error("kept past its minute")
	}
	if _, _, ok := c.get("a", t0.Add(-time.Second)); ok {
		t.Error("kept for a clock gone back")
	}
	c.put("b", 0, errors.New("stripe down"), t0)
	if _, _, ok := c.get("b", t0); ok {
		t.Error("a failure was kept although keep said 0")
	}
	c.put("c", 3, nil, t0.Add(2*time.Minute))
	if _, ok := c.entries["a"]; ok {
		t.Error("a stale entry stayed in the map after a put")
	}
}
