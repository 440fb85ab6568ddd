package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/steward-cs/steward/internal/app"
)

type migrateCommand struct {
	env Env
	db  dbFlags
}

func (c *migrateCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("migrate", c.env, "migrate [--data-dir DIR | --database URL] [--config FILE]")
	c.db.register(fs)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	cfg, err := c.db.load(fs, c.env, nil)
	if err != nil {
		return usagef("%v", err)
	}
	logger := newLogger(cfg, c.env.Stderr)
	db, err := app.OpenStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	n, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	applied, known, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if applied > known {
		// Nothing to apply is not success: every node of this version
		// would refuse to start on it (the runbook's next step).
		return fmt.Errorf("the database schema is at version %d, newer than this binary knows (%d): use the newer steward", applied, known)
	}
	slog.Debug("migrated", "applied", n)
	fmt.Fprintf(c.env.Stdout, "applied %d migration(s); schema is at version %d (%s)\n", n, applied, db.Dialect())
	return nil
}
