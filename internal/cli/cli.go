// Package cli is Steward's command line: one file per subcommand, each a
// type with its own flag set and a Run method.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/guard"
)

// command is one subcommand.
type command interface {
	Run(ctx context.Context, args []string) error
}

// group is a command made of subcommands (kb import, user add, ...):
// `steward GROUP -h` lists them.
type group interface {
	command
	subcommands() []string // one line each, as typed
}

// usageError is a mistake in the command line; it exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// Env is what a command may touch of the outside world.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// Run runs the command line args (without the program name) and returns the
// process exit status.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	commands := map[string]func() command{
		"serve":    func() command { return &serveCommand{env: env} },
		"migrate":  func() command { return &migrateCommand{env: env} },
		"kb":       func() command { return &kbCommand{env: env} },
		"version":  func() command { return &versionCommand{env: env} },
		"eval":     func() command { return &evalCommand{env: env} },
		"user":     func() command { return &userCommand{env: env} },
		"audit":    func() command { return &auditCommand{env: env} },
		"keys":     func() command { return &keysCommand{env: env} },
		"drill":    func() command { return &drillCommand{env: env} },
		"posture":  func() command { return &postureCommand{env: env} },
		"incident": func() command { return &incidentCommand{env: env} },
		"backup":   func() command { return &backupCommand{env: env} },
		"restore":  func() command { return &restoreCommand{env: env} },
	}
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args[0] = "version"
	}
	if len(args) == 2 && args[0] == "help" {
		args = []string{args[1], "-h"} // steward help kb = steward kb -h
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(env.Stdout, commands)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	mk, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "steward: unknown command %q\n", args[0])
		printUsage(env.Stderr, commands)
		return 2
	}
	cmd := mk()
	if g, ok := cmd.(group); ok && len(args) == 2 && (args[1] == "-h" || args[1] == "--help" || args[1] == "help") {
		fmt.Fprintf(env.Stdout, "Usage: steward %s SUBCOMMAND [flags]\n\n  steward %s\n\nRun 'steward %s SUBCOMMAND -h' for a subcommand's flags.\n",
			args[0], strings.Join(g.subcommands(), "\n  steward "), args[0])
		return 0
	}
	err := cmd.Run(ctx, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	if ue, ok := errors.AsType[*usageError](err); ok {
		fmt.Fprintf(env.Stderr, "steward %s: %s\nRun 'steward %s -h' for usage.\n", args[0], ue.msg, args[0])
		return 2
	}
	fmt.Fprintf(env.Stderr, "steward %s: %v\n", args[0], err)
	return 1
}

func printUsage(w io.Writer, commands map[string]func() command) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(w, `Steward: self-hosted customer service that answers in Chinese and English.

Usage: steward <command> [flags]

Commands:
  serve      run the server (steward serve --demo, then open http://127.0.0.1:8080/chat)
  migrate    apply database migrations
  kb         the knowledge base: kb import FILE, kb export [FILE], kb publish, kb rollback [--to ID],
             kb releases, kb diff A B, kb pending
  audit      read the audit trail, or check its hash chain (audit verify [--head SEQ:HASH])
  user       manage accounts (user add --email E --role R --password-stdin, user list, user disable|enable,
             user role EMAIL ROLE)
  posture    show or set the service posture of a running server (posture show|set|auto)
  incident   incidents of a running server (incident list|show|declare|update|resolve|postmortem)
  drill      run fault-injection drills and print their scorecards (drill all --json)
  eval       measure the NLU, the PII masking or the input firewall on a labelled data set
             (eval intent, eval sentiment, eval pii, eval firewall)
  keys       the keys sealing originals of personal data (keys list, keys rotate, keys import)
  backup     back up the database while it runs (backup [--out DIR]), check a backup by restoring it
             into a scratch location (backup verify BACKUP), list backups (backup list)
  restore    restore a verified backup into the configured database (restore --from BACKUP [--force])
  version    print the version

Run 'steward <command> -h' for a command's flags. (%s)
`, strings.Join(names, ", "))
}

// dbFlags are the flags every command that opens the database shares.
type dbFlags struct {
	configPath, dataDir, database string
}

func (d *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.configPath, "config", "", "YAML config file (STEWARD_* environment variables override it)")
	fs.StringVar(&d.dataDir, "data-dir", "", "directory of the embedded SQLite database (default ./data)")
	fs.StringVar(&d.database, "database", "", "PostgreSQL URL (postgres://...) instead of the embedded SQLite file")
}

// load returns the configuration: defaults, file, environment, then the
// flags that were set on the command line.
func (d *dbFlags) load(fs *flag.FlagSet, env Env, apply func(cfg *config.Config, set map[string]bool)) (config.Config, error) {
	cfg, err := config.Load(d.configPath, env.Getenv)
	if err != nil {
		return cfg, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	// serve and keys keep files of their own in the data directory (the
	// spool, the lock, the key file) beside a PostgreSQL database; for the
	// other commands --data-dir names the embedded database itself, and
	// wins over a database the config file or STEWARD_DATABASE names: a
	// restore meant for a scratch directory went to production instead.
	name := fs.Name()
	ownFiles := name == "serve" || strings.HasPrefix(name, "keys")
	if set["data-dir"] && set["database"] && !ownFiles {
		return cfg, usagef("give --data-dir DIR (the embedded SQLite database) or --database URL (PostgreSQL), not both")
	}
	if set["data-dir"] {
		cfg.DataDir = d.dataDir
		if !ownFiles {
			cfg.Database = ""
		}
	}
	if set["database"] {
		cfg.Database = d.database
	}
	if apply != nil {
		apply(&cfg, set)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

func newFlagSet(name string, env Env, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package's own lines are not printed: a mistake is said once,
	// by the error parse returns, and the usage asked for with -h goes to
	// standard output (steward serve -h | less), by parse.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fs.SetOutput(env.Stdout)
		defer fs.SetOutput(io.Discard)
		fmt.Fprintf(env.Stdout, "Usage: steward %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags wherever they stand among the positional arguments
// (`kb import FILE --data-dir DIR` as well as `kb import --data-dir DIR FILE`)
// and returns the positional ones. "--" ends the flags.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	// The flag package calls Usage on a mistake as well as on -h: only -h
	// prints it.
	usage := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = usage }()
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				usage()
				return nil, err
			}
			return nil, usagef("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional, args = append(positional, rest[0]), rest[1:]
	}
}

// newLogger builds the process logger from the configuration.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	// Every line is masked: no log carries a customer's phone, ID or card.
	if cfg.LogFormat == "json" {
		return slog.New(guard.LogHandler(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(guard.LogHandler(slog.NewTextHandler(w, opts)))
}
