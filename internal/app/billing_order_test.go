package app_test

import (
	"testing"
	"time"

	"atrium/internal/app"
)

func TestOrderBillingUpdate(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	live := &app.BillingMark{At: t0, Rank: app.RankLive, EventID: "evt_m"}
	terminal := &app.BillingMark{At: t0, Rank: app.RankTerminal, EventID: "evt_m"}
	upd := func(status string, at time.Time) *app.BillingUpdate {
		return &app.BillingUpdate{Status: status, AsOf: at}
	}
	refreshed := upd(app.SubActive, t0)
	refreshed.Refreshed = true
	byID := upd(app.SubActive, t0)
	byID.TieByEventID = true
	for _, tc := range []struct {
		name    string
		upd     *app.BillingUpdate
		eventID string
		mark    *app.BillingMark
		want    int
	}{
		{"NothingApplied", upd(app.SubActive, t0), "evt_a", nil, app.OrderNewer},
		{"LaterSecond", upd(app.SubPastDue, t0.Add(time.Second)), "evt_a", terminal, app.OrderNewer},
		{"EarlierSecond", upd(app.SubCanceled, t0.Add(-time.Second)), "evt_z", live, app.OrderOlder},
		{"SubSecondIgnored", upd(app.SubActive, t0.Add(900*time.Millisecond)), "evt_a", terminal, app.OrderOlder},
		{"TerminalBeatsLive", upd(app.SubCanceled, t0), "evt_a", live, app.OrderNewer},
		{"IncompleteExpiredBeatsLive", upd(app.SubIncompleteExpired, t0), "evt_a", live, app.OrderNewer},
		{"LiveLosesToTerminal", upd(app.SubActive, t0), "evt_z", terminal, app.OrderOlder},
		{"NoStatusLosesToLive", upd("", t0), "evt_z", live, app.OrderOlder},
		{"TwoLiveTie", upd(app.SubPastDue, t0), "evt_z", live, app.OrderTie},
		{"RefreshedWinsTie", refreshed, "evt_a", live, app.OrderNewer},
		{"ByEventIDLarger", byID, "evt_z", live, app.OrderNewer},
		{"ByEventIDSmaller", byID, "evt_a", live, app.OrderOlder},
		{"TwoTerminalByEventID", upd(app.SubCanceled, t0), "evt_a", terminal, app.OrderOlder},
		{"SameEventAgain", upd(app.SubActive, t0), "evt_m", live, app.OrderNewer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := app.OrderBillingUpdate(tc.upd, tc.eventID, tc.mark); got != tc.want {
				t.Errorf("OrderBillingUpdate=%d, want %d", got, tc.want)
			}
		})
	}
}
