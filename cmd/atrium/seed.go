package main

import (
	"context"
	"fmt"
	"io"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/store"
	"atrium/internal/store/demo"
)

// runSeed handles "atrium seed [--force] [--volume small|large]": it loads
// the demo data, and is safe to run again. With --volume it then generates
// a large, deterministic data set on top.
func runSeed(ctx context.Context, args []string, env config.Env, stdout, stderr io.Writer) error {
	fs := newFlagSet("seed", "seed [--force] [--volume small|large]\n\n"+
		"  Loads demo data: founder@example.com (owner) and teammate@example.com (admin) in \"Acme Inc\"\n"+
		"  (acme, pro plan, fake Stripe ids) and \"Demo Studio\" (demo-studio, free), with pending and expired\n"+
		"  invites and audit entries. Running it again changes nothing: existing users (by email) and\n"+
		"  workspaces (by slug) are left as they are. No email is sent.\n\n"+
		"  --volume then generates a deterministic data set for load tests (on a fresh database): small is a few\n"+
		"  thousand rows; large is 100,000 users with live sessions, 20,000 workspaces (one, \"big\", with 2,000\n"+
		"  members, owned by the demo owner), 1,000,000 audit entries (100,000 in acme), 50,000 invites and\n"+
		"  200,000 Stripe events. It is refused when APP_ENV=production, even with --force.", stderr)
	force := fs.Bool("force", false, "seed even though APP_ENV=production")
	volumeName := fs.String("volume", "", "also generate the `size` data set: small or large")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("seed takes no arguments")
	}
	var volume demo.Volume
	if *volumeName != "" {
		v, err := demo.FindVolume(*volumeName)
		if err != nil {
			return usagef("seed: %s", app.ErrorMessage(err))
		}
		volume = v
	}
	cfg, err := loadConfig(env, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Database: %s\n", describeDB(cfg))
	if cfg.IsProduction() && volume.Name != "" {
		fmt.Fprintln(stderr, "atrium: refusing to seed a data volume: APP_ENV=production. Generated users and workspaces")
		fmt.Fprintln(stderr, "never belong in a production database; point DATABASE_URL at a scratch database.")
		return errSilent
	}
	if cfg.IsProduction() && !*force {
		fmt.Fprintln(stderr, "atrium: refusing to seed: APP_ENV=production. Demo accounts do not belong in a production database;")
		fmt.Fprintln(stderr, "point DATABASE_URL at a development database, or pass --force if you really mean it.")
		return errSilent
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := seedMigrate(ctx, db, cfg, stdout); err != nil {
		return err
	}
	res, err := db.SeedDemo(ctx)
	if err != nil {
		return err
	}
	for _, it := range res.Items {
		state := "exists "
		if it.Created {
			state = "created"
		}
		fmt.Fprintf(stdout, "  %s  %-9s %-22s %s\n", state, it.Kind, it.Key, it.Detail)
	}
	users, workspaces := res.Created("user"), res.Created("workspace")
	if users+workspaces == 0 {
		fmt.Fprintln(stdout, "Nothing to do: the demo data is already there (existing rows are never changed).")
	} else {
		fmt.Fprintf(stdout, "Seeded %d user(s) and %d workspace(s). No email was sent.\n", users, workspaces)
	}
	if volume.Name != "" {
		if err := seedVolume(ctx, db, volume, stdout); err != nil {
			return err
		}
	}
	if cfg.MailStub() {
		fmt.Fprintf(stdout, "Sign in as %s: run 'make dev' (or 'atrium serve'), open %s/login and copy the link from the log.\n",
			store.DemoOwnerEmail, cfg.AppURL)
	} else {
		fmt.Fprintf(stdout, "Sign-in links go by SMTP to %s, which reaches nobody: leave SMTP_HOST empty (stub mode) to sign in as the demo owner.\n",
			store.DemoOwnerEmail)
	}
	return nil
}

// seedMigrate brings the schema up to date first, as serve does, unless
// MIGRATE_ON_START=false asks for migrations to be run by hand.
func seedMigrate(ctx context.Context, db *store.DB, cfg *config.Config, stdout io.Writer) error {
	if !cfg.MigrateOnStart {
		n, err := db.PendingMigrations(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d migration(s) pending and MIGRATE_ON_START=false: run 'atrium migrate up' first", n)
		}
		return nil
	}
	applied, err := db.MigrateUp(ctx)
	if err != nil {
		return err
	}
	for _, m := range applied {
		fmt.Fprintf(stdout, "  applied migration %05d %s\n", m.Version, m.Name)
	}
	return nil
}
