package page_test

import (
	"context"
	"io"
	"testing"

	"github.com/a-h/templ"
	"golang.org/x/text/language"

	"atrium/internal/i18n"
	"atrium/web/component"
	"atrium/web/page"
)

// inEnglishForAudit renders c as a request in English would.
func inEnglishForAudit(c templ.Component) templ.Component {
	p := i18n.MustNew(i18n.Options{}).Printer(language.English)
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return c.Render(i18n.WithLocale(ctx, p, nil), w)
	})
}

func TestAudit(t *testing.T) {
	t.Parallel()

	t.Run("Page", func(t *testing.T) {
		t.Parallel()
		v := page.AuditView{
			URL: "/w/acme",
			Rows: []page.AuditRow{
				{ID: 7, When: "just now", WhenFull: "29 Nov 2026, 10:00 UTC", Actor: evil, ActorEmail: "e@example.com",
					Text: "invited <b>x</b> as Admin", DetailURL: "/w/acme/audit/7"},
				{ID: 6, When: "yesterday", Actor: "System", Text: "did something", DetailURL: "/w/acme/audit/6"},
			},
			Action:   "invite.sent",
			Actions:  []component.Option{{Value: "", Label: "All actions"}, {Value: "invite.sent"}, {Value: "member.left"}},
			People:   []component.Option{{Value: "", Label: "Everyone"}, {Value: "3", Label: "Ada"}},
			Families: []component.Option{{Value: "", Label: "All kinds"}, {Value: "invite", Label: "Invite"}},
			OlderURL: "?action=invite.sent&before=1-6",
			NewerURL: "?action=invite.sent&after=2-7",
		}
		p := inWorkspace
		p.Section = "audit"
		doc, html := render(t, inEnglishForAudit(page.Audit(p, v)))
		inert(t, doc, html)
		if got, want := text(doc.Find("h1")), "Audit log"; got != want {
			t.Errorf("h1=%q, want %q", got, want)
		}
		filter := one(t, doc, "audit-filter")
		if got, want := attr(filter, "method"), "get"; got != want {
			t.Errorf("method=%q, want %q", got, want)
		}
		if got, want := attr(filter, "action"), "/w/acme/audit"; got != want {
			t.Errorf("action=%q, want %q", got, want)
		}
		for _, name := range []string{"actor", "family", "action"} {
			sel := filter.Find(`select[name="` + name + `"]`)
			if sel.Length() != 1 || doc.Find(`label[for="`+attr(sel, "id")+`"]`).Length() != 1 {
				t.Errorf("filter %s: no labelled select", name)
			}
		}
		if got, want := attr(filter.Find(`select[name="action"] option[selected]`), "value"), "invite.sent"; got != want {
			t.Errorf("selected=%q, want %q", got, want)
		}
		rows := doc.Find(`[data-testid="audit-row"]`)
		if got, want := rows.Length(), 2; got != want {
			t.Fatalf("rows=%d, want %d", got, want)
		}
		if got, want := attr(rows.Eq(0).Find(`[data-testid="audit-actor-name"]`), "title"), "e@example.com"; got != want {
			t.Errorf("actor title=%q, want %q", got, want)
		}
		if got, want := attr(rows.Eq(0).Find(`[data-testid="audit-detail-link"]`), "href"), "/w/acme/audit/7"; got != want {
			t.Errorf("detail link=%q, want %q", got, want)
		}
		if doc.Find("main b").Length() != 0 {
			t.Error("summary rendered as HTML")
		}
		if doc.Find(".action-code").Length() != 0 {
			t.Error("the list shows raw action codes")
		}
		if got, want := attr(one(t, doc, "audit-older"), "href"), v.OlderURL; got != want {
			t.Errorf("older=%q, want %q", got, want)
		}
		if got, want := attr(one(t, doc, "audit-newer"), "href"), v.NewerURL; got != want {
			t.Errorf("newer=%q, want %q", got, want)
		}
		if got, want := attr(one(t, doc, "audit-export-csv"), "href"), "/w/acme/audit/export?action=invite.sent&format=csv"; got != want {
			t.Errorf("export=%q, want %q", got, want)
		}
		none(t, doc, "empty-state")
	})

	t.Run("EmptyFiltered", func(t *testing.T) {
		t.Parallel()
		doc, _ := render(t, inEnglishForAudit(page.Audit(inWorkspace, page.AuditView{URL: "/w/acme", Family: "billing"})))
		one(t, doc, "empty-state")
		if got, want := attr(one(t, doc, "audit-empty-clear"), "href"), "/w/acme/audit"; got != want {
			t.Errorf("clear=%q, want %q", got, want)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		doc, _ := render(t, inEnglishForAudit(page.Audit(inWorkspace, page.AuditView{URL: "/w/acme"})))
		one(t, doc, "empty-state")
		none(t, doc, "audit-row")
		none(t, doc, "audit-older")
		none(t, doc, "audit-newer")
		none(t, doc, "audit-empty-clear")
	})
}
