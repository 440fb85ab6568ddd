package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/steward-cs/steward/internal/app"
	"github.com/steward-cs/steward/internal/config"
)

type serveCommand struct {
	env  Env
	db   dbFlags
	addr string
	demo bool
	// faults turns on the drills' fault injection.
	faults bool
}

func (c *serveCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("serve", c.env, "serve [--addr HOST:PORT] [--data-dir DIR | --database URL] [--demo] [--config FILE] [--enable-fault-injection]")
	c.db.register(fs)
	fs.StringVar(&c.addr, "addr", "", "listen address (default 127.0.0.1:8080)")
	fs.BoolVar(&c.demo, "demo", false, "load the bilingual demo knowledge base on first start, and create or reset the demo admin "+
		"and agents at every start, printing their passwords: for trying Steward, never in production")
	fs.BoolVar(&c.faults, "enable-fault-injection", false, "allow drills to inject faults (POST /api/v1/admin/faults); never in production")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	cfg, err := c.db.load(fs, c.env, func(cfg *config.Config, set map[string]bool) {
		if set["addr"] {
			cfg.Addr = c.addr
		}
		if set["demo"] {
			cfg.Demo = c.demo
		}
		if set["enable-fault-injection"] {
			cfg.EnableFaultInjection = c.faults
		}
	})
	if err != nil {
		return usagef("%v", err)
	}
	logger := newLogger(cfg, c.env.Stderr)
	slog.SetDefault(logger)
	a, err := app.Open(ctx, cfg, logger, app.WithVersion(version()))
	if err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "Steward %s is running: open http://%s/chat (customers) and http://%s/console (agents)\n",
		version(), a.Addr(), a.Addr())
	if demo := a.DemoAccounts(); len(demo) > 0 {
		fmt.Fprintln(c.env.Stdout, "Demo accounts for the console (new passwords at every start):")
		for _, d := range demo {
			fmt.Fprintf(c.env.Stdout, "  %-11s %-22s %s\n", d.Role, d.Email, d.Password)
		}
	}
	return a.Run(ctx)
}
