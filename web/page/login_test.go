package page_test

import (
	"strings"
	"testing"

	"atrium/web/layout"
	"atrium/web/page"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	p := layout.Page{AppName: "Atrium"}

	t.Run("Blank", func(t *testing.T) {
		t.Parallel()
		doc, _ := render(t, page.Login(p, page.LoginView{}))
		if got, want := doc.Find("h1").Text(), "Sign in"; got != want {
			t.Errorf("h1=%q, want %q", got, want)
		}
		if got, want := doc.Find("title").Text(), "Sign in · Atrium"; got != want {
			t.Errorf("title=%q, want %q", got, want)
		}
		form := one(t, doc, "login-email").Closest("form")
		if got, want := attr(form, "action"), "/login"; got != want {
			t.Errorf("action=%q, want %q", got, want)
		}
		email := one(t, doc, "login-email")
		if got, want := attr(email, "name"), "email"; got != want {
			t.Errorf("name=%q, want %q", got, want)
		}
		if _, ok := email.Attr("aria-invalid"); ok {
			t.Error("aria-invalid without an error")
		}
		if got, want := doc.Find(`label[for="`+attr(email, "id")+`"]`).Length(), 1; got != want {
			t.Errorf("labels=%d, want %d", got, want)
		}
		if form.Find(`input[name="next"]`).Length() != 0 {
			t.Error("hidden next without Next")
		}
		one(t, doc, "login-submit")
	})

	t.Run("Error", func(t *testing.T) {
		t.Parallel()
		doc, html := render(t, page.Login(p, page.LoginView{Email: evil, EmailError: "Enter a valid <email>.", Next: "/app?x=1&y=2"}))
		inert(t, doc, html)
		email := one(t, doc, "login-email")
		if got, want := attr(email, "value"), evil; got != want {
			t.Errorf("value=%q, want %q", got, want)
		}
		if got, want := attr(email, "aria-invalid"), "true"; got != want {
			t.Errorf("aria-invalid=%q, want %q", got, want)
		}
		errID := attr(email, "aria-describedby")
		if got, want := text(doc.Find("#"+errID)), "Enter a valid <email>."; got != want {
			t.Errorf("described by %q=%q, want %q", errID, got, want)
		}
		if got, want := attr(doc.Find(`input[name="next"]`), "value"), "/app?x=1&y=2"; got != want {
			t.Errorf("next=%q, want %q", got, want)
		}
	})

	t.Run("CheckEmail", func(t *testing.T) {
		t.Parallel()
		doc, html := render(t, page.CheckEmail(p, page.CheckEmailView{Email: evil}))
		inert(t, doc, html)
		one(t, doc, "check-email")
		if got, want := text(one(t, doc, "check-email-address")), evil; got != want {
			t.Errorf("email=%q, want %q", got, want)
		}
		if got, want := attr(one(t, doc, "different-email"), "href"), "/login"; got != want {
			t.Errorf("href=%q, want %q", got, want)
		}
		if !strings.Contains(text(doc.Find("main")), "15 minutes") {
			t.Error("no mention of 15 minutes")
		}
	})
}

func TestVerify(t *testing.T) {
	t.Parallel()
	doc, html := render(t, page.Verify(layout.Page{AppName: "Atrium"}, page.VerifyView{Email: evil, Token: `t"ok`, Next: "/settings/account"}))
	inert(t, doc, html)
	btn := one(t, doc, "verify-submit")
	if got, want := text(btn), "Sign in as "+evil; got != want {
		t.Errorf("button=%q, want %q", got, want)
	}
	form := btn.Closest("form")
	if got, want := attr(form, "action"), "/auth/verify"; got != want {
		t.Errorf("action=%q, want %q", got, want)
	}
	if got, want := attr(form.Find(`input[name="token"]`), "value"), `t"ok`; got != want {
		t.Errorf("token=%q, want %q", got, want)
	}
	if got, want := attr(form.Find(`input[name="next"]`), "value"), "/settings/account"; got != want {
		t.Errorf("next=%q, want %q", got, want)
	}
	if doc.Find(`meta[name="robots"]`).Length() != 1 {
		t.Error("verify page is indexable")
	}
}

func TestLinkProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		reason string
		want   string
	}{
		{"expired", "15 minutes"},
		{"used", "works once"},
		{"invalid", "incomplete"},
		{"", "incomplete"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			t.Parallel()
			doc, _ := render(t, page.LinkProblem(layout.Page{AppName: "Atrium"}, page.LinkProblemView{Reason: tt.reason}))
			if got := text(one(t, doc, "link-problem")); !strings.Contains(got, tt.want) {
				t.Errorf("text=%q, want it to contain %q", got, tt.want)
			}
			if got, want := attr(one(t, doc, "new-link"), "href"), "/login"; got != want {
				t.Errorf("href=%q, want %q", got, want)
			}
		})
	}
}
