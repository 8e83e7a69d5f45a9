package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"atrium/internal/store"
	"atrium/internal/store/storetest"
)

// skipNameStep answers res's redirect to the name step with Skip and
// returns the skip's answer; any other response is returned as it is.
func skipNameStep(t *testing.T, b *browser, res *response) *response {
	t.Helper()
	if !strings.HasPrefix(res.Location(), "/welcome") {
		return res
	}
	return b.Submit(b.Get(res.Location()), "name-step-skip", url.Values{"skip": {"1"}})
}

// verifyLink signs in through the emailed link with next and returns the
// answer to the verify button.
func verifyLink(t *testing.T, a *testApp, b *browser, email, next string) *response {
	t.Helper()
	b.Post("/login", url.Values{"email": {email}, "next": {next}})
	link := a.SMTP.WaitForMessage(t, email, 5*time.Second).Links()[0]
	return b.Submit(b.Get(link), "verify-submit", nil)
}

// TestNameStep: a first sign-in asks for a display name once, on the way
// to where the user was going; Skip keeps going, a bad name is refused
// beside the field with the input kept, and the name then replaces the
// email in members lists and new audit entries.
func TestNameStep(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, dialect)

			// First sign-in, on the way to the account page.
			b := a.newBrowser(t)
			res := verifyLink(t, a, b, "grace@example.com", "/settings/account")
			if got, want := res.Location(), "/welcome?next=%2Fsettings%2Faccount"; got != want {
				t.Fatalf("first sign-in Location=%q, want %q", got, want)
			}
			step := b.Get(res.Location())
			if step.StatusCode != http.StatusOK || !step.Has("name-step-name") || !step.Has("name-step-skip") {
				t.Fatalf("name step: status %d\n%s", step.StatusCode, step.Body)
			}

			// Too long: 422, the error beside the field, the input kept.
			long := strings.Repeat("g", 81)
			bad := b.Submit(step, "name-step-form", url.Values{"name": {long}})
			if bad.StatusCode != http.StatusUnprocessableEntity || bad.Text("field-name-error") == "" {
				t.Fatalf("long name: status %d error %q", bad.StatusCode, bad.Text("field-name-error"))
			}
			if got := attrOf(bad, "name-step-name", "value"); got != long {
				t.Errorf("input after the error=%q, want it kept", got)
			}
			if got := bad.Doc.Find(`#field-name[aria-describedby~="field-name-error"]`).Length(); got != 1 {
				t.Errorf("the error is not tied to the field")
			}
			// Save with nothing typed: say so, rather than saving nothing.
			if empty := b.Submit(step, "name-step-form", url.Values{"name": {"  "}}); empty.StatusCode != http.StatusUnprocessableEntity ||
				!strings.Contains(empty.Text("field-name-error"), "Skip") {
				t.Errorf("empty name: status %d error %q", empty.StatusCode, empty.Text("field-name-error"))
			}

			// A forged next cannot send the user off-site.
			forged := b.Post("/welcome", url.Values{"name": {"Grace Hopper"}, "next": {"//evil.example/x"}})
			if got, want := forged.Location(), "/app"; got != want {
				t.Errorf("forged next: Location=%q, want %q", got, want)
			}
			saved := b.Submit(bad, "name-step-form", url.Values{"name": {"  Grace Hopper "}})
			if got, want := saved.Location(), "/settings/account"; got != want {
				t.Fatalf("save: Location=%q, want %q", got, want)
			}
			u, err := store.NewUserService(a.DB).FindUserByEmail(context.Background(), "grace@example.com")
			if err != nil || u.Name != "Grace Hopper" {
				t.Fatalf("name=%q err %v, want Grace Hopper", u.Name, err)
			}

			// The next sign-in does not ask again.
			again := a.newBrowser(t)
			if got := verifyLink(t, a, again, "grace@example.com", "").Location(); got != "/app" {
				t.Errorf("second sign-in Location=%q, want /app", got)
			}

			// Members and the audit log show the name.
			slug := createWorkspace(t, b, "Hopper Labs")
			members := b.Get("/w/" + slug + "/members")
			if !strings.Contains(members.Doc.Find("main").Text(), "Grace Hopper") {
				t.Errorf("members page does not name Grace Hopper")
			}
			audit := b.Get("/w/" + slug + "/audit")
			if got := strings.TrimSpace(audit.Doc.Find(`[data-testid="audit-row"]`).First().Text()); !strings.Contains(got, "Grace Hopper") {
				t.Errorf("newest audit row %q, want it to name Grace Hopper", got)
			}
		})
	}
}

// TestNameStep_Skip: Skip goes on to the page the user asked for without
// saving anything; a user who already has a name is never asked.
func TestNameStep_Skip(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, "sqlite")
	b := a.newBrowser(t)
	res := verifyLink(t, a, b, "skip@example.com", "/settings/workspaces")
	step := b.Get(res.Location())
	res = b.Submit(step, "name-step-skip", url.Values{"skip": {"1"}, "name": {"Typed but skipped"}})
	if got, want := res.Location(), "/settings/workspaces"; got != want {
		t.Fatalf("skip: Location=%q, want %q", got, want)
	}
	u, err := store.NewUserService(a.DB).FindUserByEmail(context.Background(), "skip@example.com")
	if err != nil || u.Name != "" {
		t.Fatalf("after skip: name %q err %v, want none saved", u.Name, err)
	}
	// Signed out, the step is not there.
	if res := a.newBrowser(t).Get("/welcome"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/login") {
		t.Errorf("signed-out /welcome: status %d Location %q, want the sign-in page", res.StatusCode, res.Location())
	}
}
