package app_test

import (
	"testing"
	"time"

	"atrium/internal/app"
)

func TestNextDunning(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	open := app.DunningState{FailedAt: t0, InvoiceURL: "https://invoice.stripe.com/i/1"}
	restricted := app.DunningState{FailedAt: t0, InvoiceURL: "https://invoice.stripe.com/i/1", RestrictedAt: t0.Add(7 * 24 * time.Hour)}
	failedMark := &app.DunningMark{At: t0, Rank: app.DunningRankFailed, EventID: "evt_5"}
	paidMark := &app.DunningMark{At: t0, Rank: app.DunningRankPaid, EventID: "evt_5"}
	failed := app.PaymentUpdate{Failed: true, SubscriptionID: "sub_1", InvoiceURL: "https://invoice.stripe.com/i/2"}
	paid := app.PaymentUpdate{SubscriptionID: "sub_1"}
	for _, tc := range []struct {
		name    string
		st      app.DunningState
		mark    *app.DunningMark
		p       app.PaymentUpdate
		at      time.Time
		eventID string
		want    app.DunningState
		step    string
	}{
		{"FirstFailureOpens", app.DunningState{}, nil, failed, t0, "evt_1",
			app.DunningState{FailedAt: t0, InvoiceURL: failed.InvoiceURL}, app.DunningOpened},
		{"LaterFailureKeepsStart", open, failedMark, failed, t0.Add(time.Hour), "evt_6",
			app.DunningState{FailedAt: t0, InvoiceURL: failed.InvoiceURL}, app.DunningFailed},
		{"PaymentCloses", open, failedMark, paid, t0.Add(time.Hour), "evt_6", app.DunningState{}, app.DunningRecovered},
		{"PaymentLiftsRestriction", restricted, failedMark, paid, t0.Add(time.Hour), "evt_6", app.DunningState{}, app.DunningRecovered},
		{"PaymentWithoutEpisode", app.DunningState{}, nil, paid, t0, "evt_1", app.DunningState{}, app.DunningPaid},
		{"FailureOlderThanPaymentIsStale", app.DunningState{}, paidMark, failed, t0.Add(-time.Second), "evt_9", app.DunningState{}, app.DunningStale},
		{"PaymentOlderThanFailureIsStale", open, failedMark, paid, t0.Add(-time.Second), "evt_9", open, app.DunningStale},
		{"SameSecondPaymentBeatsFailure", open, failedMark, paid, t0, "evt_1", app.DunningState{}, app.DunningRecovered},
		{"SameSecondFailureLosesToPayment", app.DunningState{}, paidMark, failed, t0, "evt_9", app.DunningState{}, app.DunningStale},
		{"SameSecondFailuresByEventID", open, failedMark, failed, t0, "evt_4", open, app.DunningStale},
		{"ReplayOfAppliedFailure", open, failedMark, app.PaymentUpdate{Failed: true, SubscriptionID: "sub_1"}, t0, "evt_5", open, app.DunningFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, mark, step := app.NextDunning(tc.st, tc.mark, tc.p, tc.at, tc.eventID)
			if step != tc.step {
				t.Errorf("step = %q, want %q", step, tc.step)
			}
			if got != tc.want {
				t.Errorf("state = %+v, want %+v", got, tc.want)
			}
			if step != app.DunningStale && (mark.EventID != tc.eventID || !mark.At.Equal(tc.at)) {
				t.Errorf("mark = %+v, want the event's", mark)
			}
		})
	}
}

func TestHostedInvoiceURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://invoice.stripe.com/i/acct_1/x": "https://invoice.stripe.com/i/acct_1/x",
		"http://invoice.stripe.com/i/acct_1/x":  "",
		"javascript:alert(1)":                   "",
		"https://user@evil.example/x":           "",
		"":                                      "",
	} {
		if got := app.HostedInvoiceURL(in); got != want {
			t.Errorf("HostedInvoiceURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCatalog_TrialDaysFor(t *testing.T) {
	t.Parallel()
	c := &app.Catalog{TrialDays: 14}
	for _, tc := range []struct {
		name string
		ws   app.Workspace
		want int
	}{
		{"New", app.Workspace{}, 14},
		{"HadSubscription", app.Workspace{StripeSubscriptionID: "sub_1", SubscriptionStatus: app.SubCanceled}, 0},
		{"HadTrial", app.Workspace{TrialEnd: time.Unix(1, 0)}, 0},
	} {
		if got := c.TrialDaysFor(&tc.ws); got != tc.want {
			t.Errorf("%s: TrialDaysFor = %d, want %d", tc.name, got, tc.want)
		}
	}
	if got := (&app.Catalog{}).TrialDaysFor(&app.Workspace{}); got != 0 {
		t.Errorf("no trial configured: TrialDaysFor = %d, want 0", got)
	}
}

func TestPlanLimits_Restricted(t *testing.T) {
	t.Parallel()
	ws := &app.Workspace{Plan: app.PlanPro, SubscriptionStatus: app.SubPastDue, RestrictedAt: time.Unix(1, 0)}
	l := app.PlanLimits{FreeSeats: 3}
	if err := l.CheckSeats(ws, 0); err != app.ErrRestricted {
		t.Errorf("CheckSeats = %v, want ErrRestricted", err)
	}
	if err := l.CheckJoin(ws, 0); err != app.ErrRestricted {
		t.Errorf("CheckJoin = %v, want ErrRestricted", err)
	}
	ws.RestrictedAt = time.Time{}
	if err := l.CheckSeats(ws, 0); err != nil {
		t.Errorf("unrestricted CheckSeats = %v", err)
	}
}
