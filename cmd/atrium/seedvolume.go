package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"atrium/internal/store"
	"atrium/internal/store/demo"
)

// seedVolume generates the data set v on top of the demo data, showing its
// progress on stdout.
func seedVolume(ctx context.Context, db *store.DB, v demo.Volume, stdout io.Writer) error {
	fmt.Fprintf(stdout, "Generating the %s data set (version %d): %d users with sessions, %d workspaces, %d audit entries, %d invites, %d Stripe events.\n",
		v.Name, demo.VolumeVersion, v.Users, v.Workspaces, v.Audit, v.Invites, v.StripeEvents)
	start := time.Now()
	bar := newProgressBar(stdout, isTerminal(stdout), start)
	created, err := demo.SeedVolume(ctx, db, v, bar.update)
	bar.finish()
	if err != nil {
		return err
	}
	if !created {
		fmt.Fprintf(stdout, "Nothing to do: workspace %q exists (from an earlier --volume run, or made by hand); existing rows are never changed.\n", demo.BigSlug)
		return nil
	}
	fmt.Fprintf(stdout, "Generated the %s data set in %s. Workspace %q (%d members) is owned by %s.\n",
		v.Name, time.Since(start).Round(100*time.Millisecond), demo.BigSlug, v.BigMembers, store.DemoOwnerEmail)
	return nil
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressBar shows done/total: a bar redrawn in place on a terminal, or a
// line at every tenth otherwise (logs, pipes).
type progressBar struct {
	w      io.Writer
	tty    bool
	start  time.Time
	shown  int // tenths printed (plain) or last percent drawn (terminal)
	drawn  bool
	lastAt time.Time
}

func newProgressBar(w io.Writer, tty bool, start time.Time) *progressBar {
	return &progressBar{w: w, tty: tty, start: start, shown: -1}
}

func (p *progressBar) update(done, total int64) {
	if total <= 0 {
		return
	}
	pct := int(done * 100 / total)
	elapsed := time.Since(p.start).Round(time.Second)
	if !p.tty {
		if tenth := pct / 10; tenth > p.shown {
			p.shown = tenth
			fmt.Fprintf(p.w, "  %3d%%  %d/%d rows  %s\n", tenth*10, done, total, elapsed)
		}
		return
	}
	if pct == p.shown && time.Since(p.lastAt) < 200*time.Millisecond {
		return
	}
	p.shown, p.lastAt, p.drawn = pct, time.Now(), true
	const width = 40
	fill := int(done * width / total)
	fmt.Fprintf(p.w, "\r  [%s%s] %3d%%  %d/%d rows  %s ", strings.Repeat("#", fill), strings.Repeat("-", width-fill),
		pct, done, total, elapsed)
}

// finish ends the bar's line on a terminal.
func (p *progressBar) finish() {
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
	}
}
