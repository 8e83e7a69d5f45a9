package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"atrium/internal/app"
	"atrium/internal/billing"
	"atrium/internal/billing/billingtest"
	"atrium/internal/i18n/i18ntest"
)

// assertTranslatedPart is assertTranslated for the parts of res that sel
// selects: the billing area's own content (main holds the page, the
// billing banner and the flash), not the header, the footer and the
// shared error and confirmation pages around it, whose words are other
// areas' catalogs.
func assertTranslatedPart(t testing.TB, res *response, sel string, allow ...string) {
	t.Helper()
	if got := res.Header.Get("Content-Language"); got != "en-XA" {
		t.Fatalf("%s: Content-Language=%q, want en-XA (ask with pseudo())", res.Request.URL.Path, got)
	}
	part := res.Doc.Find(sel)
	if part.Length() == 0 {
		t.Fatalf("%s: nothing matches %s\n%s", res.Request.URL, sel, res.Body)
	}
	var html strings.Builder
	for i := range part.Length() {
		h, err := goquery.OuterHtml(part.Eq(i))
		if err != nil {
			t.Fatal(err)
		}
		html.WriteString(h)
	}
	if left := i18ntest.Untranslated("<!DOCTYPE html><html><body>"+html.String()+"</body></html>", allow...); len(left) > 0 {
		t.Errorf("%s shows untranslated text:\n  %s", res.Request.URL, strings.Join(left, "\n  "))
	}
}

// TestI18n_Billing fetches every page of billing in the pseudo-locale and
// finds no English left: the billing page on Free, active (with Stripe's
// invoices), cancelling, trialing, past due, with a failed payment,
// restricted and lapsed; the plan list, an upgrade preview, an interval
// change and a downgrade's; the cancel confirmation, a flash after it and
// the error of an incomplete form; the pricing page signed out; and the
// seat cost above the invite form. Then one page in German.
func TestI18n_Billing(t *testing.T) {
	t.Parallel()
	a, owner, slug, wsID, _, _, end := changeApp(t, "price_pro")
	owner.pseudo()
	base := "/w/" + slug + "/billing"
	allow := []string{"Acme Inc", "Beta Ltd", "owner@example.com"}
	checkIn := func(res *response, want int, sel string) {
		t.Helper()
		if res.StatusCode != want {
			t.Fatalf("%s: status %d, want %d\n%s", res.Request.URL, res.StatusCode, want, res.Body)
		}
		assertTranslatedPart(t, res, sel, allow...)
	}
	check := func(res *response, want int) { t.Helper(); checkIn(res, want, "main") }
	// The confirmation page's Cancel link is the shared page's.
	const confirmParts = `[data-testid="confirm-title"], [data-testid="confirm-message"], [data-testid="confirm-submit"]`
	at := time.Now().Truncate(time.Second)
	n := 0
	apply := func(status string, cancel bool, edit func(ev billingtest.Event)) {
		t.Helper()
		n++
		ev := planEvent("evt_i18n_"+status+string(rune('a'+n)), at.Add(time.Duration(n)*time.Minute), wsID, "price_pro", cancel, end)
		ev.Object["status"] = status
		if edit != nil {
			edit(ev)
		}
		a.mustApply(t, ev, app.EventApplied)
	}

	t.Run("Free", func(t *testing.T) {
		free := createWorkspace(t, owner, "Beta Ltd")
		owner.Get("/w/" + free) // the creation's flash
		check(owner.Get("/w/"+free+"/billing"), http.StatusOK)
		res := owner.Get("/w/" + free + "/billing/return?checkout=cancel")
		check(owner.Follow(res), http.StatusOK)
	})

	t.Run("Active", func(t *testing.T) {
		page := owner.Get(base)
		check(page, http.StatusOK)
		if !page.Has("billing-invoice") && !page.Has("billing-invoices-empty") {
			t.Errorf("no invoice section on the owner's page")
		}
		check(owner.Get(base+"/plan"), http.StatusOK)
		check(owner.Get(base+"/plan/preview?price=price_bus"), http.StatusOK)
		check(owner.Get(base+"/plan/preview?price=price_pro_annual"), http.StatusOK)
		// The current plan is no change: a flash on the plan list.
		check(owner.Follow(owner.Get(base+"/plan/preview?price=price_pro")), http.StatusOK)
		// A confirmation without its proration date.
		checkIn(owner.Post(base+"/plan", url.Values{"price": {"price_bus"}, "confirm": {"yes"}}), http.StatusBadRequest,
			`[data-testid="error-message"]`)
	})

	t.Run("Cancel", func(t *testing.T) {
		checkIn(owner.Get(base+"/cancel"), http.StatusOK, confirmParts)
		confirm := owner.Submit(owner.Get(base), "billing-cancel-form", nil)
		checkIn(confirm, http.StatusOK, confirmParts)
		res := owner.Submit(confirm, "confirm-form", nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("cancel: status %d\n%s", res.StatusCode, res.Body)
		}
		page := owner.Follow(res)
		check(page, http.StatusOK)
		if !page.Has("flash") {
			t.Errorf("no flash after cancelling")
		}
		apply(app.SubActive, true, nil)
		check(owner.Get(base), http.StatusOK)
	})

	t.Run("Trialing", func(t *testing.T) {
		apply(app.SubTrialing, false, func(ev billingtest.Event) { ev.Object["trial_end"] = end.Unix() })
		page := owner.Get(base)
		check(page, http.StatusOK)
		if kind, _, _ := banner(page); kind != "trial" {
			t.Errorf("banner %q, want the trial's", kind)
		}
	})

	t.Run("PastDue", func(t *testing.T) {
		apply(app.SubPastDue, false, nil)
		page := owner.Get(base)
		check(page, http.StatusOK)
		if !page.Has("billing-past-due") {
			t.Errorf("no past-due notice")
		}
		a.mustApply(t, invoiceEvent("evt_i18n_failed", billing.EventInvoiceFailed, at.Add(time.Hour), 1), app.EventApplied)
		page = owner.Get(base)
		check(page, http.StatusOK)
		if kind, _, _ := banner(page); kind != "payment_failed" {
			t.Errorf("banner %q, want the failed payment's", kind)
		}
		a.exec(t, "UPDATE workspaces SET restricted_at = payment_failed_at WHERE slug = ?", slug)
		page = owner.Get(base)
		check(page, http.StatusOK)
		if kind, _, _ := banner(page); kind != "restricted" {
			t.Errorf("banner %q, want the restriction's", kind)
		}
	})

	t.Run("Lapsed", func(t *testing.T) {
		apply(app.SubCanceled, false, nil)
		page := owner.Get(base)
		check(page, http.StatusOK)
		if !page.Has("billing-lapsed") {
			t.Errorf("no lapsed notice")
		}
	})

	t.Run("Pricing", func(t *testing.T) {
		b := a.newBrowser(t).pseudo()
		check(b.Get("/pricing"), http.StatusOK)
		check(b.Get("/pricing?interval=year"), http.StatusOK)
	})

	t.Run("German", func(t *testing.T) {
		b := a.newBrowser(t).german()
		res := b.Get("/pricing")
		for id, want := range map[string]string{"pricing-start": "Kostenlos starten", "pricing-upgrade": "Auf Pro upgraden",
			"plan-pro-price": "12,00 $ pro Platz / Monat", "plan-free-history": "30 Tage Audit-Verlauf"} {
			if got := strings.Join(strings.Fields(res.Text(id)), " "); got != want {
				t.Errorf("German pricing %s=%q, want %q", id, got, want)
			}
		}
		if got, want := res.Doc.Find("h1").First().Text(), "Preise"; got != want {
			t.Errorf("German pricing heading %q, want %q", got, want)
		}
		owner.german()
		page := owner.Get(base)
		for id, want := range map[string]string{"billing-portal": "Abrechnung verwalten", "billing-status": "Gekündigt",
			"billing-in-force-name": "Free"} {
			if got := page.Text(id); got != want {
				t.Errorf("German billing page %s=%q, want %q", id, got, want)
			}
		}
		if got, want := page.Doc.Find("h1").First().Text(), "Abrechnung"; got != want {
			t.Errorf("German billing heading %q, want %q", got, want)
		}
	})
}

// TestI18n_BillingSeatCost checks the seat cost above the invite form in
// the pseudo-locale: the amounts, and the sentence when Stripe cannot say.
func TestI18n_BillingSeatCost(t *testing.T) {
	t.Parallel()
	mock := billingtest.StripeMock(t)
	for name, stripe := range map[string]func(t *testing.T) string{
		"Preview": func(t *testing.T) string {
			base, _ := billingtest.WithInvoicePreview(t, mock, billingtest.UpcomingSeatInvoice)
			return base
		},
		"StripeFails": func(*testing.T) string { return "http://127.0.0.1:9" },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, "sqlite", withStripe(stripe(t)))
			owner, slug, wsID := billingOwner(t, a, "owner@example.com")
			a.mustApply(t, seatSubscription("evt_seats", wsID, 1), app.EventApplied)
			page := owner.pseudo().Get("/w/" + slug + "/members")
			if !page.Has("seat-cost") {
				t.Fatalf("no seat cost with 1 member on 1 seat\n%s", page.Body)
			}
			assertTranslatedPart(t, page, `[data-testid="seat-cost"]`)
		})
	}
}

// TestI18n_BillingDowngrade covers the downgrade in the pseudo-locale: its
// preview, the flash once scheduled, the billing page naming the waiting
// change, and Keep's confirmation and flash.
func TestI18n_BillingDowngrade(t *testing.T) {
	t.Parallel()
	_, owner, slug, _, fake, _, _ := changeApp(t, "price_bus")
	owner.pseudo()
	base := "/w/" + slug + "/billing"
	allow := []string{"Acme Inc", "owner@example.com"}
	confirmParts := `[data-testid="confirm-title"], [data-testid="confirm-message"], [data-testid="confirm-submit"]`
	owner.Get("/w/" + slug) // the creation's flash

	preview := owner.Get(base + "/plan/preview?price=price_pro")
	assertTranslatedPart(t, preview, "main", allow...)
	res := owner.Submit(preview, "change-preview-form", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("schedule: status %d\n%s", res.StatusCode, res.Body)
	}
	page := owner.Follow(res)
	if !page.Has("flash") || !page.Has("billing-scheduled") {
		t.Fatalf("after scheduling: flash %v, scheduled %v", page.Has("flash"), page.Has("billing-scheduled"))
	}
	assertTranslatedPart(t, page, "main", allow...)

	fake.SetSubscription("price_bus", "sub_sched_waiting")
	confirm := owner.Submit(page, "billing-keep-form", nil)
	assertTranslatedPart(t, confirm, confirmParts, allow...)
	if res := owner.Submit(confirm, "confirm-form", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("keep: status %d\n%s", res.StatusCode, res.Body)
	} else {
		assertTranslatedPart(t, owner.Follow(res), "main", allow...)
	}
}

// TestI18n_BillingWithoutStripe checks, in the pseudo-locale, the billing
// page of a server without Stripe (the notice naming the settings), the
// development demo and its flash, and an admin's read-only page.
func TestI18n_BillingWithoutStripe(t *testing.T) {
	t.Parallel()
	allow := []string{"Acme Inc", "owner@example.com", "admin@example.com"}
	t.Run("Off", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t, "sqlite")
		owner, slug, _ := billingOwner(t, a, "owner@example.com")
		admin := inviteAndJoin(t, a, owner, slug, "admin@example.com", "admin").pseudo()
		// The flashes of creating and joining the workspace.
		owner.pseudo().Get("/w/" + slug)
		admin.Get("/w/" + slug)
		page := owner.Get("/w/" + slug + "/billing")
		if !page.Has("billing-off") {
			t.Fatalf("no billing-off notice\n%s", page.Body)
		}
		assertTranslatedPart(t, page, "main", allow...)
		page = admin.Get("/w/" + slug + "/billing")
		if !page.Has("billing-readonly") {
			t.Fatalf("admin: no read-only note\n%s", page.Body)
		}
		assertTranslatedPart(t, page, "main", allow...)
	})
	t.Run("Demo", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t, "sqlite", withEnv("APP_ENV", "development"))
		owner, slug, _ := billingOwner(t, a, "owner@example.com")
		owner.pseudo().Get("/w/" + slug)
		page := owner.Get("/w/" + slug + "/billing")
		assertTranslatedPart(t, page, "main", allow...)
		page = owner.Follow(owner.Submit(page, "billing-demo-upgrade", nil))
		if !page.Has("billing-demo-downgrade") {
			t.Fatalf("no demo downgrade after the demo upgrade\n%s", page.Body)
		}
		assertTranslatedPart(t, page, "main", allow...)
	})
}
