package main

import (
	"context"
	"fmt"
	"io"

	"atrium/internal/config"
)

// runMigrate handles "atrium migrate up|down|status".
func runMigrate(ctx context.Context, args []string, env config.Env, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", "migrate up|down|status\n\n"+
		"  up      apply every pending migration\n"+
		"  down    roll back the newest applied migration\n"+
		"  status  list migrations and whether each is applied", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("migrate needs one of: up, down, status")
	}
	action := fs.Arg(0)
	switch action {
	case "up", "down", "status":
	default:
		return usagef("migrate: unknown action %q (want up, down or status)", action)
	}
	cfg, db, err := openConfigured(ctx, env, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "Database: %s\n", describeDB(cfg))

	switch action {
	case "up":
		applied, err := db.MigrateUp(ctx)
		if err != nil {
			return err
		}
		for _, m := range applied {
			fmt.Fprintf(stdout, "  applied %05d %s\n", m.Version, m.Name)
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "Nothing to apply: the database is up to date.")
		} else {
			fmt.Fprintf(stdout, "Applied %d migration(s). The database is up to date.\n", len(applied))
		}
	case "down":
		m, err := db.MigrateDown(ctx)
		if err != nil {
			return err
		}
		if m == nil {
			fmt.Fprintln(stdout, "Nothing to roll back: no migration is applied.")
			return nil
		}
		fmt.Fprintf(stdout, "  rolled back %05d %s\n", m.Version, m.Name)
		fmt.Fprintln(stdout, "Run 'atrium migrate up' to apply it again.")
	case "status":
		st, err := db.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		pending := 0
		for _, s := range st {
			state := "applied"
			if !s.Applied {
				state = "pending"
				pending++
			}
			fmt.Fprintf(stdout, "  %-8s %05d %s\n", state, s.Version, s.Name)
		}
		if pending > 0 {
			fmt.Fprintf(stdout, "%d pending: run 'atrium migrate up' (serve applies them at start unless MIGRATE_ON_START=false).\n", pending)
		} else {
			fmt.Fprintln(stdout, "All migrations are applied.")
		}
	}
	return nil
}

// describeDB names the database without its password.
func describeDB(cfg *config.Config) string {
	if cfg.Database.Driver == "sqlite" {
		return "sqlite:" + cfg.Database.DSN
	}
	return "postgres (" + redactURL(cfg.Database.DSN) + ")"
}
