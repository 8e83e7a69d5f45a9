package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"atrium/internal/billing"
	"atrium/internal/mail/mailtest"
)

// clusterEnv is the configuration two instances share, as behind a load
// balancer: one database, one Redis, one APP_URL, the same secrets.
func clusterEnv(dsn, redisURL, appURL string, smtp *mailtest.Server) map[string]string {
	return map[string]string{
		"DATABASE_URL": dsn, "REDIS_URL": redisURL, "APP_URL": appURL,
		"SMTP_HOST": smtp.Host(), "SMTP_PORT": fmt.Sprint(smtp.Port()), "SMTP_TLS": "none",
		"SMTP_FROM":         "Atrium <no-reply@atrium.test>",
		"STRIPE_SECRET_KEY": "sk_test_multi", "STRIPE_WEBHOOK_SECRET": billingWebhookSecret,
		// Nothing listens there: these tests make no outbound Stripe call.
		"STRIPE_API_BASE": "http://127.0.0.1:9",
		"RATE_LIMIT_MAX":  "10", "TRUSTED_PROXIES": "127.0.0.1", "FREE_PLAN_SEATS": "100000",
		"RATE_LIMIT_STORE_FAILURE": "closed",
		// A killed instance's running jobs are taken up again 5 s after
		// they started (plus up to 30 s until River's rescuer next looks).
		"JOB_RESCUE_AFTER_SECONDS": "5", "JOB_POLL_INTERVAL_MS": "100",
		// The outgoing webhooks' receiver is this test, on 127.0.0.1.
		"WEBHOOK_ALLOW_PRIVATE": "true",
	}
}

// with returns a copy of env with more variables.
func with(env map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(env)+len(kv)/2)
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// randomIPv6 returns an address in a random /64 of 2001:db8::/32, the
// documentation prefix: a client of its own for the rate limiter.
func randomIPv6() string {
	h := randomSuffix()
	return "2001:db8:" + h[:4] + ":" + h[4:] + "::1"
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// signIn asks base for a sign-in link for email, and signs c in with it on
// base.
func signIn(t *testing.T, c *httpClient, base string, smtp *mailtest.Server, email string) {
	t.Helper()
	if res := c.Post(base, "/login", url.Values{"email": {email}}); res.Status != http.StatusSeeOther {
		t.Fatalf("POST /login on %s: status %d, want 303\n%s", base, res.Status, res.Body)
	}
	msg := smtp.WaitForMessage(t, email, 15*time.Second)
	links := msg.Links()
	if len(links) == 0 {
		t.Fatalf("sign-in email has no link:\n%s", msg.Text)
	}
	u, err := url.Parse(links[0])
	if err != nil {
		t.Fatal(err)
	}
	res := c.Post(base, "/auth/verify", url.Values{"token": {u.Query().Get("token")}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("POST /auth/verify on %s: status %d, want 303\n%s", base, res.Status, res.Body)
	}
}

// signedIn reports whether c's session works on base.
func signedIn(t *testing.T, c *httpClient, base string) bool {
	t.Helper()
	return c.Get(base, "/settings/account").Status == http.StatusOK
}

// TestMultiInstance runs two "atrium serve" processes on one PostgreSQL
// schema and one Redis, with a real SMTP server, and checks what a team
// behind a load balancer relies on.
func TestMultiInstance(t *testing.T) {
	_, redisURL := clusterServices(t)
	bin := buildAtrium(t)
	dsn := clusterSchema(t)
	smtp := mailtest.NewServer(t)
	admin := openAdmin(t, dsn)

	// Both instances start together on the empty schema.
	appURL := "http://127.0.0.1:" + fmt.Sprint(freePort(t))
	env := clusterEnv(dsn, redisURL, appURL, smtp)
	a := launchInstance(t, bin, "A", with(env, "DATABASE_URL", withParam(t, dsn, "application_name", "atrium_multi_a")))
	b := launchInstance(t, bin, "B", with(env, "DATABASE_URL", withParam(t, dsn, "application_name", "atrium_multi_b")))
	for _, inst := range []*instance{a, b} {
		if err := inst.waitHealthy(30 * time.Second); err != nil {
			t.Fatalf("%s: %v\n%s", inst.Name, err, inst.Out)
		}
	}

	t.Run("MigratedOnce", func(t *testing.T) {
		_, count := embeddedMigrations(t)
		if got := len(a.logs("migration applied")) + len(b.logs("migration applied")); got != count {
			t.Errorf("the instances applied %d migrations between them, want %d (each once)", got, count)
		}
		var dup int
		if err := admin.QueryRow(`SELECT COUNT(*) FROM (SELECT version_id FROM goose_db_version
			GROUP BY version_id HAVING COUNT(*) > 1) d`).Scan(&dup); err != nil {
			t.Fatal(err)
		}
		if dup != 0 {
			t.Errorf("%d migration versions are recorded more than once", dup)
		}
		for _, inst := range []*instance{a, b} {
			if st, body := readyz(t, inst.URL); st != http.StatusOK {
				t.Errorf("%s /readyz: %d %v, want 200", inst.Name, st, body)
			}
		}
	})

	t.Run("SessionsShared", func(t *testing.T) {
		email := "shared-" + randomSuffix() + "@example.com"
		laptop, phone := newHTTPClient(t), newHTTPClient(t)
		signIn(t, laptop, a.URL, smtp, email)
		if !signedIn(t, laptop, b.URL) {
			t.Fatal("a session made on A does not work on B")
		}
		signIn(t, phone, b.URL, smtp, email)
		if res := phone.Post(a.URL, "/settings/account/sessions/revoke-others", url.Values{"confirm": {"yes"}}); res.Status != http.StatusSeeOther {
			t.Fatalf("sign out everywhere else on A: status %d, want 303", res.Status)
		}
		if signedIn(t, laptop, b.URL) {
			t.Fatal("after signing out everywhere on A, the other session still works on B")
		}
		if !signedIn(t, phone, b.URL) {
			t.Fatal("the session that signed the others out stopped working on B")
		}
	})

	t.Run("RateLimitShared", func(t *testing.T) {
		c := newHTTPClient(t)
		c.xff = randomIPv6()
		for i := 1; i <= 10; i++ {
			base := []string{a.URL, b.URL}[i%2]
			if res := c.Post(base, "/logout", nil); res.Status != http.StatusSeeOther {
				t.Fatalf("POST %d: status %d, want 303", i, res.Status)
			}
		}
		for _, inst := range []*instance{a, b} {
			if res := c.Post(inst.URL, "/logout", nil); res.Status != http.StatusTooManyRequests {
				t.Fatalf("POST 11 on %s: status %d, want 429: the budget is not shared", inst.Name, res.Status)
			}
		}
	})

	owner := newHTTPClient(t)
	ownerEmail := "owner-" + randomSuffix() + "@example.com"
	signIn(t, owner, a.URL, smtp, ownerEmail)

	t.Run("WebhookAppliedOnce", func(t *testing.T) {
		for i := range 3 {
			slug := fmt.Sprintf("paid-%d-%s", i, randomSuffix())
			owner.xff = randomIPv6()
			if res := owner.Post(a.URL, "/workspaces", url.Values{"name": {"Paid " + slug}, "slug": {slug}}); res.Status != http.StatusSeeOther {
				t.Fatalf("create workspace: status %d\n%s", res.Status, res.Body)
			}
			var wsID int64
			if err := admin.QueryRow("SELECT id FROM workspaces WHERE slug = $1", slug).Scan(&wsID); err != nil {
				t.Fatal(err)
			}
			ev := checkoutCompleted("evt_multi_"+slug, time.Now().Add(-time.Minute), wsID, "cus_"+slug, "sub_"+slug)
			var wg sync.WaitGroup
			start := make(chan struct{})
			results := make([]string, 2)
			for j, inst := range []*instance{a, b} {
				wg.Go(func() {
					<-start
					status, result := deliverStripeEvent(t, inst.URL, ev)
					results[j] = fmt.Sprintf("%d %s", status, result)
				})
			}
			close(start)
			wg.Wait()
			slices.Sort(results)
			if want := []string{"200 " + "applied", "200 " + "duplicate"}; !slices.Equal(results, want) {
				t.Fatalf("the same event posted to A and B at once: %v, want %v", results, want)
			}
			var audits, events int
			if err := admin.QueryRow("SELECT COUNT(*) FROM audit_logs WHERE workspace_id = $1 AND action = $2",
				wsID, billing.ActionCheckoutCompleted).Scan(&audits); err != nil {
				t.Fatal(err)
			}
			if err := admin.QueryRow("SELECT COUNT(*) FROM stripe_events WHERE id = $1", ev.ID).Scan(&events); err != nil {
				t.Fatal(err)
			}
			var sub string
			if err := admin.QueryRow("SELECT stripe_subscription_id FROM workspaces WHERE id = $1", wsID).Scan(&sub); err != nil {
				t.Fatal(err)
			}
			if audits != 1 || events != 1 || sub != "sub_"+slug {
				t.Fatalf("after the double delivery: %d audit rows, %d stored events, subscription %q; want 1, 1, %q",
					audits, events, sub, "sub_"+slug)
			}
		}
	})

	t.Run("OutboxExactlyOnceThroughKill", func(t *testing.T) {
		slug := "mail-" + randomSuffix()
		owner.xff = randomIPv6()
		if res := owner.Post(a.URL, "/workspaces", url.Values{"name": {"Mail " + slug}, "slug": {slug}}); res.Status != http.StatusSeeOther {
			t.Fatalf("create workspace: status %d\n%s", res.Status, res.Body)
		}
		run := randomSuffix()
		var recipients []string
		queue := func(insts []*instance, from, to int) {
			t.Helper()
			var wg sync.WaitGroup
			var failed atomic.Int64
			jobs := make(chan int)
			for range 6 {
				wg.Go(func() {
					for i := range jobs {
						base := insts[i%len(insts)].URL
						email := fmt.Sprintf("m%d-%s@example.com", i, run)
						var res *response
						var err error
						if i%5 == 0 { // every fifth is an invite, the rest sign-ins
							oc := *owner
							oc.xff = randomIPv6()
							res, err = oc.do(http.MethodPost, base, "/w/"+slug+"/invites", url.Values{"email": {email}, "role": {"member"}})
						} else {
							c := newHTTPClient(t)
							c.xff = randomIPv6()
							res, err = c.do(http.MethodPost, base, "/login", url.Values{"email": {email}})
						}
						if err != nil || res.Status != http.StatusSeeOther {
							failed.Add(1)
							t.Errorf("queue email %d on %s: %v %v", i, base, err, res)
						}
					}
				})
			}
			for i := from; i < to; i++ {
				recipients = append(recipients, fmt.Sprintf("m%d-%s@example.com", i, run))
				jobs <- i
			}
			close(jobs)
			wg.Wait()
			if failed.Load() > 0 {
				t.FailNow()
			}
		}
		queue([]*instance{a, b}, 0, 250)

		// Kill A while the outbox drains, then start it again.
		var pending int
		if err := admin.QueryRow("SELECT COUNT(*) FROM mail_outbox WHERE status = 'pending'").Scan(&pending); err != nil {
			t.Fatal(err)
		}
		sentByA := len(a.logs("email sent"))
		a.Kill()
		t.Logf("SIGKILL to A with %d emails pending; A had sent %d", pending, sentByA)
		if sentByA == 0 {
			t.Errorf("A sent no email before it was killed: the kill did not interrupt a drain")
		}
		a2 := startInstance(t, bin, "A2", with(env, "DATABASE_URL", withParam(t, dsn, "application_name", "atrium_multi_a")))
		queue([]*instance{a2, b}, 250, 500)

		// counts returns, per recipient, the copies received and the
		// distinct Message-IDs among them.
		ids := map[string]map[string]bool{}
		counts := func() map[string]int {
			got := map[string]int{}
			clear(ids)
			for _, m := range smtp.Messages() {
				for _, rcpt := range m.To {
					if strings.HasSuffix(rcpt, "-"+run+"@example.com") {
						got[rcpt]++
						if ids[rcpt] == nil {
							ids[rcpt] = map[string]bool{}
						}
						ids[rcpt][m.Header.Get("Message-Id")] = true
					}
				}
			}
			return got
		}
		// A job running on A when it was killed is rescued within 35 s and
		// retried 30 s later, as a failed send would be.
		deadline := time.Now().Add(100 * time.Second)
		for len(counts()) < len(recipients) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		got := counts()
		var missing []string
		dups := 0
		for _, r := range recipients {
			switch n := got[r]; {
			case n == 0:
				missing = append(missing, r)
			case n > 1:
				dups += n - 1
				t.Logf("%s received %d copies", r, n)
			}
			if len(ids[r]) > 1 {
				t.Errorf("%s received %d different emails (Message-IDs %v), want one", r, len(ids[r]), ids[r])
			}
		}
		if len(missing) > 0 {
			t.Fatalf("%d of %d emails were never delivered, e.g. %v", len(missing), len(recipients), missing[:min(3, len(missing))])
		}
		// A message whose SMTP transaction completed in the instant before
		// SIGKILL, before its row was marked sent, is the only one that can
		// go out twice: at most one per kill, with the same Message-ID (the
		// mailbox shows it once).
		if dups > 1 {
			t.Fatalf("%d duplicate deliveries, want at most 1 (the message in flight at the kill)", dups)
		}
		// Every row ends marked sent. The last delivery's mark may still be
		// on its way, and a job A was running when it was killed waits to
		// be rescued before another instance runs it: poll.
		var left int
		for {
			if err := admin.QueryRow("SELECT COUNT(*) FROM mail_outbox WHERE status <> 'sent'").Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left == 0 || time.Now().After(deadline.Add(20*time.Second)) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if left != 0 {
			t.Fatalf("%d outbox rows are not marked sent", left)
		}
		t.Logf("%d emails delivered, %d duplicates", len(recipients), dups)

		t.Run("HousekeepingOnOneInstance", func(t *testing.T) {
			// Housekeeping is unique per clock hour: once, or twice when
			// the test ran across the turn of an hour, never once per
			// instance.
			ran := len(a.logs("housekeeping ran")) + len(b.logs("housekeeping ran")) + len(a2.logs("housekeeping ran"))
			var jobs, hours int
			if err := admin.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT date_trunc('hour', created_at))
				FROM river_job WHERE kind = 'housekeeping'`).Scan(&jobs, &hours); err != nil {
				t.Fatal(err)
			}
			if ran != hours || jobs != hours || hours < 1 || hours > 2 {
				t.Errorf("housekeeping ran %d times across A, B and A restarted, from %d jobs in %d clock hours; want once an hour",
					ran, jobs, hours)
			}
		})
	})

	// Outgoing webhooks through a kill: two instances work the webhooks
	// queue; one is killed while deliveries are in flight and started
	// again. Every event reaches the receiver; the only copies are
	// attempts the kill cut off after the receiver had them, and they
	// carry the event's webhook-id.
	t.Run("WebhooksThroughKill", func(t *testing.T) {
		c := startInstance(t, bin, "C", with(env, "DATABASE_URL", withParam(t, dsn, "application_name", "atrium_multi_c")))
		var (
			mu  sync.Mutex
			got = map[string]int{}
		)
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got[r.Header.Get("webhook-id")]++
			mu.Unlock()
			time.Sleep(50 * time.Millisecond) // a receiver that takes its time
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(rc.Close)
		received := func() (ids, copies int) {
			mu.Lock()
			defer mu.Unlock()
			for _, n := range got {
				ids++
				copies += n
			}
			return ids, copies
		}

		slug := "hooks-" + randomSuffix()
		oc := *owner
		oc.xff = randomIPv6()
		if res := oc.Post(b.URL, "/workspaces", url.Values{"name": {"Hooks " + slug}, "slug": {slug}}); res.Status != http.StatusSeeOther {
			t.Fatalf("create workspace: status %d\n%s", res.Status, res.Body)
		}
		oc.xff = randomIPv6()
		if res := oc.Post(b.URL, "/w/"+slug+"/settings/webhooks", url.Values{"url": {rc.URL + "/hook"},
			"event": {"workspace.renamed"}}); res.Status != http.StatusSeeOther {
			t.Fatalf("add the endpoint: status %d\n%s", res.Status, res.Body)
		}
		// C takes the renames; both work the queue. B is killed while
		// the renames still come and deliveries are in flight, then
		// started again.
		const events = 300
		killed := make(chan int)
		go func() {
			deadline := time.Now().Add(60 * time.Second)
			for ids, _ := received(); ids < 30 && time.Now().Before(deadline); ids, _ = received() {
				time.Sleep(10 * time.Millisecond)
			}
			ids, _ := received()
			b.Kill()
			killed <- ids
		}()
		var wg sync.WaitGroup
		next := make(chan int)
		for range 6 {
			wg.Go(func() {
				for i := range next {
					cl := *owner
					cl.xff = randomIPv6()
					if res, err := cl.do(http.MethodPost, c.URL, "/w/"+slug+"/settings",
						url.Values{"name": {fmt.Sprintf("Hooks %d", i)}, "slug": {slug}}); err != nil || res.Status != http.StatusSeeOther {
						t.Errorf("rename %d: %v %v", i, err, res)
					}
				}
			})
		}
		for i := range events {
			next <- i
		}
		close(next)
		wg.Wait()
		before := <-killed
		t.Logf("SIGKILL to B with %d of %d events received", before, events)
		if t.Failed() {
			t.FailNow()
		}
		if before == events {
			t.Errorf("every event was delivered before the kill: it interrupted nothing")
		}
		startInstance(t, bin, "B2", with(env, "DATABASE_URL", withParam(t, dsn, "application_name", "atrium_multi_b")))

		// An attempt B was making is rescued 5 s after it started, and
		// made again when its claim lapses.
		deadline := time.Now().Add(150 * time.Second)
		for ids, _ := received(); ids < events && time.Now().Before(deadline); ids, _ = received() {
			time.Sleep(100 * time.Millisecond)
		}
		ids, copies := received()
		if ids != events {
			t.Fatalf("the receiver got %d of %d events", ids, events)
		}
		// Each attempt cut off by the kill may arrive twice: at most one
		// per webhook worker of B.
		if dups := copies - ids; dups > 5*10 {
			t.Errorf("%d duplicate deliveries, want at most the %d B could have had in flight", dups, 5*10)
		} else {
			t.Logf("%d events delivered across the kill, %d arrived twice (same webhook-id)", ids, dups)
		}
		var rows, delivered int
		for {
			if err := admin.QueryRow(`SELECT COUNT(*), COUNT(*) FILTER (WHERE d.status = 'delivered')
				FROM webhook_deliveries d JOIN workspaces w ON w.id = d.workspace_id WHERE w.slug = $1`, slug).Scan(&rows, &delivered); err != nil {
				t.Fatal(err)
			}
			if delivered == events || time.Now().After(deadline.Add(20*time.Second)) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if rows != events || delivered != events {
			t.Errorf("%d delivery rows, %d delivered; want one per event (%d), each delivered", rows, delivered, events)
		}
	})
}
