package cli

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/steward-cs/steward/internal/eval"
	"github.com/steward-cs/steward/internal/guard"
)

// fileList is a flag that may be repeated and may hold several
// comma-separated files.
type fileList []string

func (l *fileList) String() string { return strings.Join(*l, ",") }

func (l *fileList) Set(v string) error {
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			*l = append(*l, f)
		}
	}
	return nil
}

// firewall measures the input firewall: recall on attack files, false
// positives on benign ones.
func (c *evalCommand) firewall(args []string) error {
	fs := newFlagSet("eval firewall", c.env, "eval firewall --attacks FILE[,FILE...] --benign FILE[,FILE...] [--json]")
	var attackFiles, benignFiles fileList
	fs.Var(&attackFiles, "attacks", "attacks, JSON Lines of {\"text\"[,\"category\"]}; repeat or separate files with commas (required)")
	fs.Var(&benignFiles, "benign", "benign customer messages, JSON Lines of {\"text\"}; repeat or separate with commas (required)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) != 0:
		return usagef("eval firewall takes no arguments (got %q); name files with --attacks and --benign", rest[0])
	case len(attackFiles) == 0:
		return usagef("--attacks is required")
	case len(benignFiles) == 0:
		return usagef("--benign is required")
	}
	taken := map[string]string{}
	attacks, err := readFirewallFiles(attackFiles, taken)
	if err != nil {
		return err
	}
	benign, err := readFirewallFiles(benignFiles, taken)
	if err != nil {
		return err
	}
	r := eval.ScoreFirewall(guard.NewFirewall(), attacks, benign)
	if *asJSON {
		return c.printJSON(r)
	}
	w := newTable(c.env.Stdout)
	fmt.Fprintf(w, "attacks\t%d\nbenign\t%d\nattack recall\t%.4f\nbenign false-positive rate\t%.4f\ncheck p50 / p99\t%.1f / %.1f µs\n\n",
		r.Attacks, r.Benign, r.AttackRecall, r.BenignFalsePositiveRate, r.CheckP50Micros, r.CheckP99Micros)
	fmt.Fprintf(w, "FILE\tEXAMPLES\tBLOCKED\tRATE\n")
	for _, k := range sortedKeys(r.ByFile) {
		f := r.ByFile[k]
		if f.Recall != nil {
			fmt.Fprintf(w, "%s\t%d\t%d\trecall %.4f\n", k, f.Examples, f.Blocked, *f.Recall)
		} else {
			fmt.Fprintf(w, "%s\t%d\t%d\tfalse positives %.4f\n", k, f.Examples, f.Blocked, *f.FalsePositiveRate)
		}
	}
	fmt.Fprintf(w, "\nATTACK CATEGORY\tEXAMPLES\tRECALL\n")
	for _, k := range sortedKeys(r.ByCategory) {
		fmt.Fprintf(w, "%s\t%d\t%.4f\n", k, r.ByCategory[k].Examples, r.ByCategory[k].Recall)
	}
	for _, t := range r.FalsePositives {
		fmt.Fprintf(w, "false positive\t%s\n", oneLine(t))
	}
	for _, t := range r.Missed {
		fmt.Fprintf(w, "missed\t%s\n", oneLine(t))
	}
	return w.Flush()
}

// readFirewallFiles reads the files named in paths. Each is named in the
// report by its folder and name, or by its path as given when another file
// has the same folder and name: merged, an attack file and a benign one
// named alike made one figure that was neither's. taken holds the names of
// the files read before (the other list's).
func readFirewallFiles(paths []string, taken map[string]string) ([]eval.FirewallExample, error) {
	var all []eval.FirewallExample
	names := map[string]int{}
	for _, p := range paths {
		names[eval.SourceName(p)]++
	}
	for _, p := range paths {
		name := eval.SourceName(p)
		if other, ok := taken[name]; names[name] > 1 || (ok && other != p) {
			name = filepath.ToSlash(p)
		}
		taken[name] = p
		exs, err := eval.ReadFirewallFileAs(p, name)
		if err != nil {
			return nil, err
		}
		all = append(all, exs...)
	}
	return all, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// oneLine shortens a message for a table row.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 100 {
		return string(r[:100]) + "…"
	}
	return s
}
