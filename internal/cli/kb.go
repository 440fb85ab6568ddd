package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/steward-cs/steward/internal/app"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/store"
)

type kbCommand struct{ env Env }

func (c *kbCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: kb import FILE | kb export [FILE]")
	}
	switch args[0] {
	case "import":
		return c.importEntries(ctx, args[1:])
	case "export":
		return c.exportEntries(ctx, args[1:])
	}
	return usagef("unknown kb subcommand %q (want import or export)", args[0])
}

func (c *kbCommand) importEntries(ctx context.Context, args []string) error {
	fs := newFlagSet("kb import", c.env, "kb import FILE|- [--format yaml|json] [--data-dir DIR | --database URL]")
	var db dbFlags
	db.register(fs)
	format := fs.String("format", "", "file format: yaml or json (default: from the file name)")
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
	st, err := openStore(ctx, c.env, fs, &db)
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	now := time.Now().UTC()
	for i := range entries {
		entries[i].CreatedAt, entries[i].UpdatedAt = now, now
	}
	if err := st.PutEntries(ctx, entries); err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "imported %d entries; restart the server to answer from them\n", len(entries))
	return nil
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
	st, err := openStore(ctx, c.env, fs, &db)
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	entries, err := st.Entries(ctx)
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
func openStore(ctx context.Context, env Env, fs *flag.FlagSet, db *dbFlags) (*store.DB, error) {
	cfg, err := db.load(fs, env, nil)
	if err != nil {
		return nil, usagef("%v", err)
	}
	st, err := app.OpenStore(ctx, cfg, newLogger(cfg, env.Stderr))
	if err != nil {
		return nil, err
	}
	applied, _, err := st.SchemaVersion(ctx)
	if err == nil && (applied == 0 || cfg.AutoMigrates()) {
		_, err = st.Migrate(ctx)
	}
	if err == nil {
		err = st.CheckSchema(ctx)
	}
	if err != nil {
		st.Close(context.Background())
		return nil, err
	}
	return st, nil
}
