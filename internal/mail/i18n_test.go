package mail_test

import (
	"strings"
	"testing"
	"time"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/internal/i18n/i18ntest"
	atriummail "atrium/internal/mail"
)

// allEmails renders every email the product sends, in lang, with the
// sentences the store passes to the notices.
func allEmails(cat *i18n.Catalog, lang string) map[string]app.Email {
	p := cat.Printer(cat.Match(lang, ""))
	billing := atriummail.BillingNotices(cat, "Atrium", "https://atrium.example", 72*time.Hour)
	day := time.Date(2026, 12, 14, 9, 0, 0, 0, time.UTC)
	security := atriummail.SecurityNotices(cat, "Atrium", "https://atrium.example/settings/account")
	identity := atriummail.IdentityNotices(cat, "Atrium", "https://atrium.example/settings/account")
	hooks := atriummail.WebhookDisabledNotices(cat, "Atrium", "https://atrium.example/app")
	out := map[string]app.Email{
		"login":       atriummail.MagicLinkEmail(p, "Atrium", "ada@example.com", "https://atrium.example/auth/verify?token=t"),
		"test_invite": atriummail.TestInviteEmail(p, "Atrium", "ada@example.com"),
		"code_locked": atriummail.CodeLockedEmail(p, "Atrium", "ada@example.com", "https://atrium.example/settings/account"),
		"two_factor_reset": atriummail.TwoFactorResetEmail(p, "Atrium", "ada@example.com", "ticket 4711",
			"https://atrium.example/login"),
		"impersonation": atriummail.ImpersonationEmail(p, "Atrium", "ada@example.com", atriummail.Impersonation{
			Staff: "Sam Staff", Reason: "ticket 4711", WriteReason: "ticket 4712", Started: p.DateTime(day, time.UTC),
			Ended: p.DateTime(day.Add(time.Hour), time.UTC), AuditURL: "https://atrium.example/settings/workspaces"}),
		"trial_ending": billing(app.BillingNotice{Kind: app.NoticeTrialEnding, To: "ada@example.com", Workspace: "Acme",
			Slug: "acme", TrialEnd: day, Language: lang}),
		"payment_failed": billing(app.BillingNotice{Kind: app.NoticePaymentFailed, To: "ada@example.com", Workspace: "Acme",
			Slug: "acme", InvoiceURL: "https://invoice.stripe.com/i/1", FailedAt: day, Language: lang}),
		"webhook_gone": hooks("ada@example.com", lang, "https://hooks.example", app.Say("mail.webhook.reason.gone")),
		"webhook_failing": hooks("ada@example.com", lang, "https://hooks.example",
			app.Say("mail.webhook.reason.failing", "Days", 3)),
	}
	for _, role := range app.Roles {
		out["invite_"+string(role)] = atriummail.InviteEmail(p, "Atrium", "bob@example.com", "Acme", "Ada Lovelace", role,
			"https://atrium.example/invites/t")
	}
	for _, key := range []string{"recovery_codes", "totp_on", "totp_off"} {
		out["security_"+key] = security("ada@example.com", lang, app.Say("mail.security."+key))
	}
	out["security_passkey_added"] = security("ada@example.com", lang, app.Say("mail.security.passkey_added", "Name", "Laptop"))
	out["security_passkey_removed"] = security("ada@example.com", lang, app.Say("mail.security.passkey_removed", "Name", "Laptop"))
	for _, key := range []string{"linked", "unlinked"} {
		out["identity_"+key] = identity("ada@example.com", lang,
			app.Say("mail.identity."+key, "Provider", "google", "Address", " (ada@example.com)"))
		out["identity_"+key+"_sso"] = identity("ada@example.com", lang, app.Say("mail.identity."+key+"_sso", "Address", ""))
	}
	return out
}

// TestMail_Pseudo: every email, rendered in the pseudo-locale, has no
// English left in its subject, its HTML or its text part.
func TestMail_Pseudo(t *testing.T) {
	t.Parallel()
	c, err := i18n.New(i18n.Options{Pseudo: true})
	if err != nil {
		t.Fatal(err)
	}
	allow := []string{"Acme", "Ada Lovelace", "Sam Staff", "Laptop", "ticket", "google"}
	for name, e := range allEmails(c, i18n.Pseudo.String()) {
		t.Run(name, func(t *testing.T) {
			if left := i18ntest.UntranslatedText(e.Subject, allow...); len(left) > 0 {
				t.Errorf("subject %q has English left: %q", e.Subject, left)
			}
			if left := i18ntest.Untranslated(e.HTML, allow...); len(left) > 0 {
				t.Errorf("HTML has English left: %q\n%s", left, e.HTML)
			}
			if left := i18ntest.UntranslatedText(e.Text, allow...); len(left) > 0 {
				t.Errorf("text has English left: %q\n%s", left, e.Text)
			}
			if !strings.Contains(e.HTML, `<html lang="en-XA">`) {
				t.Errorf("HTML does not say its language:\n%s", e.HTML)
			}
		})
	}
}

// TestMail_German: a notice to a user who chose German is in German,
// subject, text and HTML, dates included.
func TestMail_German(t *testing.T) {
	t.Parallel()
	c := i18n.MustNew(i18n.Options{})
	e := allEmails(c, "de")["trial_ending"]
	if got, want := e.Subject, "Ihre Pro-Testphase von Atrium für Acme endet bald"; got != want {
		t.Errorf("Subject=%q, want %q", got, want)
	}
	for _, want := range []string{"Hallo,", "Die Pro-Testphase von Acme auf Atrium endet am 14. Dez. 2026.", "Tarif\nFree"} {
		if !strings.Contains(e.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, e.Text)
		}
	}
	for _, want := range []string{`<html lang="de">`, "Ihre Pro-Testphase endet am 14. Dez. 2026",
		"Die Pro-Testphase von <strong>Acme</strong> auf Atrium endet am 14. Dez. 2026.", ">Abrechnung öffnen</a>"} {
		if !strings.Contains(e.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, e.HTML)
		}
	}
	if got, want := allEmails(c, "")["trial_ending"].Subject, "Your Atrium Pro trial for Acme ends soon"; got != want {
		t.Errorf("without a saved language: Subject=%q, want %q", got, want)
	}
}
