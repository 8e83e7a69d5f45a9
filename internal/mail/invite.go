package mail

import (
	"strings"
	texttemplate "text/template"
	"unicode"

	"atrium/internal/app"
)

// inviteData is what the invite templates see.
type inviteData struct {
	AppName   string
	Workspace string
	Inviter   string
	Role      string
	Link      string
	Days      int
	Test      bool
}

var inviteText = texttemplate.Must(texttemplate.New("invite.txt").Parse(
	`Hi,
{{if .Test}}
This is a test invite from {{.AppName}}. It checks that email delivery works;
it does not add you to any workspace.
{{else}}
{{.Inviter}} invited you to join {{.Workspace}} on {{.AppName}} as {{.Role}}.

Accept the invite here:

{{.Link}}

The link is valid for {{.Days}} days and works for this email address only.
If you were not expecting this invite, you can ignore this email.
{{end}}
{{.AppName}}
`))

var inviteHTML = htmlEmail("invite.html", `{{define "title"}}{{if .Test}}Test invite{{else}}Join {{.Workspace}}{{end}}{{end}}
{{define "content"}}
{{if .Test}}
<h1 style="margin:0 0 16px;font-size:20px;">Test invite from {{.AppName}}</h1>
<p style="margin:0;font-size:15px;line-height:1.5;">Email delivery works. This test does not add you to any workspace.</p>
{{else}}
<h1 style="margin:0 0 16px;font-size:20px;">Join {{.Workspace}}</h1>
<p style="margin:0 0 24px;font-size:15px;line-height:1.5;">{{.Inviter}} invited you to join <strong>{{.Workspace}}</strong> on {{.AppName}} as {{.Role}}.</p>
<p style="margin:0 0 24px;"><a href="{{.Link}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">View invite</a></p>
<p style="margin:0;font-size:13px;line-height:1.5;color:#52525b;">The link is valid for {{.Days}} days and works for this email address only. If the button does not work, copy this address into your browser:<br><a href="{{.Link}}" style="color:#2563eb;word-break:break-all;">{{.Link}}</a></p>
{{end}}
{{end}}`)

// InviteEmail renders the email inviting to to join workspace.
func InviteEmail(appName, to, workspace, inviter string, role app.Role, link string) app.Email {
	d := inviteData{AppName: appName, Workspace: workspace, Inviter: inviter, Role: role.Label(), Link: link,
		Days: int(app.InviteTTL.Hours() / 24)}
	return app.Email{To: to, Subject: SubjectName(inviter) + " invited you to " + SubjectName(workspace) + " on " + appName,
		Text: render(inviteText, d), HTML: render(inviteHTML, d)}
}

// TestInviteEmail renders the invite-style email an operator sends to
// themselves to check SMTP; it carries no link and grants nothing.
func TestInviteEmail(appName, to string) app.Email {
	d := inviteData{AppName: appName, Test: true}
	return app.Email{To: to, Subject: "Test invite from " + appName, Text: render(inviteText, d),
		HTML: render(inviteHTML, d), Ref: "test-invite"}
}

// MaxSubjectName is the most characters of a user-chosen name a subject
// line shows.
const MaxSubjectName = 60

// SubjectName returns a name someone chose (a display name, a workspace
// name) as a subject line shows it: in quotes, so it cannot pass for the
// sentence around it; without control or bidirectional-formatting
// characters and with runs of spaces collapsed; and at most MaxSubjectName
// characters, cut with an ellipsis.
func SubjectName(name string) string {
	var b strings.Builder
	n, space := 0, false
	for _, r := range name {
		switch {
		case unicode.IsSpace(r):
			space = n > 0
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\uFEFF', r == '\u200B':
			continue
		case r == '"' || r == '\u201C' || r == '\u201D':
			r = '\''
		}
		if space {
			b.WriteRune(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	runes := []rune(b.String())
	if len(runes) > MaxSubjectName {
		runes = append(runes[:MaxSubjectName-1], '…')
	}
	return "“" + string(runes) + "”"
}
