package mail

import (
	texttemplate "text/template"
	"time"

	"atrium/internal/app"
	"atrium/internal/i18n"
)

// billingNoticeData is what the billing notice templates see.
type billingNoticeData struct {
	tr
	AppName    string
	Workspace  string
	TrialEnd   string // "14 Dec 2026"
	GraceEnds  string
	InvoiceURL string
	Billing    string // the workspace's billing page
}

var trialEndingText = texttemplate.Must(texttemplate.New("trial_ending.txt").Parse(
	`{{.T "mail.greeting"}}

{{.T "mail.trial.ends" "Workspace" .Workspace "AppName" .AppName "Date" .TrialEnd}}

{{.T "mail.trial.text.keep"}}

{{.Billing}}

{{.AppName}}
`))

var trialEndingHTML = htmlEmail("trial_ending.html", `{{define "title"}}{{.T "mail.trial.title"}}{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">{{.H "mail.trial.heading" "Date" .TrialEnd}}</h1>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.H "mail.trial.ends" "Workspace" (.Strong .Workspace) "AppName" .AppName "Date" .TrialEnd}} {{.H "mail.trial.html.keep"}}</p>
<p style="margin:0 0 24px;"><a href="{{.Billing}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">{{.H "mail.trial.button"}}</a></p>
<p style="margin:0;font-size:13px;line-height:1.5;color:#52525b;">{{.H "mail.trial.html.without"}}</p>
{{end}}`)

var paymentFailedText = texttemplate.Must(texttemplate.New("payment_failed.txt").Parse(
	`{{.T "mail.greeting"}}

{{.T "mail.payment.text.failed" "Workspace" .Workspace "AppName" .AppName}}

{{.InvoiceURL}}

{{if .GraceEnds}}{{.T "mail.payment.grace" "Date" .GraceEnds}}
{{end}}
{{.T "mail.payment.text.billing"}}

{{.Billing}}

{{.AppName}}
`))

var paymentFailedHTML = htmlEmail("payment_failed.html", `{{define "title"}}{{.T "mail.payment.title"}}{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">{{.H "mail.payment.subject" "Workspace" .Workspace}}</h1>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.H "mail.payment.html.failed" "Workspace" (.Strong .Workspace) "AppName" .AppName}}</p>
<p style="margin:0 0 24px;"><a href="{{.InvoiceURL}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">{{.H "mail.payment.button"}}</a></p>
{{if .GraceEnds}}<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.H "mail.payment.grace" "Date" .GraceEnds}}</p>{{end}}
<p style="margin:0;font-size:13px;line-height:1.5;color:#52525b;">{{.H "mail.payment.html.billing" "Link" (.Link .Billing "mail.payment.html.billing_link")}}</p>
{{end}}`)

// BillingNotices returns the builder of the emails that tell a
// workspace's owners its trial ends soon or a payment failed
// (store.BillingService.Notice), each in the owner's saved language (else
// English) from catalog; appURL is the server's public URL and grace the
// dunning grace period.
func BillingNotices(catalog *i18n.Catalog, appName, appURL string, grace time.Duration) func(n app.BillingNotice) app.Email {
	return func(n app.BillingNotice) app.Email {
		p := printerFor(catalog, n.Language)
		d := billingNoticeData{tr: tr{p}, AppName: appName, Workspace: n.Workspace, InvoiceURL: n.InvoiceURL,
			Billing: appURL + "/w/" + n.Slug + "/billing"}
		if d.InvoiceURL == "" {
			d.InvoiceURL = d.Billing
		}
		if !n.TrialEnd.IsZero() {
			d.TrialEnd = p.Date(n.TrialEnd, time.UTC)
		}
		if !n.FailedAt.IsZero() && grace > 0 {
			d.GraceEnds = p.Date(n.FailedAt.Add(grace), time.UTC)
		}
		if n.Kind == app.NoticeTrialEnding {
			subject := p.T("mail.trial.subject", "AppName", appName, "Workspace", n.Workspace)
			return app.Email{To: n.To, Subject: subject, Text: render(trialEndingText, d),
				HTML: render(trialEndingHTML, d), Ref: "billing_trial_ending"}
		}
		return app.Email{To: n.To, Subject: p.T("mail.payment.subject", "Workspace", n.Workspace),
			Text: render(paymentFailedText, d), HTML: render(paymentFailedHTML, d), Ref: "billing_payment_failed"}
	}
}
