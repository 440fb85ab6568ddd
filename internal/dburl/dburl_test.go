package dburl

import (
	"strings"
	"testing"
)

func TestRedactHidesEveryPassword(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:pw@db:5432/steward?sslmode=disable":         "postgres://u@db:5432/steward?sslmode=disable",
		"postgres://u@db/steward?password=s3cr3t&sslmode=require": "postgres://u@db/steward?password=xxxxx&sslmode=require",
		"postgres://u@db/steward?sslpassword=s3cr3t":              "postgres://u@db/steward?sslpassword=xxxxx",
		"postgres://db/steward":                                   "postgres://db/steward",
		"postgres://u:pw@db/%zz":                                  "postgres:(unparseable)",
	} {
		got := Redact(in)
		if got != want || strings.Contains(got, "s3cr3t") || strings.Contains(got, ":pw@") {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
