package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/steward-cs/steward/internal/audit"
)

type auditCommand struct{ env Env }

const auditUsage = "audit [--action PREFIX] [--object OBJ] [--limit N] [--json] [--data-dir DIR | --database URL]\n" +
	"       steward audit verify [--head SEQ:HASH] [--json] [--data-dir DIR | --database URL]"

func (c *auditCommand) Run(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "verify" {
		return c.verify(ctx, args[1:], "audit verify")
	}
	fs := newFlagSet("audit", c.env, auditUsage)
	var db dbFlags
	db.register(fs)
	action := fs.String("action", "", "only actions starting with this (e.g. kb.release.)")
	object := fs.String("object", "", "only this object (e.g. release:3)")
	limit := fs.Int("limit", 50, "how many of the newest entries to show (at most 1000)")
	verify := fs.Bool("verify", false, "check the whole hash chain instead of listing (the same as audit verify)")
	asJSON := fs.Bool("json", false, "print JSON")
	head := fs.String("head", "", "with --verify: a head printed by an earlier verification (SEQ:HASH) that must still hold")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usagef("audit takes no arguments (but: audit verify)")
	}
	// The two modes take their own flags; one meant for the other is
	// refused, not ignored (--head without --verify checked nothing).
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if *verify {
		for _, n := range []string{"action", "object", "limit"} {
			if given[n] {
				return usagef("--%s filters the list; --verify checks the whole chain", n)
			}
		}
		return c.runVerify(ctx, fs, &db, *head, *asJSON)
	}
	if given["head"] {
		return usagef("--head is checked with --verify (or: audit verify --head SEQ:HASH)")
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
	entries, err := log.Entries(ctx, audit.Query{Action: *action, Object: *object, Limit: *limit})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONOut(c.env.Stdout, map[string]any{"entries": entries})
	}
	tw := newTable(c.env.Stdout)
	fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tACTION\tOBJECT\tDETAIL")
	for _, e := range entries {
		var detail []string
		for k, v := range e.Detail {
			// Strings as they are; anything else (a posture's from/to) as
			// JSON, not as a Go map.
			s, ok := v.(string)
			if !ok {
				b, err := json.Marshal(v)
				if err != nil {
					return err
				}
				s = string(b)
			}
			detail = append(detail, cell(k)+"="+cell(s))
		}
		slices.Sort(detail)
		actor := e.Actor
		if e.ActorName != "" {
			actor = e.ActorName
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.Local().Format("2006-01-02 15:04:05"), cell(actor),
			cell(e.Action), cell(e.Object), strings.Join(detail, " "))
	}
	return tw.Flush()
}

// verify is `audit verify`: the whole chain, held against the head
// checkpoint (and an earlier head, if given).
func (c *auditCommand) verify(ctx context.Context, args []string, name string) error {
	fs := newFlagSet(name, c.env, "audit verify [--head SEQ:HASH] [--json] [--data-dir DIR | --database URL]")
	var db dbFlags
	db.register(fs)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	head := fs.String("head", "", "a head printed by an earlier verification (SEQ:HASH), kept outside the database: "+
		"it must still hold, which catches a rewrite of the whole chain")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usagef("audit verify takes no arguments")
	}
	return c.runVerify(ctx, fs, &db, *head, *asJSON)
}

func (c *auditCommand) runVerify(ctx context.Context, fs *flag.FlagSet, db *dbFlags, head string, asJSON bool) error {
	anchor, err := parseHead(head)
	if err != nil {
		return err
	}
	st, _, err := openStore(ctx, c.env, fs, db)
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	rep, err := audit.New(st, nil).Verify(ctx, anchor)
	if err != nil {
		return err
	}
	if asJSON {
		if err := writeJSONOut(c.env.Stdout, rep); err != nil {
			return err
		}
	} else if rep.OK {
		fmt.Fprintf(c.env.Stdout, "audit chain intact: %d entries, head %d:%s\n", rep.Entries, rep.Head.Seq, rep.Head.Hash)
	}
	if !rep.OK {
		return fmt.Errorf("the audit chain is broken at entry %d (%s): %s", rep.Break.Seq, rep.Break.Kind, rep.Break.Message)
	}
	return nil
}

// parseHead reads SEQ:HASH.
func parseHead(s string) (*audit.Head, error) {
	if s == "" {
		return nil, nil
	}
	seq, hash, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(seq, 10, 64)
	if _, herr := hex.DecodeString(hash); !ok || err != nil || n < 1 || len(hash) != 64 || herr != nil {
		return nil, usagef("--head must be SEQ:HASH as audit verify prints it (e.g. 42:9f86d0…, 64 hex digits), not %q", s)
	}
	return &audit.Head{Seq: n, Hash: strings.ToLower(hash)}, nil
}
