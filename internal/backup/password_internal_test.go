package backup

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// A PostgreSQL URL may carry its password as a query parameter
// (postgres://u@db/steward?password=...), which config.Redacted and the
// store's own redaction know about. The restore's printed/logged target
// must not show it.
func TestRedactedURLHidesQueryPasswords(t *testing.T) {
	for _, u := range []string{
		"postgres://u@db/steward?password=s3cr3tPW&sslmode=disable",
		"postgres://u:pw@db/steward?sslmode=verify-full&sslpassword=s3cr3tPW",
	} {
		if got := redactedURL(u); strings.Contains(got, "s3cr3tPW") {
			t.Errorf("redactedURL(%q) = %q: the password is shown", u, got)
		}
	}
}

// pg_dump / pg_restore get the password through PGPASSWORD, "never on a
// command line" (docs/deploy.md); a password given as ?password= is put on
// the command line (visible in ps) as part of --dbname.
func TestAQueryPasswordIsNotOnTheCommandLine(t *testing.T) {
	b := New(Options{})
	p := b.startPG(context.Background(), "/bin/true", "postgres://u@db/steward?password=s3cr3tPW")
	p.wait()
	if p.cmd == nil {
		t.Fatal("not started")
	}
	for _, a := range p.cmd.Args {
		if strings.Contains(a, "s3cr3tPW") {
			t.Errorf("the password is on the command line: %q", a)
		}
	}
	if !slices.Contains(p.cmd.Env, "PGPASSWORD=s3cr3tPW") {
		t.Error("the query's password did not go to PGPASSWORD")
	}
}
