package server_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
)

// TestAudit_DetailExportAndDeletedActor: entries stay attributed by name
// after their actor deletes their account (and the person filter still
// offers them); each entry opens a detail view with its code, metadata,
// IP, user agent and request id, only within its workspace and only for
// owners and admins; the export streams the filtered entries as an
// attachment named after the workspace and the day, with formula-safe
// cells, and records audit.exported with the filter.
func TestAudit_DetailExportAndDeletedActor(t *testing.T) {
	a := newTestApp(t, "sqlite", withEnv("FREE_PLAN_SEATS", "10"))
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme Inc")
	makePro(t, a, slug) // the export is part of Pro
	admin := inviteAndJoin(t, a, owner, slug, "admin@example.com", "admin")
	member := inviteAndJoin(t, a, owner, slug, "member@example.com", "member")
	adminID := userIDOf(t, a, "admin@example.com")
	if res := admin.Post("/w/"+slug+"/invites", url.Values{"email": {"=cmd@example.com"}, "role": {"member"}}); res.StatusCode >= 400 {
		// An address starting with "=" may be refused; invite a plain one.
		admin.Post("/w/"+slug+"/invites", url.Values{"email": {"grace@example.com"}, "role": {"member"}})
	}
	if res := admin.Post("/settings/account/delete", url.Values{"confirm": {"admin@example.com"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin deletes their account: status %d", res.StatusCode)
	}
	base := "/w/" + slug + "/audit"

	t.Run("DeletedActor", func(t *testing.T) {
		page := owner.Get(base + "?actor=" + itoa(int(adminID)))
		rows := page.Doc.Find(`[data-testid="audit-row"]`)
		if rows.Length() == 0 {
			t.Fatal("no entries for the deleted admin")
		}
		if got := strings.TrimSpace(rows.First().Find(`[data-testid="audit-actor-name"]`).Text()); got != "admin@example.com" {
			t.Errorf("deleted actor reads %q, want admin@example.com", got)
		}
		if strings.Contains(page.Body, "A deleted user") {
			t.Error("an entry reads \"A deleted user\"")
		}
		if page.Doc.Find(`[data-testid="audit-actor"] option[value="`+itoa(int(adminID))+`"]`).Length() != 1 {
			t.Error("the person filter does not offer the former admin")
		}
	})

	t.Run("Detail", func(t *testing.T) {
		list := owner.Get(base + "?action=invite.accepted")
		href, ok := list.Doc.Find(`[data-testid="audit-detail-link"]`).First().Attr("href")
		if !ok {
			t.Fatal("no detail link")
		}
		d := owner.Get(href)
		if d.StatusCode != http.StatusOK {
			t.Fatalf("detail: status %d", d.StatusCode)
		}
		if got := d.Text("audit-entry-action"); got != app.ActionInviteAccepted {
			t.Errorf("action=%q, want %s", got, app.ActionInviteAccepted)
		}
		if d.Text("audit-entry-ip") != "127.0.0.1" || d.Text("audit-entry-ua") == "—" || d.Text("audit-entry-request") == "—" {
			t.Errorf("ip=%q ua=%q request=%q", d.Text("audit-entry-ip"), d.Text("audit-entry-ua"), d.Text("audit-entry-request"))
		}
		if got := d.Text("audit-entry-md-role"); got != "Member" && got != "Admin" {
			t.Errorf("metadata role=%q", got)
		}
		if got := member.Get(href).StatusCode; got != http.StatusForbidden && got != http.StatusNotFound {
			t.Errorf("a member opens the detail: status %d", got)
		}
		other := a.newBrowser(t)
		other.signIn("other@example.com")
		otherSlug := createWorkspace(t, other, "Other")
		id := href[strings.LastIndex(href, "/")+1:]
		if got := other.Get("/w/" + otherSlug + "/audit/" + id).StatusCode; got != http.StatusNotFound {
			t.Errorf("another workspace's entry: status %d, want 404", got)
		}
	})

	t.Run("Export", func(t *testing.T) {
		res := owner.Get(base + "/export?format=csv&family=invite")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("export: status %d", res.StatusCode)
		}
		day := time.Now().UTC().Format(time.DateOnly)
		if got, want := res.Header.Get("Content-Disposition"), `attachment; filename="audit-`+slug+`-`+day+`.csv"`; got != want {
			t.Errorf("Content-Disposition=%q, want %q", got, want)
		}
		recs, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
		if err != nil {
			t.Fatalf("read CSV: %v", err)
		}
		if len(recs) < 4 || recs[0][0] != "id" {
			t.Fatalf("CSV has %d records; header %v", len(recs), recs[0])
		}
		for _, r := range recs[1:] {
			if r[7] != "invite" {
				t.Errorf("family filter: row of family %q", r[7])
			}
			for _, cell := range r {
				if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
					t.Errorf("cell %q starts a formula", cell)
				}
			}
		}
		if got := owner.Get(base + "/export?format=xml").StatusCode; got != http.StatusBadRequest && got != http.StatusUnprocessableEntity {
			t.Errorf("format=xml: status %d", got)
		}
		jl := owner.Get(base + "/export?format=jsonl&action=audit.exported")
		var first struct {
			Action   string
			Metadata map[string]any
		}
		if err := json.Unmarshal([]byte(strings.SplitN(jl.Body, "\n", 2)[0]), &first); err != nil {
			t.Fatalf("JSONL: %v\n%s", err, jl.Body)
		}
		if first.Action != app.ActionAuditExported || first.Metadata["family"] != "invite" || first.Metadata["format"] != "csv" {
			t.Errorf("audit.exported entry = %+v, want the CSV export with family=invite", first)
		}
		if got := member.Get(base + "/export?format=csv").StatusCode; got != http.StatusForbidden && got != http.StatusNotFound {
			t.Errorf("a member exports: status %d", got)
		}
	})
}
