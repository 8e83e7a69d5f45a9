package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestProgressBar draws in place on a terminal and prints a line per tenth
// elsewhere.
func TestProgressBar(t *testing.T) {
	t.Parallel()
	t.Run("Terminal", func(t *testing.T) {
		var out bytes.Buffer
		p := newProgressBar(&out, true, time.Now())
		for done := int64(0); done <= 1000; done += 250 {
			p.update(done, 1000)
		}
		p.finish()
		s := out.String()
		if got, want := strings.Count(s, "\r"), 5; got != want {
			t.Errorf("redrawn %d times, want %d:\n%q", got, want, s)
		}
		if !strings.Contains(s, "\r  ["+strings.Repeat("#", 20)+strings.Repeat("-", 20)+"]  50%  500/1000 rows") ||
			!strings.HasSuffix(s, "\n") || strings.Count(s, "\n") != 1 {
			t.Errorf("bar output:\n%q", s)
		}
	})
	t.Run("Plain", func(t *testing.T) {
		var out bytes.Buffer
		p := newProgressBar(&out, false, time.Now())
		for done := int64(0); done <= 1000; done += 50 {
			p.update(done, 1000)
		}
		p.finish()
		s := out.String()
		if strings.Contains(s, "\r") || strings.Count(s, "\n") != 11 || !strings.Contains(s, "100%  1000/1000 rows") {
			t.Errorf("plain progress, want 11 lines (0%%..100%%):\n%s", s)
		}
	})
}
