package page_test

import (
	"testing"

	"atrium/web/page"
)

func TestAudit(t *testing.T) {
	t.Parallel()

	t.Run("Page", func(t *testing.T) {
		t.Parallel()
		v := page.AuditView{
			Slug: "acme",
			Rows: []page.AuditRow{
				{When: "now", Actor: evil, Action: "member.invite", Summary: "Invited <b>x</b>", Link: "/w/acme/members"},
				{When: "yesterday", Actor: "Ada", Action: "workspace.update", Summary: "Renamed"},
			},
			Action:     "member.invite",
			Actions:    []string{"member.invite", "workspace.update"},
			NextCursor: "c/1&2",
		}
		p := inWorkspace
		p.Section = "audit"
		doc, html := render(t, page.Audit(p, v))
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
		sel := filter.Find(`select[name="action"]`)
		opts := sel.Find("option")
		if got, want := opts.Length(), 3; got != want {
			t.Fatalf("options=%d, want %d", got, want)
		}
		if got, want := text(opts.Eq(0)), "All actions"; got != want || attr(opts.Eq(0), "value") != "" {
			t.Errorf("first option=%q value=%q, want %q and empty", got, attr(opts.Eq(0), "value"), want)
		}
		if got, want := attr(sel.Find("option[selected]"), "value"), "member.invite"; got != want {
			t.Errorf("selected=%q, want %q", got, want)
		}
		if doc.Find(`label[for="`+attr(sel, "id")+`"]`).Length() != 1 {
			t.Error("filter select has no label")
		}
		rows := doc.Find(`[data-testid="audit-row"]`)
		if got, want := rows.Length(), 2; got != want {
			t.Fatalf("rows=%d, want %d", got, want)
		}
		cells := rows.Eq(0).Find("td")
		if got, want := text(cells.Eq(1)), evil; got != want {
			t.Errorf("who=%q, want %q", got, want)
		}
		if got, want := text(cells.Eq(2).Find("code")), "member.invite"; got != want {
			t.Errorf("action=%q, want %q", got, want)
		}
		if got, want := attr(cells.Eq(3).Find("a"), "href"), "/w/acme/members"; got != want {
			t.Errorf("summary link=%q, want %q", got, want)
		}
		if doc.Find("main b").Length() != 0 {
			t.Error("summary rendered as HTML")
		}
		if rows.Eq(1).Find("a").Length() != 0 {
			t.Error("row without Link has a link")
		}
		if got, want := attr(one(t, doc, "audit-older"), "href"), "?before=c%2F1%262&action=member.invite"; got != want {
			t.Errorf("older=%q, want %q", got, want)
		}
		none(t, doc, "empty-state")
	})

	t.Run("LastPageNoFilter", func(t *testing.T) {
		t.Parallel()
		v := page.AuditView{Slug: "acme", Rows: []page.AuditRow{{When: "now", Actor: "Ada", Action: "x", Summary: "y"}}, NextCursor: "abc"}
		doc, _ := render(t, page.Audit(inWorkspace, v))
		if got, want := attr(one(t, doc, "audit-older"), "href"), "?before=abc"; got != want {
			t.Errorf("older=%q, want %q", got, want)
		}
		v.NextCursor = ""
		doc, _ = render(t, page.Audit(inWorkspace, v))
		none(t, doc, "audit-older")
	})

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		doc, _ := render(t, page.Audit(inWorkspace, page.AuditView{Slug: "acme"}))
		one(t, doc, "empty-state")
		none(t, doc, "audit-row")
		none(t, doc, "audit-older")
		if got, want := text(one(t, doc, "audit-action").Find("option[selected]")), "All actions"; got != want {
			t.Errorf("selected=%q, want %q", got, want)
		}
	})
}
