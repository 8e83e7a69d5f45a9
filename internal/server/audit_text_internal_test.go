package server

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"atrium/internal/app"
	"atrium/internal/i18n"
)

// auditCatalogFile reads one language's audit catalog.
func auditCatalogFile(t *testing.T, lang string) map[string]any {
	t.Helper()
	buf, err := os.ReadFile("../i18n/locales/" + lang + "/audit.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

var catalogPlaceholder = regexp.MustCompile(`\{\{\.([A-Za-z_]+)\}\}`)

// TestAuditCatalog_Translated: every action of app.AuditActions has a
// summary in the audit catalog with {{.Actor}} and exactly the values its
// English template in audit_catalog.go names, and a filter label, so an
// action added without its translation fails here (TestCatalogs_Complete
// then holds German to the same keys and placeholders).
func TestAuditCatalog_Translated(t *testing.T) {
	en := auditCatalogFile(t, "en")
	for _, a := range app.AuditActions() {
		key := auditSummaryKey(a.Code)
		msg, ok := en[key].(string)
		if !ok {
			t.Errorf("%s: no summary %s in locales/en/audit.json", a.Code, key)
			continue
		}
		want := []string{"Actor"}
		for _, s := range auditSlots(a.Summary) {
			want = append(want, s.Key)
		}
		var have []string
		for _, m := range catalogPlaceholder.FindAllStringSubmatch(msg, -1) {
			have = append(have, m[1])
		}
		slices.Sort(want)
		slices.Sort(have)
		if !slices.Equal(slices.Compact(want), slices.Compact(have)) {
			t.Errorf("%s: %s has the placeholders %v, the app template %q names %v", a.Code, key, have, a.Summary, want)
		}
		if _, ok := en["audit.action."+a.Code+".label"].(string); !ok {
			t.Errorf("%s: no filter label audit.action.%s.label", a.Code, a.Code)
		}
	}
	for _, f := range app.AuditFamilies() {
		if _, ok := en["audit.family."+string(f)]; !ok {
			t.Errorf("family %s has no label", f)
		}
	}
}

// printerCtx returns a context in a language, as requests carry it.
func printerCtx(t *testing.T, tag language.Tag) context.Context {
	t.Helper()
	c, err := i18n.New(i18n.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return i18n.WithLocale(context.Background(), c.Printer(tag), time.UTC)
}

// TestAuditSummary_EnglishUnchanged: in English the catalog writes every
// entry exactly as app.AuditEntry.Summary does (which the exports keep),
// with its values, without them (but an interval: "()" where it read
// "(ly)"), and for each kind of actor; so do the
// family and action labels of the filter.
func TestAuditSummary_EnglishUnchanged(t *testing.T) {
	ctx := printerCtx(t, language.English)
	for _, a := range app.AuditActions() {
		full := map[string]any{}
		for _, s := range auditSlots(a.Summary) {
			switch {
			case s.Format == "role":
				full[s.Key] = "admin"
			case s.Key == "interval":
				full[s.Key] = "year"
			case s.Key == "count":
				full[s.Key] = float64(3)
			case s.Key == "new_secret" || s.Key == "jit":
				full[s.Key] = true
			default:
				full[s.Key] = "v-" + s.Key
			}
		}
		for _, e := range []*app.AuditEntry{
			{Action: a.Code, ActorName: "Ada Lovelace", ActorEmail: "ada@example.com", ActorID: 1, Metadata: full},
			{Action: a.Code, ActorID: 2},
			{Action: a.Code},
		} {
			// Without an interval the English template read "(ly)".
			want := strings.ReplaceAll(e.Summary(), "(ly)", "()")
			if got := auditSummary(ctx, e); got != want {
				t.Errorf("%s: %q, want %q", a.Code, got, want)
			}
		}
		if got, want := auditActionLabel(ctx, a), a.Family.Label()+": "+a.Label(); got != want {
			t.Errorf("%s label: %q, want %q", a.Code, got, want)
		}
	}
	unknown := &app.AuditEntry{Action: "nothing.known"}
	if got, want := auditSummary(ctx, unknown), unknown.Summary(); got != want {
		t.Errorf("unknown action: %q, want %q", got, want)
	}
	for key := range map[string]bool{"email": true, "previous_role": true, "idp_mfa": true, "window_start": true} {
		if got, want := auditMetadataLabel(ctx, key), app.AuditMetadataLabel(key); got != want {
			t.Errorf("metadata label %s: %q, want %q", key, got, want)
		}
	}
}

// TestAuditSummary_German: a German reader gets the sentence in German
// word order, the role by its German label.
func TestAuditSummary_German(t *testing.T) {
	ctx := printerCtx(t, language.German)
	e := &app.AuditEntry{Action: app.ActionInviteSent, ActorName: "Ada Lovelace",
		Metadata: map[string]any{"email": "grace@example.com", "role": "member"}}
	if got, want := auditSummary(ctx, e), "Ada Lovelace hat grace@example.com als Mitglied eingeladen"; got != want {
		t.Errorf("summary=%q, want %q", got, want)
	}
	if got, want := auditWho(ctx, &app.AuditEntry{Action: app.ActionInvoicePaid}), "Stripe"; got != want {
		t.Errorf("billing without actor=%q, want %q", got, want)
	}
	if got, want := auditWho(ctx, &app.AuditEntry{Action: app.ActionAuditPruned}), "System"; got != want {
		t.Errorf("system=%q, want %q", got, want)
	}
}
