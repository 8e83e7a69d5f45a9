package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/store"
)

const auditSynopsis = `audit verify [--workspace SLUG] | head | prune --before DATE [--yes] | export --workspace SLUG [--format csv|jsonl] [--since DATE] [--until DATE]

  verify  walk each hash chain and report rows checked and the first broken link (exit 1 on a break)
  head    print each chain's newest id and hash, and where it starts: record them outside the database daily
  prune   delete entries created before DATE (YYYY-MM-DD, UTC), keeping a checkpoint so verify passes
  export  write a workspace's entries to stdout, newest first (since/until: YYYY-MM-DD, UTC, inclusive)`

// runAudit handles "atrium audit verify|head|prune|export": the audit
// log's tamper evidence and export on the command line.
func runAudit(ctx context.Context, args []string, env config.Env, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit", auditSynopsis, stderr)
	slug := fs.String("workspace", "", "the `slug` of one workspace")
	before := fs.String("before", "", "prune entries created before this `date` (YYYY-MM-DD)")
	yes := fs.Bool("yes", false, "really prune")
	format := fs.String("format", app.ExportCSV, "export `format`: csv or jsonl")
	since := fs.String("since", "", "export entries from this `date` on (YYYY-MM-DD)")
	until := fs.String("until", "", "export entries up to and including this `date` (YYYY-MM-DD)")
	action, err := parseAction(fs, args, "an action: verify, head, prune or export")
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("audit %s takes no arguments", action)
	}
	var cut, from, to time.Time
	day := func(name, raw string, dst *time.Time) error {
		if raw == "" {
			return nil
		}
		t, err := time.Parse(time.DateOnly, raw)
		if err != nil {
			return usagef("audit %s: --%s %q: want YYYY-MM-DD", action, name, raw)
		}
		*dst = t
		return nil
	}
	switch action {
	case "verify", "head":
	case "prune":
		if *before == "" {
			return usagef("audit prune needs --before DATE")
		}
		if err := day("before", *before, &cut); err != nil {
			return err
		}
	case "export":
		if *slug == "" {
			return usagef("audit export needs --workspace SLUG")
		}
		if *format != app.ExportCSV && *format != app.ExportJSONL {
			return usagef("audit export: --format must be csv or jsonl")
		}
		if err := day("since", *since, &from); err != nil {
			return err
		}
		if err := day("until", *until, &to); err != nil {
			return err
		}
	default:
		return usagef("audit: unknown action %q (want verify, head, prune or export)", action)
	}
	if action == "prune" && !*yes {
		fmt.Fprintf(stdout, "This deletes every audit entry created before %s (UTC) and cannot be undone.\n", cut.Format(time.DateOnly))
		fmt.Fprintln(stdout, "Export or back up the log first, then run it again with --yes.")
		return errSilent
	}
	_, db, err := openConfigured(ctx, env, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	var wsID int64
	if *slug != "" {
		ws, err := store.NewBillingService(db).FindWorkspaceBySlug(ctx, *slug)
		if err != nil {
			return fmt.Errorf("%s", app.ErrorMessage(err))
		}
		wsID = ws.ID
	}
	switch action {
	case "verify":
		return auditVerify(ctx, db, store.VerifyOptions{WorkspaceID: wsID, Only: *slug != ""}, stdout)
	case "head":
		return auditHead(ctx, db, stdout)
	case "prune":
		res, err := db.PruneAudit(ctx, cut)
		if app.ErrorCode(err) == app.EINVALID || app.ErrorCode(err) == app.ECONFLICT {
			return fmt.Errorf("%s", app.ErrorMessage(err))
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Pruned %d entries from %d chain(s), created before %s. The checkpoints keep 'atrium audit verify' passing;\n",
			res.Deleted, res.Chains, cut.Format(time.DateOnly))
		fmt.Fprintln(stdout, "each pruned chain names its checkpoint in an "+app.ActionAuditPruned+" entry. Record the new heads: 'atrium audit head'.")
		return nil
	default:
		f := app.AuditFilter{Scope: app.Scope{WorkspaceID: wsID}, From: from}
		if !to.IsZero() {
			f.To = to.AddDate(0, 0, 1)
		}
		svc := store.NewOperatorAuditService(db)
		n, err := app.ExportAudit(ctx, svc, f, *format, stdout, nil)
		if err != nil {
			return err
		}
		md := map[string]any{"format": *format, "rows": n, "via": "command line"}
		if *since != "" {
			md["since"] = *since
		}
		if *until != "" {
			md["until"] = *until
		}
		if err := svc.RecordAuditExport(ctx, app.Scope{WorkspaceID: wsID}, md); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "Exported %d entries of %s as %s; the export is in the log as %s.\n", n, *slug, *format, app.ActionAuditExported)
		return nil
	}
}

// auditVerify walks the chains with a progress bar and reports each.
func auditVerify(ctx context.Context, db *store.DB, o store.VerifyOptions, stdout io.Writer) error {
	start := time.Now()
	bar := newProgressBar(stdout, isTerminal(stdout), start)
	o.Progress = bar.update
	reps, err := db.VerifyAudit(ctx, o)
	bar.finish()
	if err != nil {
		return err
	}
	var rows int64
	broken := 0
	for _, r := range reps {
		rows += r.Checked
		if r.Break == nil {
			fmt.Fprintf(stdout, "ok    %-24s %d entries\n", chainName(r.WorkspaceID, r.Slug), r.Checked)
			continue
		}
		broken++
		fmt.Fprintf(stdout, "BROKEN %-23s %d entries checked; first broken link at id %d (%s): expected %s, found %s\n",
			chainName(r.WorkspaceID, r.Slug), r.Checked, r.Break.ID, r.Break.Field, r.Break.Expected, r.Break.Found)
	}
	fmt.Fprintf(stdout, "Checked %d entries in %d chain(s) in %s.\n", rows, len(reps), time.Since(start).Round(time.Millisecond))
	if broken > 0 {
		fmt.Fprintf(stdout, "%d chain(s) are broken: the log was changed outside the app. See RUNBOOK.md, \"Suspect the log was altered\".\n", broken)
		return errSilent
	}
	fmt.Fprintln(stdout, "Every chain is intact. Compare the heads ('atrium audit head') with those you recorded earlier.")
	return nil
}

// auditHead prints each chain's newest id and hash.
func auditHead(ctx context.Context, db *store.DB, stdout io.Writer) error {
	heads, err := db.AuditHeads(ctx)
	if err != nil {
		return err
	}
	for _, h := range heads {
		// The start is printed too: a chain whose oldest entries were
		// removed behind the app's back keeps its head but not its start.
		fmt.Fprintf(stdout, "%-24s id %d  %s  from id %d  %s\n", chainName(h.WorkspaceID, h.Slug), h.HeadID, h.HeadHash,
			h.PrunedID, startHash(h.PrunedHash))
	}
	fmt.Fprintf(stdout, "%d chain(s) at %s. Write these lines to your ticket system or object store daily:\n", len(heads),
		time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintln(stdout, "a later 'atrium audit verify' proves nothing about entries before a change unless the heads were kept elsewhere.")
	return nil
}

// startHash is how auditHead prints a chain's checkpoint hash: "-" for a
// chain never pruned.
func startHash(h string) string {
	if h == "" {
		return "-"
	}
	return h
}

// chainName names a chain for people: the workspace's slug, its id when
// the workspace is gone, or "(no workspace)".
func chainName(id int64, slug string) string {
	switch {
	case id == 0:
		return "(no workspace)"
	case slug == "":
		return fmt.Sprintf("workspace #%d (deleted)", id)
	}
	return slug
}
