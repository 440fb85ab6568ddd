package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/steward-cs/steward/internal/eval"
	"github.com/steward-cs/steward/internal/nlu"
)

type evalCommand struct{ env Env }

// evalSubcommands are the group's subcommands as typed, for -h and usage errors.
var evalSubcommands = []string{"eval intent --train FILE (--test FILE | --holdout F) [--val FILE] [--oos-label L] [--json]",
	"eval sentiment --train FILE (--test FILE | --holdout F) [--val FILE] [--json]", "eval pii --data FILE [--json]",
	"eval firewall --attacks FILES --benign FILES [--json]"}

var evalUsage = strings.Join(evalSubcommands, " | ")

func (c *evalCommand) subcommands() []string { return evalSubcommands }

func (c *evalCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: %s", evalUsage)
	}
	switch args[0] {
	case "intent":
		return c.intent(args[1:])
	case "sentiment":
		return c.sentiment(args[1:])
	case "pii":
		return c.pii(args[1:])
	case "firewall":
		return c.firewall(args[1:])
	}
	return usagef("unknown eval subcommand %q (want intent, sentiment, pii or firewall)", args[0])
}

// splitFlags are the data-set flags both evaluations share.
type splitFlags struct {
	train, val, test string
	holdout          float64
	asJSON           bool
}

func (s *splitFlags) register(fs *flag.FlagSet, valHelp string) {
	fs.StringVar(&s.train, "train", "", "training set, JSON Lines of {\"text\",\"label\"} (required)")
	fs.StringVar(&s.val, "val", "", valHelp)
	fs.StringVar(&s.test, "test", "", "test set (required unless --holdout is given)")
	fs.Float64Var(&s.holdout, "holdout", 0, "without --test: hold out this fraction of each label of --train as the test set")
	fs.BoolVar(&s.asJSON, "json", false, "print one JSON object instead of a table")
}

func (s *splitFlags) load() (train, val, test []nlu.Example, err error) {
	switch {
	case s.train == "":
		return nil, nil, nil, usagef("--train is required")
	case s.test == "" && s.holdout == 0:
		return nil, nil, nil, usagef("--test is required (or --holdout FRACTION to carve a test set from --train)")
	case s.test != "" && s.holdout != 0:
		return nil, nil, nil, usagef("give --test or --holdout, not both")
	case s.holdout < 0 || s.holdout >= 1:
		return nil, nil, nil, usagef("--holdout must be a fraction between 0 and 1, got %g", s.holdout)
	}
	if train, err = eval.ReadFile(s.train); err != nil {
		return nil, nil, nil, err
	}
	if s.val != "" {
		if val, err = eval.ReadFile(s.val); err != nil {
			return nil, nil, nil, err
		}
	}
	if s.test != "" {
		if test, err = eval.ReadFile(s.test); err != nil {
			return nil, nil, nil, err
		}
	} else {
		train, test = eval.Holdout(train, s.holdout)
		if len(test) == 0 || len(train) == 0 {
			return nil, nil, nil, fmt.Errorf("%s: --holdout %g leaves an empty train or test set", s.train, s.holdout)
		}
	}
	return train, val, test, nil
}

// warnUnseen says on stderr which labels of the test set no training
// example has (a typo in a label, a split that lost a class): each of
// their examples is a miss, and nothing else said why.
func (c *evalCommand) warnUnseen(train, test []nlu.Example) {
	known := map[string]bool{}
	for _, ex := range train {
		known[ex.Label] = true
	}
	unseen := map[string]int{}
	for _, ex := range test {
		if !known[ex.Label] {
			unseen[ex.Label]++
		}
	}
	for _, l := range sortedKeys(unseen) {
		fmt.Fprintf(c.env.Stderr, "warning: %d test example(s) have the label %q, which no training example has\n", unseen[l], l)
	}
}

func (c *evalCommand) intent(args []string) error {
	fs := newFlagSet("eval intent", c.env, "eval intent --train FILE (--test FILE | --holdout F) [--val FILE] [--oos-label oos] [--model linear|retrieval] [--json]")
	var sf splitFlags
	sf.register(fs, "validation set, for tuning the out-of-scope threshold (optional; used with --oos-label)")
	oos := fs.String("oos-label", "", "label of out-of-scope examples (default: the data has none)")
	model := fs.String("model", "linear", "intent model: linear (the default) or retrieval (what a knowledge base of more than "+
		"a few hundred entries uses)")
	if rest, err := parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if *model != "linear" && *model != "retrieval" {
		return usagef("--model must be linear or retrieval, not %q", *model)
	}
	train, val, test, err := sf.load()
	if err != nil {
		return err
	}
	if *oos != "" && !hasLabel(train, *oos) {
		return fmt.Errorf("%s: no training example has the out-of-scope label %q", sf.train, *oos)
	}
	if sf.val != "" && *oos == "" {
		fmt.Fprintln(c.env.Stderr, "note: --val tunes the out-of-scope threshold only; without --oos-label it is not used")
	}
	c.warnUnseen(train, test)
	r, err := eval.Intent(train, val, test, eval.IntentOptions{OOSLabel: *oos, Retrieval: *model == "retrieval"})
	if err != nil {
		return err
	}
	if sf.asJSON {
		return c.printJSON(r)
	}
	w := newTable(c.env.Stdout)
	fmt.Fprintf(w, "examples\t%d\naccuracy\t%.4f\n", r.Examples, r.Accuracy)
	if r.InScopeAccuracy != nil {
		fmt.Fprintf(w, "in-scope accuracy\t%.4f\nout-of-scope recall\t%.4f\nout-of-scope precision\t%.4f\nthreshold\t%.2f\n",
			*r.InScopeAccuracy, *r.OOSRecall, *r.OOSPrecision, r.Threshold)
	}
	fmt.Fprintf(w, "macro F1\t%.4f\ntrain\t%.1f s (%d examples, %d classes)\npredict p50 / p99\t%.0f / %.0f µs\nmodel\t%s\n",
		r.MacroF1, r.TrainSeconds, r.TrainExamples, r.Classes, r.PredictP50us, r.PredictP99us, r.Model)
	return w.Flush()
}

func (c *evalCommand) sentiment(args []string) error {
	fs := newFlagSet("eval sentiment", c.env, "eval sentiment --train FILE (--test FILE | --holdout F) [--val FILE] [--json]")
	var sf splitFlags
	sf.register(fs, "validation set (optional): sentiment has no threshold to tune, so it is added to the training set")
	if rest, err := parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if sf.val != "" && sf.test != "" && sameFile(sf.val, sf.test) {
		// Trained on, the test set would score itself.
		return usagef("--val is added to the training set for sentiment: it cannot be the --test set too")
	}
	train, val, test, err := sf.load()
	if err != nil {
		return err
	}
	c.warnUnseen(append(train, val...), test)
	r, err := eval.Sentiment(train, val, test, nlu.TrainOptions{})
	if err != nil {
		return err
	}
	if sf.asJSON {
		return c.printJSON(r)
	}
	w := newTable(c.env.Stdout)
	fmt.Fprintf(w, "examples\t%d\naccuracy\t%.4f\nmacro F1\t%.4f\ntrain\t%.1f s (%d examples)\npredict p50 / p99\t%.0f / %.0f µs\nmodel\t%s\n",
		r.Examples, r.Accuracy, r.MacroF1, r.TrainSeconds, r.TrainExamples, r.PredictP50us, r.PredictP99us, r.Model)
	return w.Flush()
}

func (c *evalCommand) printJSON(v any) error {
	enc := json.NewEncoder(c.env.Stdout)
	return enc.Encode(v)
}

func hasLabel(exs []nlu.Example, l string) bool {
	for _, ex := range exs {
		if ex.Label == l {
			return true
		}
	}
	return false
}

// sameFile reports whether a and b name one file.
func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}
