package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/app"
	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/guard"
)

// keysCommand manages the keys that seal originals of personal data.
type keysCommand struct{ env Env }

// keysSubcommands are the group's subcommands as typed, for -h and usage errors.
var keysSubcommands = []string{"keys list", "keys rotate", "keys import"}

var keysUsage = strings.Join(keysSubcommands, " | ")

func (c *keysCommand) subcommands() []string { return keysSubcommands }

func (c *keysCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: %s", keysUsage)
	}
	switch args[0] {
	case "list":
		return c.run(ctx, "keys list", args[1:], false)
	case "rotate":
		return c.run(ctx, "keys rotate", args[1:], true)
	case "import":
		return c.importKeys(ctx, args[1:])
	}
	return usagef("unknown keys subcommand %q (want list, rotate or import)", args[0])
}

// run lists the keys and the records under each; with rotate it first adds
// a new key to the key file and makes it active (unless the keys come from
// STEWARD_PII_KEYS: then put the new key first there), then re-seals every
// record under the active key and audits the rotation.
func (c *keysCommand) run(ctx context.Context, name string, args []string, rotate bool) error {
	fs := newFlagSet(name, c.env, name+" [--json] [--config FILE] [--data-dir DIR | --database URL]")
	var db dbFlags
	db.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usagef("%s takes no arguments", name)
	}
	st, cfg, err := openStore(ctx, c.env, fs, &db)
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	path := app.KeyFilePath(cfg)
	fromEnv := strings.TrimSpace(cfg.Privacy.Keys) != ""
	var ring *guard.Keyring
	added := ""
	switch {
	case fromEnv:
		kf, err := guard.ParseKeys(cfg.Privacy.Keys)
		if err != nil {
			return fmt.Errorf("STEWARD_PII_KEYS: %w", err)
		}
		if ring, err = kf.Keyring(); err != nil {
			return err
		}
	default:
		// Read, and with rotate changed, under the key file's lock: two
		// rotations at once each lost the other's new key.
		kf, err := guard.UpdateKeyFile(path, func(kf *guard.KeyFile) (*guard.KeyFile, bool, error) {
			if kf == nil {
				return nil, false, fmt.Errorf("no key file at %s: restore the one kept with this database's backups (or set STEWARD_PII_KEYS); a server started without it makes a new key, which cannot open records sealed before", path)
			}
			if rotate {
				// The new key is on disk before anything is sealed with it.
				added = kf.Rotate(time.Now()).ID
			}
			return kf, rotate, nil
		})
		if err != nil {
			return err
		}
		if ring, err = kf.Keyring(); err != nil {
			return err
		}
	}
	vault := guard.NewVault(st, ring, 0, newLogger(cfg, c.env.Stderr))
	var rep guard.RotateReport
	if rotate {
		rep, err = vault.Rotate(ctx)
		// Audited even when the re-sealing stopped partway: the new key is
		// in the key file and active by then, and some records are sealed
		// under it; the log says how far it got and why it stopped.
		detail := map[string]any{"active": rep.Active, "resealed": rep.Resealed, "failed": rep.Failed}
		if added != "" {
			detail["added"] = added
		}
		if err != nil {
			detail["error"] = err.Error()
		}
		if aerr := audit.New(st, nil).Record(ctx, audit.Entry{Actor: "cli:keys", ActorName: "steward keys rotate",
			Action: "keys.rotate", Object: "key:" + rep.Active, Detail: detail}); aerr != nil || err != nil {
			return errors.Join(err, aerr)
		}
	} else {
		rep.Active = ring.Active()
		if rep.ByKey, err = st.VaultKeyCounts(ctx); err != nil {
			return err
		}
	}
	source := path
	if fromEnv {
		source = "STEWARD_PII_KEYS"
	}
	// Records sealed under a key the key file does not hold (a database
	// restored without its key file, a key deleted by hand) cannot be
	// revealed: they are named, not left out of the list.
	missing := ring.Missing(rep.ByKey)
	var missingErr error
	if len(missing) > 0 {
		missingErr = fmt.Errorf("records are sealed under %s, which %s does not hold: add that key file's keys with steward keys import FILE (a backup of it, kept apart from the database; copying it over this one would lose the keys made since), or those originals cannot be revealed",
			strings.Join(missing, ", "), source)
	}
	if *asJSON {
		if missing == nil {
			missing = []string{}
		}
		if err := writeJSONOut(c.env.Stdout, map[string]any{"source": source, "keys": ring.IDs(), "active": rep.Active,
			"added": added, "resealed": rep.Resealed, "failed": rep.Failed, "records_by_key": rep.ByKey, "missing_keys": missing}); err != nil {
			return err
		}
		if rotate && rep.Failed > 0 && missingErr == nil {
			// As in text: a script must not take a partial rotation for done.
			return fmt.Errorf("%d records could not be re-sealed", rep.Failed)
		}
		return missingErr
	}
	fmt.Fprintf(c.env.Stdout, "keys from %s; active %s\n", source, rep.Active)
	for _, id := range ring.IDs() {
		fmt.Fprintf(c.env.Stdout, "  %s\t%s\n", id, records(rep.ByKey[id]))
	}
	for _, id := range missing {
		fmt.Fprintf(c.env.Stdout, "  %s\t%s\tMISSING: cannot be opened\n", id, records(rep.ByKey[id]))
	}
	if missingErr != nil && !rotate {
		return missingErr
	}
	if rotate {
		fmt.Fprintf(c.env.Stdout, "re-sealed %d records under %s", rep.Resealed, rep.Active)
		if rep.Failed > 0 {
			fmt.Fprintf(c.env.Stdout, "; %d could not be opened (see the log)", rep.Failed)
		}
		fmt.Fprintln(c.env.Stdout)
		if rep.Failed > 0 {
			return fmt.Errorf("%d records could not be re-sealed", rep.Failed)
		}
	}
	return missingErr
}

// records is n records, in English that agrees with n.
func records(n int64) string {
	if n == 1 {
		return "1 record"
	}
	return fmt.Sprintf("%d records", n)
}

// importKeys adds to the key file the keys of another key file that it
// lacks: the way back for a database restored without its key file, after
// a server started since has made a new one. Copying the old file over the
// new would lose the key sealing everything stored since; importing keeps
// both, and the active key stays as it is. A running server learns the
// added keys from the file at its next reveal.
func (c *keysCommand) importKeys(ctx context.Context, args []string) error {
	const name = "keys import"
	fs := newFlagSet(name, c.env, name+" FILE [--json] [--config FILE] [--data-dir DIR | --database URL]")
	var db dbFlags
	db.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("%s takes one argument: the key file to take keys from", name)
	}
	from, err := guard.ReadKeyFile(rest[0])
	if err != nil {
		return err
	}
	st, cfg, err := openStore(ctx, c.env, fs, &db)
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	if strings.TrimSpace(cfg.Privacy.Keys) != "" {
		return usagef("the keys come from STEWARD_PII_KEYS, not a key file: add the old keys to that variable, after the active one")
	}
	path := app.KeyFilePath(cfg)
	var added []string
	kf, err := guard.UpdateKeyFile(path, func(kf *guard.KeyFile) (*guard.KeyFile, bool, error) {
		if kf == nil {
			// Nothing to keep: the file imported becomes the key file.
			kf = &guard.KeyFile{Active: from.Active}
		}
		var err error
		if added, err = kf.Merge(from); err != nil {
			return nil, false, fmt.Errorf("import %s into %s: %w", rest[0], path, err)
		}
		return kf, len(added) > 0, nil
	})
	if err != nil {
		return err
	}
	if len(added) > 0 {
		if err := audit.New(st, nil).Record(ctx, audit.Entry{Actor: "cli:keys", ActorName: "steward keys import",
			Action: "keys.import", Object: "key:" + kf.Active, Detail: map[string]any{"added": added, "active": kf.Active}}); err != nil {
			return err
		}
	}
	ring, err := kf.Keyring()
	if err != nil {
		return err
	}
	counts, err := st.VaultKeyCounts(ctx)
	if err != nil {
		return err
	}
	missing := ring.Missing(counts)
	var missingErr error
	if len(missing) > 0 {
		missingErr = fmt.Errorf("records are still sealed under %s, which neither key file holds: those originals cannot be revealed until a key file with them is imported",
			strings.Join(missing, ", "))
	}
	if *asJSON {
		if added == nil {
			added = []string{}
		}
		if missing == nil {
			missing = []string{}
		}
		if err := writeJSONOut(c.env.Stdout, map[string]any{"source": path, "keys": ring.IDs(), "active": ring.Active(),
			"imported": added, "records_by_key": counts, "missing_keys": missing}); err != nil {
			return err
		}
		return missingErr
	}
	if len(added) == 0 {
		fmt.Fprintf(c.env.Stdout, "%s already holds every key of %s; active %s\n", path, rest[0], ring.Active())
	} else {
		fmt.Fprintf(c.env.Stdout, "added %s to %s; active %s\n", strings.Join(added, ", "), path, ring.Active())
	}
	for _, id := range ring.IDs() {
		fmt.Fprintf(c.env.Stdout, "  %s\t%s\n", id, records(counts[id]))
	}
	for _, id := range missing {
		fmt.Fprintf(c.env.Stdout, "  %s\t%s\tMISSING: cannot be opened\n", id, records(counts[id]))
	}
	return missingErr
}
