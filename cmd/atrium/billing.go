package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/config"
	"atrium/internal/wire"
)

// runBilling handles "atrium billing sync --workspace SLUG" and
// "atrium billing replay EVENT_ID", the runbook's out-of-sync repairs, and
// "atrium billing restrict", the periodic dunning check on demand.
func runBilling(ctx context.Context, args []string, env config.Env, stdout, stderr io.Writer) error {
	fs := newFlagSet("billing", "billing sync --workspace SLUG | billing replay EVENT_ID | billing restrict\n\n"+
		"  sync    re-read the workspace's subscription from Stripe and repair the local state\n"+
		"  replay  apply a stored webhook event again (it never rolls back newer state)\n"+
		"  restrict  restrict the workspaces whose failed payment outlived the grace period now", stderr)
	slug := fs.String("workspace", "", "the `slug` of the workspace to sync")
	action, err := parseAction(fs, args, "an action: sync, replay or restrict")
	if err != nil {
		return err
	}
	switch {
	case action == "sync" && (*slug == "" || fs.NArg() > 0):
		return usagef("billing sync needs --workspace SLUG and no other arguments")
	case action == "replay" && fs.NArg() != 1:
		return usagef("billing replay needs one event id (evt_...)")
	case action == "restrict" && (*slug != "" || fs.NArg() > 0):
		return usagef("billing restrict takes no arguments")
	case action != "sync" && action != "replay" && action != "restrict":
		return usagef("billing: unknown action %q (want sync, replay or restrict)", action)
	}
	cfg, db, err := openConfigured(ctx, env, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := wire.NewBilling(cfg, db)

	if action == "restrict" {
		n, err := svc.RestrictOverdue(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Restricted %d workspace(s) whose payment is overdue past the %s grace period.\n", n, svc.Grace)
		return nil
	}
	stderrLog := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if action == "replay" {
		recv := &billing.Receiver{Store: svc, Plans: cfg.Plans}
		if client := wire.NewStripe(cfg, stderrLog); client != nil {
			recv.Stripe = client
		}
		return replayEvent(ctx, recv, fs.Arg(0), stdout)
	}
	if !cfg.BillingEnabled() {
		return fmt.Errorf("billing is off: set STRIPE_SECRET_KEY to sync with Stripe")
	}
	ws, err := svc.FindWorkspaceBySlug(ctx, *slug)
	if err != nil {
		return fmt.Errorf("%s", app.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "Workspace %q (%s): plan %s, status %q, customer %q, subscription %q\n",
		ws.Name, ws.Slug, ws.Plan, ws.SubscriptionStatus, ws.StripeCustomerID, ws.StripeSubscriptionID)
	res, err := billing.Sync(ctx, wire.NewStripe(cfg, stderrLog), svc, ws)
	if err != nil {
		return err
	}
	switch {
	case res.NoCustomer:
		fmt.Fprintln(stdout, "The workspace has no Stripe customer: nothing to sync (it has never started a Checkout).")
		return nil
	case res.NoSubscription:
		fmt.Fprintln(stdout, "Stripe has no subscription for this customer: the workspace goes back to the free plan.")
	}
	upd := res.Update
	fmt.Fprintf(stdout, "Synced: plan %s, status %q. The change is in the audit log as %s.\n",
		app.PlanFor(upd.Status, upd.Plan), upd.Status, app.ActionBillingSynced)
	if s := res.Seats.Sentence(); s != "" {
		fmt.Fprintln(stdout, s)
	}
	return nil
}

// replayEvent applies a stored event again through the webhook's
// pipeline (same order rules, same tie settling) and says what became of it.
func replayEvent(ctx context.Context, recv *billing.Receiver, id string, stdout io.Writer) error {
	rc, err := recv.Replay(ctx, strings.TrimSpace(id))
	if app.ErrorCode(err) == app.ENOTFOUND {
		return fmt.Errorf("%s Events are stored when the webhook receives them; resend it from the Stripe dashboard first", app.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	ev := rc.Event
	fmt.Fprintf(stdout, "Event %s (%s, received %s, was %s): %s.\n", ev.ID, ev.Type,
		ev.ReceivedAt.Format("2006-01-02 15:04:05 UTC"), ev.Status, rc.Result)
	switch rc.Result {
	case app.EventUnmatched:
		fmt.Fprintln(stdout, "No workspace matches its customer yet. Check the customer id in Stripe, then run 'atrium billing sync --workspace SLUG'.")
	case app.EventStale:
		fmt.Fprintln(stdout, "A newer update was already applied; nothing changed.")
	}
	return nil
}
