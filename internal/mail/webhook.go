package mail

import (
	texttemplate "text/template"

	"atrium/internal/app"
)

// webhookDisabledData is what the endpoint-turned-off templates see.
type webhookDisabledData struct {
	AppName  string
	Endpoint string // the endpoint's label: scheme and host, never its path
	Reason   string
	Link     string
}

var webhookDisabledText = texttemplate.Must(texttemplate.New("webhook_disabled.txt").Parse(
	`Hi,

{{.AppName}} turned off the webhook endpoint {{.Endpoint}} of one of your
workspaces: {{.Reason}}

Events are no longer sent to it. Once the receiver works again, open the
workspace's Settings → Webhooks, turn the endpoint on, and replay what it
missed ("Replay every event since"):

{{.Link}}

{{.AppName}}
`))

var webhookDisabledHTML = htmlEmail("webhook_disabled.html", `{{define "title"}}Webhook endpoint turned off{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">Webhook endpoint turned off</h1>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.AppName}} turned off the webhook endpoint <strong>{{.Endpoint}}</strong> of one of your workspaces: {{.Reason}}</p>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">Events are no longer sent to it. Once the receiver works again, open the workspace’s Settings → Webhooks, turn the endpoint on, and replay what it missed.</p>
<p style="margin:0;"><a href="{{.Link}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">Open {{.AppName}}</a></p>
{{end}}`)

// WebhookDisabledNotices returns the builder of the email that tells a
// workspace's owners one of its webhook endpoints was turned off
// (store.WebhookService.Notice); link is where they sign in.
func WebhookDisabledNotices(appName, link string) func(to, endpoint, reason string) app.Email {
	return func(to, endpoint, reason string) app.Email {
		d := webhookDisabledData{AppName: appName, Endpoint: endpoint, Reason: reason, Link: link}
		return app.Email{To: to, Subject: "Webhook endpoint " + endpoint + " turned off",
			Text: render(webhookDisabledText, d), HTML: render(webhookDisabledHTML, d), Ref: "webhook_disabled"}
	}
}
