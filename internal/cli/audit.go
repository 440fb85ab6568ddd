package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/steward-cs/steward/internal/audit"
)

type auditCommand struct{ env Env }

func (c *auditCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("audit", c.env, "audit [--action PREFIX] [--object OBJ] [--limit N] [--verify] [--json] [--data-dir DIR | --database URL]")
	var db dbFlags
	db.register(fs)
	action := fs.String("action", "", "only actions starting with this (e.g. kb.release.)")
	object := fs.String("object", "", "only this object (e.g. release:3)")
	limit := fs.Int("limit", 50, "how many of the newest entries to show (at most 1000)")
	verify := fs.Bool("verify", false, "check the whole hash chain instead of listing")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usagef("audit takes no arguments")
	}
	if *limit < 1 || *limit > 1000 {
		return usagef("--limit must be 1 to 1000")
	}
	st, _, err := openStore(ctx, c.env, fs, &db)
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	log := audit.New(st, nil)
	if *verify {
		n, err := verifyChain(ctx, log)
		if err != nil {
			return fmt.Errorf("the audit chain is broken: %w", err)
		}
		fmt.Fprintf(c.env.Stdout, "audit chain intact: %d entries\n", n)
		return nil
	}
	entries, err := log.Entries(ctx, audit.Query{Action: *action, Object: *object, Limit: *limit})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONOut(c.env.Stdout, map[string]any{"entries": entries})
	}
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tACTION\tOBJECT\tDETAIL")
	for _, e := range entries {
		var detail []string
		for k, v := range e.Detail {
			detail = append(detail, fmt.Sprintf("%s=%v", k, v))
		}
		slices.Sort(detail)
		actor := e.Actor
		if e.ActorName != "" {
			actor = e.ActorName
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.Local().Format("2006-01-02 15:04:05"), actor, e.Action,
			e.Object, strings.Join(detail, " "))
	}
	return tw.Flush()
}

// verifyChain walks the whole log from the oldest entry and returns how
// many entries checked out.
func verifyChain(ctx context.Context, log *audit.Log) (int, error) {
	var all []audit.Entry
	before := int64(0)
	for {
		page, err := log.Entries(ctx, audit.Query{Before: before, Limit: 1000})
		if err != nil {
			return 0, err
		}
		all = append(all, page...)
		if len(page) < 1000 {
			break
		}
		before = page[len(page)-1].Seq
	}
	slices.Reverse(all)
	if len(all) > 0 && all[0].Seq != 1 {
		return 0, fmt.Errorf("the oldest entry is %d, not 1: entries are missing", all[0].Seq)
	}
	if err := audit.Verify(all); err != nil {
		return 0, err
	}
	return len(all), nil
}
