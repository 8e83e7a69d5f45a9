// Command atrium runs the Atrium web app and its operator commands.
//
// Usage: atrium [--env-file FILE] <command> [flags]. Run "atrium help" for
// the list of commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // time zones work on hosts without a zoneinfo database

	"atrium/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], config.FromOS(), os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is a mistake in how a command was called: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// silentError is a failure whose explanation was already printed.
var errSilent = errors.New("failed")

// exitCode prints err (unless it was already explained) and returns the
// process status: 0 ok, 1 failure, 2 usage.
func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "atrium:", ue.msg)
		fmt.Fprintln(stderr, "Run 'atrium help' for usage.")
		return 2
	case errors.Is(err, errSilent):
		return 1
	default:
		fmt.Fprintln(stderr, "atrium:", err)
		return 1
	}
}

const usageText = `Atrium — a multi-tenant SaaS starter.

Usage:
  atrium [--env-file FILE] <command> [flags]

Commands:
  serve          run the web server (the default command)
  migrate        apply, roll back or list database migrations (up | down | status)
  migrate-data   copy every table into a new database: --from sqlite:PATH --to postgres://…
  check-config   validate the configuration and the public-variable secret guard
  billing        repair billing state: sync --workspace SLUG | replay EVENT_ID | restrict
  seed           load demo data (idempotent; refused when APP_ENV=production without --force)
  backup         write a checked backup of the database and its .sha256 [--out FILE]
  restore        verify a backup and put it in place of the database [--force] FILE
  audit          the audit log: verify [--workspace SLUG] | head | prune --before DATE [--yes] | export --workspace SLUG
  user           support actions on one account: reset-2fa --email EMAIL --reason TEXT
  jobs           the job queue: list [--state STATE] | retry ID | cancel ID
  staff          the operator console's staff: grant --email EMAIL | revoke --email EMAIL | list
  workspace      support actions on one workspace: sso-off --slug SLUG --reason TEXT
  doctor         run the routine checks: ok, warn or FAIL with the fix [--send-test-invite EMAIL]
  version        print the version
  help           show this help

Configuration comes from the environment, and from FILE (default .env) for
variables the environment leaves unset. Run 'atrium <command> --help' for a
command's flags.
`

// run is the whole program: main only adds the process's environment,
// signals and exit status, so tests can drive it directly.
func run(ctx context.Context, args []string, env config.Env, stdout, stderr io.Writer) error {
	global := flag.NewFlagSet("atrium", flag.ContinueOnError)
	global.SetOutput(stderr)
	envFile := global.String("env-file", ".env", "read unset variables from this `file` (empty: none)")
	global.Usage = func() { fmt.Fprint(stderr, usageText) }
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	args = global.Args()
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if *envFile != "" {
		fileEnv, err := config.LoadDotEnv(*envFile)
		if err != nil {
			return err
		}
		env = env.WithDefaults(fileEnv)
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, env, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args, env, stdout, stderr)
	case "migrate-data":
		return runMigrateData(ctx, args, env, stdout, stderr)
	case "check-config":
		return runCheckConfig(args, env, stdout, stderr)
	case "billing":
		return runBilling(ctx, args, env, stdout, stderr)
	case "seed":
		return runSeed(ctx, args, env, stdout, stderr)
	case "backup":
		return runBackup(ctx, args, env, stdout, stderr)
	case "restore":
		return runRestore(ctx, args, env, stdout, stderr)
	case "doctor":
		return runDoctor(ctx, args, env, stdout, stderr)
	case "audit":
		return runAudit(ctx, args, env, stdout, stderr)
	case "jobs":
		return runJobs(ctx, args, env, stdout, stderr)
	case "user":
		return runUser(ctx, args, env, stdout, stderr)
	case "staff":
		return runStaff(ctx, args, env, stdout, stderr)
	case "workspace":
		return runWorkspace(ctx, args, env, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "atrium", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usageText)
		return nil
	default:
		return usagef("unknown command %q", cmd)
	}
}

// newFlagSet returns a flag set whose --help prints the command's synopsis.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: atrium %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses a command's flags, mapping mistakes to usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%s: %v", fs.Name(), err)
	}
	return nil
}

// parseAction reads the action word a command starts with, then the flags
// after it. "help" (or -h) prints the command's usage and returns
// flag.ErrHelp; a missing action is a usage error saying what the command
// needs.
func parseAction(fs *flag.FlagSet, args []string, needs string) (string, error) {
	if len(args) == 0 {
		return "", usagef("%s needs %s", fs.Name(), needs)
	}
	action := args[0]
	if action == "-h" || action == "--help" || action == "help" {
		fs.Usage()
		return "", flag.ErrHelp
	}
	return action, parseFlags(fs, args[1:])
}

// loadConfig loads and validates the configuration, printing every problem
// on its own line.
func loadConfig(env config.Env, stderr io.Writer) (*config.Config, error) {
	cfg, err := config.Load(env)
	if err != nil {
		fmt.Fprintln(stderr, "atrium: the configuration is not valid:")
		fmt.Fprintln(stderr, indent(err.Error()))
		fmt.Fprintln(stderr, "Fix the variables above (see .env.example), then run 'atrium check-config'.")
		return nil, errSilent
	}
	return cfg, nil
}

func indent(s string) string {
	out := "  "
	for _, r := range s {
		out += string(r)
		if r == '\n' {
			out += "  "
		}
	}
	return out
}
