package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"atrium/internal/billing/billingtest"
	"atrium/internal/mail/mailtest"
)

// TestSeatSyncThroughKill: a member joins a workspace on a per-seat
// subscription and the instance dies (SIGKILL) before its sync_seats job
// ran; the job was committed with the membership, so after a restart it
// runs and Stripe gets exactly one quantity update, the member count.
func TestSeatSyncThroughKill(t *testing.T) {
	_, redisURL := clusterServices(t)
	bin := buildAtrium(t)
	dsn := clusterSchema(t)
	smtp := mailtest.NewServer(t)
	admin := openAdmin(t, dsn)
	rec := billingtest.NewRecorder(t, billingtest.StripeMock(t))
	env := with(clusterEnv(dsn, redisURL, "", smtp), "STRIPE_API_BASE", rec.URL)
	delete(env, "APP_URL") // each instance's own address

	a := startInstance(t, bin, "A", env)
	owner := newHTTPClient(t)
	signIn(t, owner, a.URL, smtp, "owner-seats@example.com")
	slug := "seats-" + randomSuffix()
	if res := owner.Post(a.URL, "/workspaces", url.Values{"name": {"Seats " + slug}, "slug": {slug}}); res.Status != http.StatusSeeOther {
		t.Fatalf("create workspace: status %d\n%s", res.Status, res.Body)
	}
	// The workspace pays for one seat of Pro (per seat), as a webhook
	// would have recorded.
	if _, err := admin.Exec(`UPDATE workspaces SET plan = 'pro', subscription_status = 'active',
		stripe_customer_id = 'cus_kill', stripe_subscription_id = 'sub_kill', seat_quantity = 1 WHERE slug = $1`, slug); err != nil {
		t.Fatal(err)
	}

	if res := owner.Post(a.URL, "/w/"+slug+"/invites", url.Values{"email": {"joiner@example.com"}, "role": {"member"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("invite: status %d\n%s", res.Status, res.Body)
	}
	msg := smtp.WaitForMessage(t, "joiner@example.com", 15*time.Second)
	link, err := url.Parse(msg.Links()[0])
	if err != nil {
		t.Fatal(err)
	}
	joiner := newHTTPClient(t)
	signIn(t, joiner, a.URL, smtp, "joiner@example.com")
	if res := joiner.Post(a.URL, link.Path+"/accept", url.Values{}); res.Status != http.StatusSeeOther {
		t.Fatalf("accept: status %d\n%s", res.Status, res.Body)
	}
	// The join committed with its job, scheduled a few seconds ahead: the
	// instance dies before it runs.
	a.Kill()
	var waiting int
	if err := admin.QueryRow(`SELECT COUNT(*) FROM river_job WHERE kind = 'sync_seats' AND state = 'scheduled'`).Scan(&waiting); err != nil {
		t.Fatal(err)
	}
	if waiting != 1 {
		t.Fatalf("%d sync_seats jobs waiting after the kill, want 1", waiting)
	}
	if n := len(rec.Keys("GET /v1/subscriptions/sub_kill")); n != 0 {
		t.Fatalf("Stripe was asked %d times before the kill, want none", n)
	}

	startInstance(t, bin, "A2", env)
	item := billingtest.SubscriptionItemID(t, rec.URL)
	route := "POST /v1/subscription_items/" + item
	deadline := time.Now().Add(60 * time.Second)
	var quantity int
	for time.Now().Before(deadline) {
		if err := admin.QueryRow(`SELECT seat_quantity FROM workspaces WHERE slug = $1`, slug).Scan(&quantity); err != nil {
			t.Fatal(err)
		}
		if quantity == 2 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if quantity != 2 {
		t.Fatalf("seat quantity %d a minute after the restart, want 2", quantity)
	}
	time.Sleep(2 * time.Second) // a second update would come now
	sent := rec.Sent(route)
	if len(sent) != 1 || sent[0].Get("quantity") != "2" {
		t.Fatalf("quantity updates %v, want exactly one of 2", sent)
	}
	var audited int
	if err := admin.QueryRow(`SELECT COUNT(*) FROM audit_logs a JOIN workspaces w ON w.id = a.workspace_id
		WHERE w.slug = $1 AND a.action = 'billing.seats_synced'`, slug).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if audited != 1 {
		t.Errorf("%d billing.seats_synced entries, want 1", audited)
	}
}
