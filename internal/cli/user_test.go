package cli_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

func TestUserAddListDisable(t *testing.T) {
	for _, b := range []string{"sqlite", "postgres"} {
		t.Run(b, func(t *testing.T) {
			dir := t.TempDir()
			target := []string{"--data-dir", dir}
			url := ""
			if b == "postgres" {
				url = testutil.PostgresURL(t)
				target = []string{"--database", url}
				if code, _, errs := run(t, "", nil, "migrate", "--database", url); code != 0 {
					t.Fatal(errs)
				}
			}
			add := append([]string{"user", "add", "--email", "Li.Lei@Example.com", "--name", "李雷", "--role", "agent",
				"--password-stdin", "--skills", "refund,shipping", "--languages", "zh-CN", "--max-chats", "4"}, target...)
			if code, out, errs := run(t, "a long passphrase\n", nil, add...); code != 0 || !strings.Contains(out, "added agent li.lei@example.com") {
				t.Fatalf("add: %d %q %q", code, out, errs)
			}
			if code, _, errs := run(t, "another long one\n", nil, add...); code != 1 || !strings.Contains(errs, "already exists") {
				t.Fatalf("second add: %d %q", code, errs)
			}
			code, out, errs := run(t, "", nil, append([]string{"user", "list", "--json"}, target...)...)
			if code != 0 {
				t.Fatalf("list: %d %q", code, errs)
			}
			var u struct {
				Email, Name, Role string
				Disabled          bool
				Skills, Languages []string
				MaxChats          int `json:"max_chats"`
			}
			if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &u); err != nil {
				t.Fatalf("list output %q: %v", out, err)
			}
			if u.Email != "li.lei@example.com" || u.Role != "agent" || u.Disabled || strings.Join(u.Skills, ",") != "refund,shipping" ||
				strings.Join(u.Languages, ",") != "zh-CN" || u.MaxChats != 4 {
				t.Fatalf("listed %+v", u)
			}
			if strings.Contains(out, "$2a$") || strings.Contains(out, "passphrase") {
				t.Fatal("list shows the password or its hash")
			}
			// The account signs in to a server on the same database, until disabled.
			run1 := testutil.Start(t, func(c *config.Config) { c.DataDir, c.Database, c.Demo = dir, url, false })
			testutil.Login(t, run1.URL, "li.lei@example.com", "a long passphrase")
			if code, out, errs := run(t, "", nil, append([]string{"user", "disable", "--email", "li.lei@example.com"}, target...)...); code != 0 || !strings.Contains(out, "disabled") {
				t.Fatalf("disable: %d %q %q", code, out, errs)
			}
			resp, err := http.Post(run1.URL+"/api/v1/auth/login", "application/json",
				strings.NewReader(`{"email":"li.lei@example.com","password":"a long passphrase"}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("login of a disabled account: %d", resp.StatusCode)
			}
		})
	}
}

func TestUserCommandErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"no subcommand", "", []string{"user"}, 2, "missing subcommand"},
		{"unknown subcommand", "", []string{"user", "remove"}, 2, "unknown user subcommand"},
		{"no email", "x\n", []string{"user", "add", "--role", "agent", "--password-stdin", "--data-dir", dir}, 2, "--email and --role"},
		{"bad role", "x\n", []string{"user", "add", "--email", "a@b.co", "--role", "boss", "--password-stdin", "--data-dir", dir}, 2, "role must be"},
		{"password on the command line is refused", "", []string{"user", "add", "--email", "a@b.co", "--role", "agent", "--data-dir", dir}, 2, "--password-stdin is required"},
		{"short password", "short\n", []string{"user", "add", "--email", "a@b.co", "--role", "agent", "--password-stdin", "--data-dir", dir}, 1, "at least 10"},
		{"empty stdin", "", []string{"user", "add", "--email", "a@b.co", "--role", "agent", "--password-stdin", "--data-dir", dir}, 1, "nothing was given"},
		{"bad email", "long enough pw\n", []string{"user", "add", "--email", "not-an-email", "--role", "agent", "--password-stdin", "--data-dir", dir}, 1, "not an address"},
		{"bad language", "long enough pw\n", []string{"user", "add", "--email", "a@b.co", "--role", "agent", "--password-stdin", "--languages", "fr", "--data-dir", dir}, 1, "languages may contain"},
		{"disable unknown", "", []string{"user", "disable", "--email", "nobody@b.co", "--data-dir", dir}, 1, "no user"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := run(t, tc.stdin, nil, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errs, tc.code, tc.want)
			}
		})
	}
}
