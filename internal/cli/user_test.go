package cli_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
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

// TestUserRole: `steward user role EMAIL ROLE` changes a role, refuses to
// demote the last admin, and the audit trail names the operator.
func TestUserRole(t *testing.T) {
	dir := t.TempDir()
	target := []string{"--data-dir", dir}
	env := map[string]string{"USER": "ops"}
	for _, u := range []struct{ email, role string }{{"root@example.com", "admin"}, {"li@example.com", "agent"}} {
		if code, out, errs := run(t, "a long passphrase\n", env, append([]string{"user", "add", "--email", u.email, "--role", u.role,
			"--password-stdin"}, target...)...); code != 0 {
			t.Fatalf("add %s: %d %q %q", u.email, code, out, errs)
		}
	}
	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"li@example.com", "supervisor"}, 0, "li@example.com is now supervisor (was agent)"},
		{[]string{"li@example.com", "supervisor"}, 0, "li@example.com is already supervisor"},
		{[]string{"root@example.com", "agent"}, 1, "cannot demote the last enabled admin"},
		{[]string{"li@example.com", "admin"}, 0, "is now admin"},
		{[]string{"root@example.com", "auditor"}, 0, "root@example.com is now auditor (was admin)"},
		{[]string{"li@example.com", "root"}, 2, "role must be admin, supervisor, agent or auditor"},
		{[]string{"nobody@example.com", "agent"}, 1, "no user with email"},
		{[]string{"li@example.com"}, 2, "user role EMAIL ROLE"},
	}
	for _, st := range steps {
		code, out, errs := run(t, "", env, append(append([]string{"user", "role"}, st.args...), target...)...)
		if code != st.code || !strings.Contains(out+errs, st.want) {
			t.Fatalf("user role %v: %d %q %q, want %d and %q", st.args, code, out, errs, st.code, st.want)
		}
	}
	code, out, errs := run(t, "", env, append([]string{"audit", "--action", "user.", "--json"}, target...)...)
	var trail struct {
		Entries []struct{ Actor, ActorName, Action string } `json:"entries"`
	}
	if err := json.Unmarshal([]byte(out), &trail); code != 0 || err != nil {
		t.Fatalf("audit: %d %q %v", code, errs, err)
	}
	var roles int
	for _, e := range trail.Entries {
		if e.Actor != "cli:ops" {
			t.Errorf("entry %+v is not by the operator", e)
		}
		if e.Action == "user.role" {
			roles++
		}
	}
	if roles != 3 || len(trail.Entries) != 5 {
		t.Fatalf("user entries %+v, want 2 creations and 3 role changes", trail.Entries)
	}
}

// A mistyped or missing data directory is not a new, empty database:
// commands that read or change an existing one refuse and name the path,
// and create nothing; the first admin of a new installation may still be
// added before the first serve, which says it created the database.
func TestCommandsDoNotInventADatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dta")
	for _, args := range [][]string{
		{"audit", "verify"}, {"audit"}, {"user", "list"}, {"user", "disable", "--email", "a@b.co"},
		{"user", "role", "a@b.co", "agent"}, {"kb", "releases"}, {"kb", "export", "--format", "yaml", "-"},
		{"keys", "list"},
	} {
		code, out, errOut := run(t, "", nil, append(args, "--data-dir", dir)...)
		if code != 1 || out != "" || !strings.Contains(errOut, "no Steward database at "+filepath.Join(dir, "steward.db")) {
			t.Errorf("%v in a directory without a database: %d %q %s", args, code, out, errOut)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a refused command created %s: %v", dir, err)
	}
	code, _, errOut := run(t, "correct horse battery\n", nil, "user", "add", "--email", "first@example.com", "--role", "admin",
		"--password-stdin", "--data-dir", dir)
	if code != 0 || !strings.Contains(errOut, "created a new database at "+filepath.Join(dir, "steward.db")) {
		t.Fatalf("the first admin of a new installation: %d %s", code, errOut)
	}
	if code, out, errOut := run(t, "", nil, "user", "list", "--data-dir", dir); code != 0 || !strings.Contains(out, "first@example.com") ||
		strings.Contains(errOut, "created") {
		t.Fatalf("user list after the first admin: %d %q %s", code, out, errOut)
	}
}

// A read-only command given an empty PostgreSQL database (a wrong name,
// one made to restore into) refuses it, as it refuses a missing SQLite
// file, instead of installing the schema and reporting on nothing.
func TestReadOnlyCommandsRefuseAnEmptyDatabase(t *testing.T) {
	url := testutil.PostgresURL(t)
	for _, args := range [][]string{{"user", "list"}, {"audit", "--verify"}, {"keys", "list"}, {"kb", "export"}} {
		code, out, errs := run(t, "", nil, append(args, "--database", url)...)
		if code != 1 || !strings.Contains(errs, "no Steward tables") || out != "" {
			t.Fatalf("%v on an empty database: %d %q %q", args, code, out, errs)
		}
	}
	if code, _, errs := run(t, "", nil, "migrate", "--database", url); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := run(t, "", nil, "user", "list", "--database", url); code != 0 {
		t.Fatalf("after migrate: %d %q", code, errs)
	}
}
