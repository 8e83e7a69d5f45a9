package server

import (
	"testing"
	"time"
)

// TestRelativeTime: the activity feed says how long ago, in words.
func TestRelativeTime(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		ago  time.Duration
		want string
	}{
		{10 * time.Second, "just now"},
		{time.Minute, "1 minute ago"},
		{5 * time.Minute, "5 minutes ago"},
		{2 * time.Hour, "2 hours ago"},
		{30 * time.Hour, "yesterday"},
		{3 * 24 * time.Hour, "3 days ago"},
		{60 * 24 * time.Hour, "30 Sep 2026"},
	} {
		if got := relativeTime(now, now.Add(-c.ago)); got != c.want {
			t.Errorf("relativeTime(%s ago) = %q, want %q", c.ago, got, c.want)
		}
	}
}
