package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/steward-cs/steward/internal/app"
	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/quality"
	"github.com/steward-cs/steward/internal/store"
)

type kbCommand struct{ env Env }

// kbSubcommands are the group's subcommands as typed, for -h and usage errors.
var kbSubcommands = []string{"kb import FILE|- [--no-publish] [--override REASON]", "kb export [FILE]", "kb publish [--note TEXT] [--override REASON]",
	"kb rollback [--to ID]", "kb releases", "kb diff A B", "kb pending"}

var kbUsage = strings.Join(kbSubcommands, " | ")

func (c *kbCommand) subcommands() []string { return kbSubcommands }

func (c *kbCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: %s", kbUsage)
	}
	switch args[0] {
	case "import":
		return c.importEntries(ctx, args[1:])
	case "export":
		return c.exportEntries(ctx, args[1:])
	case "publish":
		return c.publish(ctx, args[1:])
	case "rollback":
		return c.rollback(ctx, args[1:])
	case "releases":
		return c.releases(ctx, args[1:])
	case "diff":
		return c.diff(ctx, args[1:])
	case "pending":
		return c.pending(ctx, args[1:])
	}
	return usagef("unknown kb subcommand %q (want %s)", args[0], kbUsage)
}

// kbSession is an open store with the knowledge service over it.
type kbSession struct {
	st *store.DB
	kb *knowledge.Service
}

func (c *kbCommand) open(ctx context.Context, fs *flag.FlagSet, db *dbFlags, create bool) (*kbSession, error) {
	st, cfg, err := openStoreAt(ctx, c.env, fs, db, create)
	if err != nil {
		return nil, err
	}
	builtin, err := conversation.LoadBuiltin()
	if err != nil {
		st.Close(context.Background())
		return nil, err
	}
	logger := newLogger(cfg, c.env.Stderr)
	kb := app.NewKnowledge(cfg, st, builtin, nil, audit.New(st, logger), quality.NewFlags(st), logger, nil)
	return &kbSession{st: st, kb: kb}, nil
}

func (s *kbSession) close() { s.st.Close(context.Background()) }

// operator is who runs the command, for the history and the audit trail.
func operator(env Env) knowledge.Actor {
	name := env.Getenv("USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	if name == "" {
		name = "operator"
	}
	return knowledge.Actor{ID: "cli:" + name, Name: name + " (command line)"}
}

func (c *kbCommand) importEntries(ctx context.Context, args []string) error {
	fs := newFlagSet("kb import", c.env, "kb import FILE|- [--format yaml|json] [--no-publish] [--override REASON] [--data-dir DIR | --database URL]")
	var db dbFlags
	db.register(fs)
	format := fs.String("format", "", "file format: yaml or json (default: from the file name)")
	noPublish := fs.Bool("no-publish", false, "only import (as approved entries); publish later with `steward kb publish`")
	override := fs.String("override", "", "publish even if the quality gate refuses, recording this reason")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("give exactly one file to import (or - for standard input)")
	}
	name := rest[0]
	f, err := formatFor(name, *format)
	if err != nil {
		return usagef("%v", err)
	}
	var r io.Reader = c.env.Stdin
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return err
		}
		defer file.Close()
		r = file
	}
	entries, err := knowledge.Decode(r, f)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	s, err := c.open(ctx, fs, &db, true)
	if err != nil {
		return err
	}
	defer s.close()
	res, err := s.kb.Import(ctx, operator(c.env), entries, true)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "imported %d entries (%d new, %d changed, %d unchanged)\n", len(entries), res.Created,
		res.Changed, res.Unchanged)
	if res.Rejected > 0 {
		fmt.Fprintf(c.env.Stdout, "%d entries match a version a reviewer rejected: left rejected (see `steward kb pending`)\n", res.Rejected)
	}
	if *noPublish {
		fmt.Fprintln(c.env.Stdout, "publish them with `steward kb publish`")
		return nil
	}
	// Nothing to publish is judged by what a release would ship, not by
	// what this import changed: the same file again with --override after
	// the gate refused it (or after --no-publish) changed nothing, and
	// published nothing either, exiting 0.
	if pending, err := s.kb.Pending(ctx); err != nil {
		return err
	} else if len(pending.Added)+len(pending.Removed)+len(pending.Changed) == 0 {
		if active, err := s.st.ActiveRelease(ctx); err == nil && active != 0 {
			fmt.Fprintf(c.env.Stdout, "nothing changed; release %d stays active\n", active)
			return nil
		}
	}
	return c.doPublish(ctx, s, knowledge.PublishOptions{Note: "import of " + name, Override: *override != "",
		Reason: *override}, false)
}

func (c *kbCommand) publish(ctx context.Context, args []string) error {
	fs := newFlagSet("kb publish", c.env, "kb publish [--note TEXT] [--override REASON] [--json] [--data-dir DIR | --database URL]")
	var db dbFlags
	db.register(fs)
	note := fs.String("note", "", "what this release is for")
	override := fs.String("override", "", "publish even if the quality gate refuses, recording this reason")
	asJSON := fs.Bool("json", false, "print the release (or the refusing report) as JSON")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usagef("kb publish takes no arguments")
	}
	s, err := c.open(ctx, fs, &db, false)
	if err != nil {
		return err
	}
	defer s.close()
	return c.doPublish(ctx, s, knowledge.PublishOptions{Note: *note, Override: *override != "", Reason: *override}, *asJSON)
}

func (c *kbCommand) doPublish(ctx context.Context, s *kbSession, opts knowledge.PublishOptions, asJSON bool) error {
	rel, err := s.kb.Publish(ctx, operator(c.env), opts)
	if gate, ok := errors.AsType[*knowledge.GateError](err); ok {
		if asJSON {
			writeJSONOut(c.env.Stdout, map[string]any{"refused": true, "report": gate.Report})
		}
		return fmt.Errorf("%w\n(fix the entries, or publish anyway with --override REASON)", err)
	}
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSONOut(c.env.Stdout, rel)
	}
	fmt.Fprintf(c.env.Stdout, "published and activated release %d: %d entries (%d essential)\n  %s\n", rel.ID, rel.Entries,
		rel.Minimal, strings.ReplaceAll(rel.Quality.Summary(), "\n", "\n  "))
	if rel.Override != nil {
		fmt.Fprintf(c.env.Stdout, "  the gate refused it; published anyway: %s\n", rel.Override.Reason)
	}
	fmt.Fprintln(c.env.Stdout, "a running server switches to it within a few seconds")
	return nil
}

func (c *kbCommand) rollback(ctx context.Context, args []string) error {
	fs := newFlagSet("kb rollback", c.env, "kb rollback [--to ID] [--reason TEXT] [--data-dir DIR | --database URL]")
	var db dbFlags
	db.register(fs)
	to := fs.Int64("to", 0, "the release to activate (default: the newest good release before the active one)")
	reason := fs.String("reason", "", "why, for the audit trail")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usagef("kb rollback takes no arguments (use --to ID)")
	}
	if *to < 0 {
		return usagef("--to must be a release id")
	}
	s, err := c.open(ctx, fs, &db, false)
	if err != nil {
		return err
	}
	defer s.close()
	before, err := s.st.ActiveRelease(ctx)
	if err != nil {
		return err
	}
	rel, err := s.kb.Rollback(ctx, operator(c.env), *to, *reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "rolled back from release %d to release %d (%d entries); a running server switches within a few seconds\n",
		before, rel.ID, rel.Entries)
	return nil
}

func (c *kbCommand) releases(ctx context.Context, args []string) error {
	fs := newFlagSet("kb releases", c.env, "kb releases [--json] [--data-dir DIR | --database URL]")
	var db dbFlags
	db.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if rest, err := parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	s, err := c.open(ctx, fs, &db, false)
	if err != nil {
		return err
	}
	defer s.close()
	l, err := s.kb.Releases(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONOut(c.env.Stdout, l)
	}
	tw := newTable(c.env.Stdout)
	fmt.Fprintln(tw, "ID\tCREATED\tAUTHOR\tENTRIES\tESSENTIAL\tCV ACC\tGATE\tSTATE")
	for _, r := range l.Releases {
		gate := "passed"
		if r.Override != nil {
			gate = "overridden: " + cell(r.Override.Reason)
		}
		var state []string
		if r.ID == l.ActiveID {
			state = append(state, "active")
		}
		if r.ID == l.LastGoodID {
			state = append(state, "last good")
		}
		if r.RolledBackAt != nil {
			state = append(state, "rolled back")
		}
		acc := "-" // published without cross-validation (the demo's first release)
		if r.Quality.HeldOut > 0 {
			acc = fmt.Sprintf("%.3f", r.Quality.Accuracy)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", r.ID, r.CreatedAt.Local().Format("2006-01-02 15:04"),
			cell(r.AuthorName), r.Entries, r.Minimal, acc, gate, strings.Join(state, ", "))
	}
	return tw.Flush()
}

func (c *kbCommand) diff(ctx context.Context, args []string) error {
	fs := newFlagSet("kb diff", c.env, "kb diff A B [--json] [--data-dir DIR | --database URL]")
	var db dbFlags
	db.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 2 {
		return usagef("give two release ids: kb diff A B")
	}
	var ids [2]int64
	for i, a := range rest {
		if ids[i], err = strconv.ParseInt(a, 10, 64); err != nil || ids[i] <= 0 {
			return usagef("%q is not a release id", a)
		}
	}
	s, err := c.open(ctx, fs, &db, false)
	if err != nil {
		return err
	}
	defer s.close()
	d, err := s.kb.Diff(ctx, ids[0], ids[1])
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONOut(c.env.Stdout, d)
	}
	fmt.Fprintf(c.env.Stdout, "release %d → release %d: %d added, %d removed, %d changed\n", d.From, d.To, len(d.Added),
		len(d.Removed), len(d.Changed))
	printDiff(c.env.Stdout, d)
	return nil
}

// pending says what `kb publish` would ship: the approved versions against
// the live release, in kb diff's shape (the API's GET /api/v1/kb/pending).
func (c *kbCommand) pending(ctx context.Context, args []string) error {
	fs := newFlagSet("kb pending", c.env, "kb pending [--json] [--data-dir DIR | --database URL]")
	var db dbFlags
	db.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usagef("kb pending takes no arguments")
	}
	s, err := c.open(ctx, fs, &db, false)
	if err != nil {
		return err
	}
	defer s.close()
	d, err := s.kb.Pending(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONOut(c.env.Stdout, d)
	}
	w := c.env.Stdout
	live := "no live release"
	if d.From > 0 {
		live = fmt.Sprintf("live release %d", d.From)
	}
	if len(d.Added)+len(d.Removed)+len(d.Changed) == 0 {
		fmt.Fprintf(w, "%s → next release: nothing to publish, the approved entries are the live ones\n", live)
		return nil
	}
	fmt.Fprintf(w, "%s → next release: %d added, %d removed, %d changed\n", live, len(d.Added), len(d.Removed), len(d.Changed))
	printDiff(w, d)
	return nil
}

// printDiff lists a diff's entries, one per line, with the answers that
// changed.
func printDiff(w io.Writer, d *knowledge.Diff) {
	for _, e := range d.Added {
		fmt.Fprintf(w, "+ %s v%d  %s\n", e.ID, e.Version, e.Title)
	}
	for _, e := range d.Removed {
		fmt.Fprintf(w, "- %s v%d  %s\n", e.ID, e.Version, e.Title)
	}
	for _, ch := range d.Changed {
		fmt.Fprintf(w, "~ %s v%d → v%d  %s\n", ch.ID, ch.FromVersion, ch.ToVersion, strings.Join(ch.Fields, ", "))
		for _, f := range ch.Fields {
			if loc, ok := strings.CutSuffix(f, ".answer"); ok {
				fmt.Fprintf(w, "    - %s\n    + %s\n", ch.Before.Locales[loc].Answer, ch.After.Locales[loc].Answer)
			}
		}
	}
}

func writeJSONOut(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func (c *kbCommand) exportEntries(ctx context.Context, args []string) error {
	fs := newFlagSet("kb export", c.env, "kb export [FILE|-] [--format yaml|json] [--data-dir DIR | --database URL]")
	var db dbFlags
	db.register(fs)
	format := fs.String("format", "", "file format: yaml or json (default: from the file name; yaml on standard output)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 1 {
		return usagef("give at most one output file")
	}
	name := "-"
	if len(rest) == 1 {
		name = rest[0]
	}
	f := knowledge.FormatYAML
	if *format != "" || name != "-" {
		var err error
		if f, err = formatFor(name, *format); err != nil {
			return usagef("%v", err)
		}
	}
	s, err := c.open(ctx, fs, &db, false)
	if err != nil {
		return err
	}
	defer s.close()
	entries, err := s.kb.Export(ctx)
	if err != nil {
		return err
	}
	if name == "-" {
		return knowledge.Encode(c.env.Stdout, entries, f)
	}
	out, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := knowledge.Encode(out, entries, f); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stderr, "exported %d entries to %s\n", len(entries), name)
	return nil
}

func formatFor(name, flagValue string) (knowledge.Format, error) {
	switch flagValue {
	case "yaml", "yml":
		return knowledge.FormatYAML, nil
	case "json":
		return knowledge.FormatJSON, nil
	case "":
		if name == "-" {
			return "", fmt.Errorf("--format is required when reading standard input")
		}
		return knowledge.FormatOf(name)
	}
	return "", fmt.Errorf("--format must be yaml or json, not %q", flagValue)
}

// openStore opens the configured database for a command. An empty
// database, or any SQLite one, is migrated first (as serve would);
// PostgreSQL shared by several nodes must be migrated with steward migrate.
// A SQLite database that does not exist is an error: a mistyped or missing
// --data-dir must not find a new, empty database and report on it.
func openStore(ctx context.Context, env Env, fs *flag.FlagSet, db *dbFlags) (*store.DB, config.Config, error) {
	return openStoreAt(ctx, env, fs, db, false)
}

// createStore is openStore for the commands that may set up a new data
// directory before its first serve (the first admin, the first knowledge
// base); it says on stderr when it created the database.
func createStore(ctx context.Context, env Env, fs *flag.FlagSet, db *dbFlags) (*store.DB, config.Config, error) {
	return openStoreAt(ctx, env, fs, db, true)
}

func openStoreAt(ctx context.Context, env Env, fs *flag.FlagSet, db *dbFlags, create bool) (*store.DB, config.Config, error) {
	cfg, err := db.load(fs, env, nil)
	if err != nil {
		return nil, cfg, usagef("%v", err)
	}
	created := ""
	if cfg.Database == "" {
		path := filepath.Join(cfg.DataDir, app.SQLiteFile)
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			if !create {
				return nil, cfg, fmt.Errorf("no Steward database at %s: give the server's data directory (--data-dir, STEWARD_DATA_DIR or data_dir in --config)", path)
			}
			created = path
		}
	}
	st, err := app.OpenStore(ctx, cfg, newLogger(cfg, env.Stderr))
	if err != nil {
		return nil, cfg, err
	}
	applied, _, err := st.SchemaVersion(ctx)
	if err == nil && applied == 0 && !create && cfg.Database != "" {
		// A read-only command on an empty database (a wrong name, one made
		// to restore into) would install the schema and report on nothing;
		// a restore then refuses the database as taken.
		st.Close(context.Background())
		return nil, cfg, fmt.Errorf("no Steward tables in %s: give the server's database (--database, STEWARD_DATABASE or database in --config), or run steward migrate to set up a new one",
			store.RedactURL(cfg.Database))
	}
	if err == nil && (applied == 0 || cfg.AutoMigrates()) {
		_, err = st.Migrate(ctx)
	}
	if err == nil {
		err = st.CheckSchema(ctx)
	}
	if err != nil {
		st.Close(context.Background())
		return nil, cfg, err
	}
	if created != "" {
		fmt.Fprintf(env.Stderr, "created a new database at %s\n", created)
	}
	return st, cfg, nil
}
