package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"atrium/internal/config"
	"atrium/internal/store"
	"atrium/internal/store/ops"
)

// runMigrateData handles "atrium migrate-data --from URL --to URL": it
// copies every table of one database into another, empty one, a
// transaction per table, checking row counts.
func runMigrateData(ctx context.Context, args []string, env config.Env, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate-data", "migrate-data --from sqlite:PATH --to postgres://…\n\n"+
		"  Copies every table of the --from database into the --to database, one transaction per table,\n"+
		"  and checks that each table ends with as many rows as it has in the source. Stop the app first.\n"+
		"  The target is migrated, and must be empty; a copy that was interrupted can be run again and\n"+
		"  goes on from the first table it did not finish.", stderr)
	from := fs.String("from", "", "the database to copy from (like DATABASE_URL; usually sqlite:data/atrium.db)")
	to := fs.String("to", "", "the empty database to copy into (like DATABASE_URL; usually postgres://…)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *from == "" || *to == "" {
		return usagef("migrate-data needs --from and --to, and no other arguments")
	}
	srcCfg, err := config.ParseDatabaseURL("--from", *from)
	if err != nil {
		return usagef("%v", err)
	}
	dstCfg, err := config.ParseDatabaseURL("--to", *to)
	if err != nil {
		return usagef("%v", err)
	}
	if srcCfg == dstCfg {
		return usagef("migrate-data: --from and --to are the same database")
	}
	open := func(d config.Database, role string) (*store.DB, error) {
		db, err := store.Open(ctx, d.Driver, d.DSN, store.Options{MaxOpenConns: 4})
		if err != nil {
			return nil, fmt.Errorf("%s database: %w", role, err)
		}
		return db, nil
	}
	src, err := open(srcCfg, "source")
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := open(dstCfg, "target")
	if err != nil {
		return err
	}
	defer dst.Close()
	fmt.Fprintf(stdout, "From: %s\nTo:   %s\n", describeDatabase(srcCfg), describeDatabase(dstCfg))

	applied, err := dst.MigrateUp(ctx)
	if err != nil {
		return fmt.Errorf("target database: %w", err)
	}
	if len(applied) > 0 {
		fmt.Fprintf(stdout, "Target migrated: %d migration(s) applied.\n", len(applied))
	}
	var tables int
	var rows int64
	err = ops.CopyData(ctx, src, dst, func(tc ops.TableCopy) {
		tables++
		rows += tc.Rows
		state := "copied "
		if tc.Resumed {
			state = "already"
		}
		fmt.Fprintf(stdout, "  %s %-14s %7d rows, counts match\n", state, tc.Table, tc.Rows)
	})
	if errors.Is(err, ops.ErrTargetNotEmpty) {
		fmt.Fprintln(stderr, "atrium: refusing to copy:", err)
		fmt.Fprintln(stderr, "migrate-data fills a new database; point --to at an empty one (it is migrated for you).")
		return errSilent
	}
	if err != nil {
		fmt.Fprintln(stderr, "atrium: the copy stopped:", err)
		fmt.Fprintln(stderr, "Tables listed above are committed. Fix the cause and run the same command again: it goes on from there.")
		return errSilent
	}
	fmt.Fprintf(stdout, "Copied %d tables, %d rows; mail still waiting to be sent is queued in the target's job queue.\n", tables, rows)
	fmt.Fprintln(stdout, "Point DATABASE_URL at the target and start the app.")
	return nil
}

func describeDatabase(d config.Database) string {
	if d.Driver == config.DriverSQLite {
		return "sqlite:" + d.DSN
	}
	return "postgres (" + redactURL(d.DSN) + ")"
}
