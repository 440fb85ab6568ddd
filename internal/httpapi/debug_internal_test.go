package httpapi

import "testing"

// The profiles' command line hides database passwords, however written.
func TestCmdlineHidesPasswords(t *testing.T) {
	for _, tc := range []struct{ arg, want string }{
		{"--database=postgres://steward:s3cret@db:5432/steward", "--database=postgres://steward:xxxxx@db:5432/steward"},
		{"postgres://steward:s3cret@db/steward?sslmode=disable", "postgres://steward:xxxxx@db/steward?sslmode=disable"},
		{"postgres://steward:p@ss/w0rd@db/steward", "postgres://steward:xxxxx@db/steward"},
		{"host=db user=steward password=s3cret dbname=steward", "host=db user=steward password=xxxxx dbname=steward"},
		{"postgres://db/steward?user=steward&PASSWORD=s3cret&sslmode=require", "postgres://db/steward?user=steward&PASSWORD=xxxxx&sslmode=require"},
		{"postgres://steward@db/steward", "postgres://steward@db/steward"},
		{"--addr=127.0.0.1:8080", "--addr=127.0.0.1:8080"},
		{"serve", "serve"},
	} {
		if got := redactArg(tc.arg); got != tc.want {
			t.Errorf("redactArg(%q) = %q, want %q", tc.arg, got, tc.want)
		}
	}
}
