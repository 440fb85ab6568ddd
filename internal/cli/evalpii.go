package cli

import (
	"fmt"

	"github.com/steward-cs/steward/internal/eval"
	"github.com/steward-cs/steward/internal/guard"
)

// pii scores the production PII detector on a labelled file.
func (c *evalCommand) pii(args []string) error {
	fs := newFlagSet("eval pii", c.env, "eval pii --data FILE [--json]")
	data := fs.String("data", "", "JSON Lines of {\"text\",\"spans\":[{\"start\",\"end\",\"type\"}]} (rune offsets; required)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usagef("eval pii takes no arguments (got %q)", rest[0])
	}
	if *data == "" {
		return usagef("--data is required")
	}
	exs, err := eval.ReadPIIFile(*data)
	if err != nil {
		return err
	}
	r := eval.ScorePII(exs)
	if *asJSON {
		return c.printJSON(r)
	}
	w := newTable(c.env.Stdout)
	fmt.Fprintf(w, "examples\t%d\n\nTYPE\tPRECISION\tRECALL\tEXPECTED\tDETECTED\n", r.Examples)
	for _, k := range guard.Kinds {
		s := r.ByType[k]
		fmt.Fprintf(w, "%s\t%.4f\t%.4f\t%d\t%d\n", k, s.Precision, s.Recall, s.Expected, s.Detected)
	}
	fmt.Fprintf(w, "all\t%.4f\t%.4f\t%d\t%d\n\nmask p50 / p99\t%.1f / %.1f µs\n",
		r.Precision, r.Recall, r.Expected, r.Detected, r.P50Micros, r.P99Micros)
	for _, t := range r.Missed {
		fmt.Fprintf(w, "missed\t%s\n", t)
	}
	for _, t := range r.FalseAlarms {
		fmt.Fprintf(w, "false alarm\t%s\n", t)
	}
	return w.Flush()
}
