package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/cli"
	"github.com/steward-cs/steward/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.MainWithPostgres(m)) }

func run(t *testing.T, stdin string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, cli.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return env[k] }})
	return code, out.String(), errb.String()
}

const kbYAML = `entries:
  - id: ship-fee
    category: shipping
    tags: [fee]
    locales:
      zh-CN: {title: 运费, questions: [运费多少, 包邮吗], answer: 满99元包邮。}
      en: {title: Shipping fee, questions: [how much is shipping], answer: Free over 99 yuan.}
`

func TestKBImportExportRoundTrip(t *testing.T) {
	for _, b := range []string{"sqlite", "postgres"} {
		t.Run(b, func(t *testing.T) {
			dir := t.TempDir()
			target := []string{"--data-dir", dir}
			if b == "postgres" {
				target = []string{"--database", testutil.PostgresURL(t)}
			}
			if code, out, errs := run(t, "", nil, append([]string{"migrate"}, target...)...); code != 0 || !strings.Contains(out, "schema is at version") {
				t.Fatalf("migrate: %d %q %q", code, out, errs)
			}
			in := filepath.Join(dir, "kb.yaml")
			os.WriteFile(in, []byte(kbYAML), 0o600)
			if code, out, errs := run(t, "", nil, append([]string{"kb", "import", in}, target...)...); code != 0 || !strings.Contains(out, "imported 1 entries") {
				t.Fatalf("import: %d %q %q", code, out, errs)
			}
			code, out, errs := run(t, "", nil, append([]string{"kb", "export", "--format", "json"}, target...)...)
			if code != 0 || !strings.Contains(out, `"id": "ship-fee"`) || !strings.Contains(out, "满99元包邮。") {
				t.Fatalf("export: %d %q %q", code, out, errs)
			}
			// What was exported imports again unchanged, and exports the same.
			if code, got, errs := run(t, out, nil, append([]string{"kb", "import", "--format", "json", "-"}, target...)...); code != 0 ||
				!strings.Contains(got, "0 new, 0 changed, 1 unchanged") {
				t.Fatalf("re-import: %d %q %q", code, got, errs)
			}
			if code, again, errs := run(t, "", nil, append([]string{"kb", "export", "--format", "json"}, target...)...); code != 0 || again != out {
				t.Fatalf("export → import → export differs: %d %q", code, errs)
			}
		})
	}
}

func TestCommandLineErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("entries:\n  - id: Bad ID\n    category: x\n"), 0o600)
	cases := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"unknown command", []string{"frobnicate"}, nil, 2, "unknown command"},
		{"unknown flag", []string{"serve", "--nope"}, nil, 2, "flag provided but not defined"},
		{"bad addr", []string{"serve", "--addr", "localhost"}, nil, 2, "HOST:PORT"},
		{"bad database URL", []string{"migrate", "--database", "mysql://x"}, nil, 2, "postgres://"},
		{"bad env", []string{"serve"}, map[string]string{"STEWARD_LOG_LEVEL": "loud"}, 2, "log_level"},
		{"missing config file", []string{"serve", "--config", filepath.Join(dir, "none.yaml")}, nil, 2, "read config file"},
		{"kb without subcommand", []string{"kb"}, nil, 2, "missing subcommand"},
		{"import of a bad entry", []string{"kb", "import", bad, "--data-dir", dir}, nil, 1, "lowercase slug"},
		{"import of a missing file", []string{"kb", "import", filepath.Join(dir, "none.json"), "--data-dir", dir}, nil, 1, "no such file"},
		{"import from stdin without format", []string{"kb", "import", "-", "--data-dir", dir}, nil, 2, "--format"},
		{"stray argument", []string{"kb", "releases", "extra", "--data-dir", dir}, nil, 2, `unexpected argument "extra"`},
		{"eval with a stray argument", []string{"eval", "sentiment", "--train", "x.jsonl", "--holdout", "0.2", "stray"}, nil, 2, `unexpected argument "stray"`},
		{"eval with an unknown model", []string{"eval", "intent", "--train", filepath.Join(dir, "none.jsonl"), "--holdout", "0.2", "--model", "foo"}, nil, 2, "--model must be"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := run(t, "", tc.env, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errs, tc.code, tc.want)
			}
		})
	}
	if code, out, _ := run(t, "", nil, "version"); code != 0 || !strings.HasPrefix(out, "steward ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, out, errs := run(t, "", nil, "--version"); code != 0 || !strings.HasPrefix(out, "steward ") || errs != "" {
		t.Fatalf("--version: %d %q %q", code, out, errs)
	}
	// A command's usage, asked for, goes to stdout with status 0 (steward
	// serve -h | less); a mistake is said once on stderr, with the hint,
	// not followed by every flag.
	for _, args := range [][]string{{"serve", "-h"}, {"restore", "--help"}, {"kb", "import", "-h"}, {"version", "-h"}} {
		if code, out, errs := run(t, "", nil, args...); code != 0 || !strings.Contains(out, "Usage: steward ") || errs != "" {
			t.Errorf("steward %s: exit %d, stdout %q, stderr %q; want 0 and the usage on stdout", strings.Join(args, " "), code, out, errs)
		}
	}
	if code, out, errs := run(t, "", nil, "serve", "--bogus"); code != 2 || out != "" || strings.Count(errs, "-bogus") != 1 ||
		strings.Contains(errs, "Usage:") || !strings.Contains(errs, "Run 'steward serve -h'") {
		t.Errorf("an unknown flag: exit %d, stdout %q, stderr %q; want 2 and one line with the hint", code, out, errs)
	}
	// Every command made of subcommands lists them on -h, --help and
	// "steward help GROUP", on stdout with status 0; before, each said
	// `unknown subcommand "-h"` and sent the reader back to -h.
	for group, sub := range map[string]string{"kb": "steward kb import FILE", "user": "steward user role EMAIL",
		"eval": "steward eval firewall --attacks", "keys": "steward keys rotate", "posture": "steward posture set --level N",
		"incident": "steward incident declare --title T"} {
		for _, args := range [][]string{{group, "-h"}, {group, "--help"}, {"help", group}} {
			code, out, errs := run(t, "", nil, args...)
			if code != 0 || !strings.Contains(out, "Usage: steward "+group+" SUBCOMMAND") || !strings.Contains(out, sub) || errs != "" {
				t.Errorf("steward %s: exit %d, stdout %q, stderr %q; want 0 and the list of subcommands", strings.Join(args, " "), code, out, errs)
			}
		}
	}
}

// The same import again with --override, after the gate refused it, is
// published: it changed nothing this time, and was taken for "nothing to
// publish" (exit 0, the refused content still pending).
func TestKBImportWithOverrideAfterARefusalPublishes(t *testing.T) {
	dir := t.TempDir()
	target := []string{"--data-dir", dir}
	env := map[string]string{"USER": "ops", "STEWARD_LOG_LEVEL": "error"}
	in := filepath.Join(dir, "kb.yaml")
	os.WriteFile(in, []byte(kbYAML), 0o600)
	if code, out, errs := run(t, "", env, append([]string{"kb", "import", in}, target...)...); code != 0 {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	spam := strings.Replace(kbYAML, "answer: 满99元包邮。", "answer: 包邮请点 https://free-ship.xyz/claim 领取。", 1)
	os.WriteFile(in, []byte(spam), 0o600)
	if code, out, errs := run(t, "", env, append([]string{"kb", "import", in}, target...)...); code != 1 {
		t.Fatalf("the refused import: %d %q %q", code, out, errs)
	}
	code, out, errs := run(t, "", env, append([]string{"kb", "import", in, "--override", "vendor promo"}, target...)...)
	if code != 0 || !strings.Contains(out, "release 2") {
		t.Fatalf("the same import with --override: %d %q %q; want release 2 published", code, out, errs)
	}
}

// TestKBReleaseCommands: a release that slips past the gate with an
// override is rolled back in one command, and the audit trail says so.
func TestKBReleaseCommands(t *testing.T) {
	dir := t.TempDir()
	target := []string{"--data-dir", dir}
	env := map[string]string{"USER": "ops", "STEWARD_LOG_LEVEL": "error"}
	in := filepath.Join(dir, "kb.yaml")
	os.WriteFile(in, []byte(kbYAML), 0o600)
	if code, out, errs := run(t, "", env, append([]string{"kb", "import", in}, target...)...); code != 0 ||
		!strings.Contains(out, "published and activated release 1") {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	spam := strings.Replace(kbYAML, "answer: 满99元包邮。", "answer: 包邮请点 https://free-ship.xyz/claim 领取，客服 400-123-4567。", 1)
	os.WriteFile(in, []byte(spam), 0o600)
	code, out, errs := run(t, "", env, append([]string{"kb", "import", in}, target...)...)
	if code != 1 || !strings.Contains(errs, "free-ship.xyz") || !strings.Contains(errs, "400-123-4567") ||
		!strings.Contains(errs, "--override") {
		t.Fatalf("spam import: %d %q %q", code, out, errs)
	}
	// The gate held the spam back: kb pending says what publishing would ship.
	code, out, errs = run(t, "", env, append([]string{"kb", "pending"}, target...)...)
	if code != 0 || !strings.Contains(out, "live release 1 → next release: 0 added, 0 removed, 1 changed") ||
		!strings.Contains(out, "~ ship-fee v1 → v2  zh-CN.answer") || !strings.Contains(out, "+ 包邮请点") {
		t.Fatalf("pending: %d %q %q", code, out, errs)
	}
	if code, out, errs := run(t, "", env, append([]string{"kb", "publish", "--override", "vendor promo"}, target...)...); code != 0 ||
		!strings.Contains(out, "release 2") || !strings.Contains(out, "vendor promo") {
		t.Fatalf("override: %d %q %q", code, out, errs)
	}
	code, out, errs = run(t, "", env, append([]string{"kb", "diff", "1", "2"}, target...)...)
	if code != 0 || !strings.Contains(out, "~ ship-fee v1 → v2  zh-CN.answer") || !strings.Contains(out, "+ 包邮请点") {
		t.Fatalf("diff: %d %q %q", code, out, errs)
	}
	code, out, errs = run(t, "", env, append([]string{"kb", "pending", "--json"}, target...)...)
	var nothing struct {
		From, To                int64
		Added, Removed, Changed []json.RawMessage
	}
	if err := json.Unmarshal([]byte(out), &nothing); code != 0 || err != nil || nothing.From != 2 || nothing.To != 0 ||
		len(nothing.Added)+len(nothing.Removed)+len(nothing.Changed) != 0 {
		t.Fatalf("pending after the publish: %d %q %q (%v)", code, out, errs, err)
	}
	if code, out, errs := run(t, "", env, append([]string{"kb", "rollback", "--reason", "spam"}, target...)...); code != 0 ||
		!strings.Contains(out, "rolled back from release 2 to release 1") {
		t.Fatalf("rollback: %d %q %q", code, out, errs)
	}
	// The rollback took the spam's approval back with it: the next publish
	// would not ship it again.
	code, out, errs = run(t, "", env, append([]string{"kb", "pending"}, target...)...)
	if code != 0 || !strings.Contains(out, "live release 1 → next release: nothing to publish") {
		t.Fatalf("pending after the rollback: %d %q %q", code, out, errs)
	}
	if code, _, errs := run(t, "", env, append([]string{"kb", "pending", "2"}, target...)...); code != 2 ||
		!strings.Contains(errs, "takes no arguments") {
		t.Fatalf("pending with an argument: %d %q", code, errs)
	}
	code, out, errs = run(t, "", env, append([]string{"kb", "releases"}, target...)...)
	if code != 0 || !strings.Contains(out, "active, last good") || !strings.Contains(out, "overridden: vendor promo") ||
		!strings.Contains(out, "rolled back") {
		t.Fatalf("releases: %d %q %q", code, out, errs)
	}
	code, out, errs = run(t, "", env, append([]string{"audit", "--action", "kb.release."}, target...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 5 || !strings.Contains(lines[1], "ops (command line)") ||
		!strings.Contains(lines[1], "kb.release.rollback") || !strings.Contains(lines[1], "reason=spam") {
		t.Fatalf("audit: %d %q %q", code, out, errs)
	}
	if code, out, errs := run(t, "", env, append([]string{"audit", "--verify"}, target...)...); code != 0 ||
		!strings.Contains(out, "audit chain intact") {
		t.Fatalf("verify: %d %q %q", code, out, errs)
	}
	if code, _, errs := run(t, "", env, append([]string{"kb", "diff", "1"}, target...)...); code != 2 ||
		!strings.Contains(errs, "two release ids") {
		t.Fatalf("diff with one id: %d %q", code, errs)
	}
}
