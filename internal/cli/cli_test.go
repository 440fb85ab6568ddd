package cli_test

import (
	"bytes"
	"context"
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
			// What was exported imports again unchanged.
			if code, _, errs := run(t, out, nil, append([]string{"kb", "import", "--format", "json", "-"}, target...)...); code != 0 {
				t.Fatalf("re-import: %d %q", code, errs)
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
}
