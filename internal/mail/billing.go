package mail

import (
	texttemplate "text/template"
	"time"

	"atrium/internal/app"
)

// billingNoticeData is what the billing notice templates see.
type billingNoticeData struct {
	AppName    string
	Workspace  string
	TrialEnd   string // "14 Dec 2026"
	GraceEnds  string
	InvoiceURL string
	Billing    string // the workspace's billing page
}

var trialEndingText = texttemplate.Must(texttemplate.New("trial_ending.txt").Parse(
	`Hi,

The Pro trial of {{.Workspace}} on {{.AppName}} ends on {{.TrialEnd}}.

To keep Pro, add a payment method before then on the workspace's billing
page. Without one, the workspace moves to the Free plan: nothing is
deleted, but it can't grow past the Free plan's limits.

{{.Billing}}

{{.AppName}}
`))

var trialEndingHTML = htmlEmail("trial_ending.html", `{{define "title"}}Your Pro trial ends soon{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">Your Pro trial ends on {{.TrialEnd}}</h1>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">The Pro trial of <strong>{{.Workspace}}</strong> on {{.AppName}} ends on {{.TrialEnd}}. To keep Pro, add a payment method before then.</p>
<p style="margin:0 0 24px;"><a href="{{.Billing}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">Open billing</a></p>
<p style="margin:0;font-size:13px;line-height:1.5;color:#52525b;">Without a payment method the workspace moves to the Free plan: nothing is deleted, but it can't grow past the Free plan's limits.</p>
{{end}}`)

var paymentFailedText = texttemplate.Must(texttemplate.New("payment_failed.txt").Parse(
	`Hi,

A payment for {{.Workspace}} on {{.AppName}} failed. Stripe will try again,
but you can pay the invoice now:

{{.InvoiceURL}}

{{if .GraceEnds}}If it is still unpaid on {{.GraceEnds}}, the workspace keeps working but
refuses new members, invites, API keys and webhooks until it is paid.
{{end}}
The workspace's billing page:

{{.Billing}}

{{.AppName}}
`))

var paymentFailedHTML = htmlEmail("payment_failed.html", `{{define "title"}}A payment failed{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">A payment for {{.Workspace}} failed</h1>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">A payment for <strong>{{.Workspace}}</strong> on {{.AppName}} failed. Stripe will try again, but you can pay the invoice now.</p>
<p style="margin:0 0 24px;"><a href="{{.InvoiceURL}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">Pay the invoice</a></p>
{{if .GraceEnds}}<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">If it is still unpaid on {{.GraceEnds}}, the workspace keeps working but refuses new members, invites, API keys and webhooks until it is paid.</p>{{end}}
<p style="margin:0;font-size:13px;line-height:1.5;color:#52525b;">The workspace’s <a href="{{.Billing}}">billing page</a> shows its invoices.</p>
{{end}}`)

// BillingNotices returns the builder of the emails that tell a
// workspace's owners its trial ends soon or a payment failed
// (store.BillingService.Notice); appURL is the server's public URL and
// grace the dunning grace period.
func BillingNotices(appName, appURL string, grace time.Duration) func(n app.BillingNotice) app.Email {
	return func(n app.BillingNotice) app.Email {
		d := billingNoticeData{AppName: appName, Workspace: n.Workspace, InvoiceURL: n.InvoiceURL,
			Billing: appURL + "/w/" + n.Slug + "/billing"}
		if d.InvoiceURL == "" {
			d.InvoiceURL = d.Billing
		}
		if !n.TrialEnd.IsZero() {
			d.TrialEnd = n.TrialEnd.UTC().Format("2 Jan 2006")
		}
		if !n.FailedAt.IsZero() && grace > 0 {
			d.GraceEnds = n.FailedAt.Add(grace).UTC().Format("2 Jan 2006")
		}
		if n.Kind == app.NoticeTrialEnding {
			subject := "Your " + appName + " Pro trial for " + n.Workspace + " ends soon"
			return app.Email{To: n.To, Subject: subject, Text: render(trialEndingText, d),
				HTML: render(trialEndingHTML, d), Ref: "billing_trial_ending"}
		}
		return app.Email{To: n.To, Subject: "A payment for " + n.Workspace + " failed",
			Text: render(paymentFailedText, d), HTML: render(paymentFailedHTML, d), Ref: "billing_payment_failed"}
	}
}
