package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeJSONL(t *testing.T, dir, name string, rows [][2]string) string {
	t.Helper()
	var b strings.Builder
	for _, r := range rows {
		line, _ := json.Marshal(map[string]string{"text": r[0], "label": r[1]})
		b.Write(line)
		b.WriteByte('\n')
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvalIntentAndSentimentJSON(t *testing.T) {
	dir := t.TempDir()
	train := writeJSONL(t, dir, "train.jsonl", [][2]string{
		{"how much is shipping", "fee"}, {"shipping cost", "fee"}, {"运费多少", "fee"}, {"包邮吗", "fee"},
		{"where is my refund", "refund"}, {"refund status", "refund"}, {"退款到哪了", "refund"}, {"怎么还没退款", "refund"},
		{"tell me a joke", "oos"}, {"what is the weather", "oos"}, {"讲个笑话", "oos"}, {"今天天气怎么样", "oos"},
	})
	test := writeJSONL(t, dir, "test.jsonl", [][2]string{
		{"how much does shipping cost", "fee"}, {"运费是多少", "fee"}, {"my refund", "refund"}, {"讲个笑话吧", "oos"},
	})
	code, out, errs := run(t, "", nil, "eval", "intent", "--train", train, "--test", test, "--val", test, "--oos-label", "oos", "--json")
	if code != 0 {
		t.Fatalf("eval intent: %d %s", code, errs)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not one JSON object: %q", out)
	}
	for _, k := range []string{"examples", "accuracy", "in_scope_accuracy", "oos_recall", "oos_precision", "macro_f1",
		"train_seconds", "predict_p50_us", "predict_p99_us"} {
		v, ok := r[k].(float64)
		if !ok {
			t.Errorf("%s missing or not a number: %v", k, r[k])
			continue
		}
		if k != "examples" && !strings.HasSuffix(k, "_us") && k != "train_seconds" && (v < 0 || v > 1) {
			t.Errorf("%s = %v, not a fraction", k, v)
		}
	}
	if r["examples"] != 4.0 {
		t.Errorf("examples = %v", r["examples"])
	}

	// Without --oos-label there is no out-of-scope class: the figures are null.
	code, out, errs = run(t, "", nil, "eval", "intent", "--json", "--train", train, "--test", test)
	if code != 0 || !strings.Contains(out, `"oos_recall":null`) {
		t.Fatalf("eval intent without oos: %d %s %s", code, out, errs)
	}

	// --model retrieval evaluates the large knowledge bases' index, same contract.
	code, out, errs = run(t, "", nil, "eval", "intent", "--json", "--model", "retrieval", "--train", train, "--test", test)
	if code != 0 || !strings.Contains(out, `"model":"retrieval index`) || !strings.Contains(out, `"accuracy":`) {
		t.Fatalf("eval intent --model retrieval: %d %s %s", code, out, errs)
	}

	strain := writeJSONL(t, dir, "s.jsonl", [][2]string{
		{"很好吃，送得也快", "pos"}, {"味道不错，下次还点", "pos"}, {"great, fast delivery", "pos"}, {"超级好吃", "pos"},
		{"太难吃了", "neg"}, {"送了两个小时，饭都凉了", "neg"}, {"terrible, cold food", "neg"}, {"难吃，再也不点了", "neg"},
	})
	stest := writeJSONL(t, dir, "st.jsonl", [][2]string{{"好吃，很快", "pos"}, {"难吃，太慢了", "neg"}})
	code, out, errs = run(t, "", nil, "eval", "sentiment", "--train", strain, "--test", stest, "--json")
	if code != 0 {
		t.Fatalf("eval sentiment: %d %s", code, errs)
	}
	r = nil
	if err := json.Unmarshal([]byte(out), &r); err != nil || r["examples"] != 2.0 || r["accuracy"] == nil || r["macro_f1"] == nil {
		t.Fatalf("sentiment report %q (%v)", out, err)
	}
	// The human-readable table names its figures.
	if code, out, _ := run(t, "", nil, "eval", "sentiment", "--train", strain, "--holdout", "0.25"); code != 0 || !strings.Contains(out, "accuracy") {
		t.Fatalf("table: %d %q", code, out)
	}
}

func TestEvalErrors(t *testing.T) {
	dir := t.TempDir()
	train := writeJSONL(t, dir, "train.jsonl", [][2]string{{"a b", "x"}, {"c d", "y"}})
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"text\":\"a\",\"label\":\"x\"}\n{\"text\": 3}\n"), 0o600)
	empty := filepath.Join(dir, "empty.jsonl")
	os.WriteFile(empty, nil, 0o600)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"eval", "intent", "--test", train}, 2, "--train is required"},
		{[]string{"eval", "intent", "--train", train}, 2, "--test is required"},
		{[]string{"eval", "intent", "--train", train, "--test", train, "--holdout", "0.2"}, 2, "not both"},
		{[]string{"eval", "intent", "--train", train, "--holdout", "1.5"}, 2, "between 0 and 1"},
		{[]string{"eval", "intent", "--train", filepath.Join(dir, "nope.jsonl"), "--test", train}, 1, "nope.jsonl"},
		{[]string{"eval", "intent", "--train", train, "--test", bad}, 1, "bad.jsonl: line 2"},
		{[]string{"eval", "sentiment", "--train", empty, "--test", train}, 1, "empty.jsonl: no examples"},
		{[]string{"eval", "intent", "--train", train, "--test", train, "--oos-label", "oos"}, 1, `out-of-scope label "oos"`},
		{[]string{"eval", "intent", "--train", train, "--test", train, "--model", "bert"}, 2, "--model must be linear or retrieval"}, // a bad flag value is a usage error, like --holdout 1.5
		{[]string{"eval", "nonsense"}, 2, "unknown eval subcommand"},
		// Sentiment trains on --val: the test set cannot be it.
		{[]string{"eval", "sentiment", "--train", train, "--val", train, "--test", train}, 2, "cannot be the --test set"},
	}
	for _, c := range cases {
		code, _, errs := run(t, "", nil, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errs, c.code, c.want)
		}
	}
}

// What the evaluation cannot use is said on stderr, beside the JSON on
// stdout: a --val without --oos-label (it tunes the out-of-scope threshold
// only, and was silently ignored), and test labels no training example has
// (each a miss, and nothing said why).
func TestEvalSaysWhatItCannotUse(t *testing.T) {
	dir := t.TempDir()
	train := writeJSONL(t, dir, "train.jsonl", [][2]string{{"where is my parcel", "track"}, {"how do I get a refund", "refund"}})
	test := writeJSONL(t, dir, "test.jsonl", [][2]string{{"where is my parcel now", "track"}, {"what is this", "brandnew"}})
	code, out, errs := run(t, "", nil, "eval", "intent", "--train", train, "--test", test, "--val", test, "--json")
	if code != 0 || !strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	for _, want := range []string{"--val tunes the out-of-scope threshold only", `label "brandnew", which no training example has`} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr %q lacks %q", errs, want)
		}
	}
}
