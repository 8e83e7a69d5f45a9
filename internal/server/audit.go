package server

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/web/component"
	"atrium/web/page"
)

// auditPageSize is how many entries the audit page shows at once.
const auditPageSize = 50

// handleAudit handles "GET /w/{slug}/audit" (owners and admins): the
// workspace's audit log, newest first, filtered by ?actor=<user id> (or
// actor_email from older links), ?family=, ?action=<code>, and ?from= and
// ?to= dates (YYYY-MM-DD, inclusive, in the viewer's time zone), paged by
// keyset cursor both ways (?before= older, ?after= newer). A bad filter
// value is shown beside the form with a 422.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	p := app.PrincipalFromContext(r.Context())
	v := page.AuditView{URL: workspaceURL(sc.ws.Slug), Plan: s.auditPlan(r.Context(), sc.ws)}
	f, ok, err := s.auditFilter(r, sc.scope(), p.User.TimeZone, &v)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.auditChoices(r, sc.scope(), &v); err != nil {
		s.Error(w, r, err)
		return
	}
	if !ok {
		s.render(w, r, http.StatusUnprocessableEntity, page.Audit(s.workspacePage(w, r, i18n.T(r.Context(), "audit.title"), "audit"), v))
		return
	}
	var entries []*app.AuditEntry
	if f.Scope != (app.Scope{}) {
		if entries, err = s.Audit.FindAuditEntries(r.Context(), f); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	s.auditPaging(&v, f, entries)
	if len(entries) > auditPageSize {
		if f.After.ID != 0 && f.Before.ID == 0 {
			entries = entries[len(entries)-auditPageSize:]
		} else {
			entries = entries[:auditPageSize]
		}
	}
	v.Rows = make([]page.AuditRow, 0, len(entries))
	for _, e := range entries {
		v.Rows = append(v.Rows, s.auditRow(r.Context(), e, sc.ws, p.User.TimeZone))
	}
	s.render(w, r, http.StatusOK, page.Audit(s.workspacePage(w, r, i18n.T(r.Context(), "audit.title"), "audit"), v))
}

// auditPaging sets the newer and older links of a page read with f (one
// entry more than the page shows tells whether there is more that way).
func (s *Server) auditPaging(v *page.AuditView, f app.AuditFilter, entries []*app.AuditEntry) {
	if len(entries) == 0 {
		return
	}
	forward := f.After.ID != 0 && f.Before.ID == 0
	more := len(entries) > auditPageSize
	shown := entries
	if more {
		if forward {
			shown = entries[len(entries)-auditPageSize:]
		} else {
			shown = entries[:auditPageSize]
		}
	}
	newest, oldest := shown[0], shown[len(shown)-1]
	if more || forward {
		v.OlderURL = v.Query("before", formatAuditCursor(app.CursorOf(oldest)))
	}
	if (forward && more) || (!forward && f.Before.ID != 0) {
		v.NewerURL = v.Query("after", formatAuditCursor(app.CursorOf(newest)))
	}
}

// auditFilter reads the audit page's query into a filter of the workspace
// and fills the view's filter fields. It returns false, with v.Errors set,
// when a value is malformed. An actor_email that names no user gives a
// filter with the zero scope: nothing to look up.
func (s *Server) auditFilter(r *http.Request, sc app.Scope, tz string, v *page.AuditView) (app.AuditFilter, bool, error) {
	q := r.URL.Query()
	f := app.AuditFilter{Scope: sc, Limit: auditPageSize + 1}
	errs := map[string]string{}
	if a := q.Get("action"); a != "" {
		if app.CheckAuditAction(a) != nil {
			errs["action"] = i18n.T(r.Context(), "audit.filter.error.action")
		}
		f.Action, v.Action = a, a
	}
	if fam := q.Get("family"); fam != "" {
		if len(app.AuditActionsOf(app.AuditFamily(fam))) == 0 && app.AuditFamily(fam) != app.FamilyAPI {
			errs["family"] = i18n.T(r.Context(), "audit.filter.error.family")
		}
		f.Family, v.Family = app.AuditFamily(fam), fam
	}
	actor, known, err := s.auditActor(r, v, errs)
	if err != nil {
		return f, false, err
	}
	if !known {
		f.Scope = app.Scope{}
	}
	f.ActorID = actor
	loc := s.location(tz)
	day := func(field string) time.Time {
		raw := q.Get(field)
		if raw == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation(time.DateOnly, raw, loc)
		if err != nil {
			// The date picker sends YYYY-MM-DD whatever it shows; anything
			// else was typed into the address.
			errs[field] = i18n.T(r.Context(), "audit.filter.error.date")
		}
		return t
	}
	v.From, v.To = q.Get("from"), q.Get("to")
	f.From = day("from")
	if to := day("to"); !to.IsZero() {
		f.To = to.AddDate(0, 0, 1) // through the end of that day
		if !f.From.IsZero() && !f.To.After(f.From) {
			errs["to"] = i18n.T(r.Context(), "audit.filter.error.range")
		}
	}
	// The plan's history window bounds what is read (the entries stay).
	s.limitAuditHistory(&f, scopeFrom(r.Context()).ws)
	if c, ok := parseAuditCursor(q.Get("before")); ok {
		f.Before = c
	} else if c, ok := parseAuditCursor(q.Get("after")); ok {
		f.After = c
	}
	if len(errs) > 0 {
		v.Errors = errs
		return f, false, nil
	}
	return f, true, nil
}

// auditActor reads the person filter: ?actor=<user id> (the URL contract),
// or else an email from older links. It reports false when the email names
// no user, so that no entry can match.
func (s *Server) auditActor(r *http.Request, v *page.AuditView, errs map[string]string) (int64, bool, error) {
	q := r.URL.Query()
	if id := q.Get("actor"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			errs["actor"] = i18n.T(r.Context(), "audit.filter.error.actor")
		}
		v.Actor = id
		return n, true, nil
	}
	email := strings.TrimSpace(q.Get("actor_email"))
	if email == "" {
		return 0, true, nil
	}
	v.ActorEmail = email
	norm, err := app.NormalizeEmail(email)
	if err != nil {
		errs["actor"] = i18n.ErrorText(r.Context(), err)
		return 0, true, nil
	}
	id, err := s.Audit.FindAuditActorByEmail(r.Context(), scopeFrom(r.Context()).scope(), norm)
	switch {
	case app.ErrorCode(err) == app.ENOTFOUND:
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	v.Actor = strconv.FormatInt(id, 10)
	return id, true, nil
}

// auditPeopleListMax is the most people the audit filter lists; beyond
// it the filter asks for an email.
const auditPeopleListMax = 100

// auditChoices fills the filter form's lists: the people who acted in the
// workspace (or the email field, past auditPeopleListMax), the families
// and the actions of the catalog.
func (s *Server) auditChoices(r *http.Request, sc app.Scope, v *page.AuditView) error {
	people, err := s.Audit.FindAuditPeople(r.Context(), sc)
	if err != nil {
		return err
	}
	// Past auditPeopleListMax there are too many to list (and to send with
	// every view): the filter takes an email, and a person chosen by id (a
	// link from before) shows as their address.
	v.PersonByEmail = len(people) > auditPeopleListMax
	if !v.PersonByEmail {
		v.People = make([]component.Option, 0, len(people)+1)
		v.People = append(v.People, component.Option{Value: "", Label: i18n.T(r.Context(), "audit.filter.everyone")})
	}
	for _, p := range people {
		id := strconv.FormatInt(p.UserID, 10)
		if v.PersonByEmail && id != v.Actor {
			continue
		}
		label := p.Email
		if p.Name != "" {
			label = p.Name + " (" + p.Email + ")"
		}
		if id == v.Actor {
			v.ActorLabel = label
			if v.PersonByEmail {
				v.ActorEmail = p.Email
			}
		}
		if !v.PersonByEmail {
			v.People = append(v.People, component.Option{Value: id, Label: label})
		}
	}
	v.Families, v.Actions = s.auditFilterOptions(r.Context())
	return nil
}

// auditOptions are the family and action choices of the audit filter in
// one language.
type auditOptions struct{ families, actions []component.Option }

// auditFilterOptions returns the filter's family and action choices in
// ctx's language, made once per language and shared read-only: the
// catalog does not change while the server runs, and the list of every
// action is long.
func (s *Server) auditFilterOptions(ctx context.Context) (families, actions []component.Option) {
	lang := i18n.Lang(ctx)
	if o, ok := s.auditChoiceCache.Load(lang); ok {
		return o.(auditOptions).families, o.(auditOptions).actions
	}
	o := auditOptions{families: []component.Option{{Value: "", Label: i18n.T(ctx, "audit.filter.all_kinds")}},
		actions: []component.Option{{Value: "", Label: i18n.T(ctx, "audit.filter.all_actions")}}}
	for _, f := range app.AuditFamilies() {
		o.families = append(o.families, component.Option{Value: string(f), Label: auditFamilyLabel(ctx, f)})
	}
	for _, a := range app.AuditActions() {
		o.actions = append(o.actions, component.Option{Value: a.Code, Label: auditActionLabel(ctx, a)})
	}
	// Clipped, so that a caller's append copies instead of writing into
	// the shared lists.
	o.families, o.actions = slices.Clip(o.families), slices.Clip(o.actions)
	s.auditChoiceCache.Store(lang, o)
	return o.families, o.actions
}

// formatAuditCursor writes a cursor as "<unix microseconds>-<id>".
func formatAuditCursor(c app.AuditCursor) string {
	return strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "-" + strconv.FormatInt(c.ID, 10)
}

// parseAuditCursor reads a cursor formatAuditCursor wrote; anything else
// means no cursor (the first page).
func parseAuditCursor(raw string) (app.AuditCursor, bool) {
	us, id, ok := strings.Cut(raw, "-")
	if !ok {
		return app.AuditCursor{}, false
	}
	t, err1 := strconv.ParseInt(us, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || n <= 0 {
		return app.AuditCursor{}, false
	}
	return app.AuditCursor{CreatedAt: time.UnixMicro(t).UTC(), ID: n}, true
}

// auditRow turns an entry into a line a person can read in ctx's
// language: the sentence with the actor's name (email on hover) in its
// place, and when, relative to now with the time in the viewer's zone on
// hover.
func (s *Server) auditRow(ctx context.Context, e *app.AuditEntry, ws *app.Workspace, tz string) page.AuditRow {
	who := auditWho(ctx, e)
	return page.AuditRow{
		ID:         e.ID,
		Actor:      who,
		ActorEmail: e.ActorEmail,
		Summary:    auditSentence(ctx, e, page.AuditActor(who, e.ActorEmail)),
		When:       i18n.Ago(ctx, s.Now(), e.CreatedAt),
		WhenFull:   s.formatTime(ctx, e.CreatedAt, tz),
		WhenISO:    e.CreatedAt.UTC().Format(time.RFC3339),
		DetailURL:  wsPath(ws, "/audit/"+strconv.FormatInt(e.ID, 10)),
	}
}
