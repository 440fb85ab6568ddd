package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A secret read from an empty file (a mount that came up empty, a Docker
// secret made from an unset variable, "echo > file") silently replaces the
// value the configuration file gave with "": the metrics token goes, so
// GET /metrics is public, and the identity secret goes, so customers'
// identities are believed as sent. Validate passes, as for a server
// configured without them. An empty secret file is a mistake to refuse.
func TestEmptySecretFileDoesNotUnsetTheSecret(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "steward.yaml")
	os.WriteFile(path, []byte("data_dir: /tmp/x\nmonitor:\n  metrics_token: from-the-file-0123456789\n"+
		"security:\n  identity_secret: from-the-file-and-at-least-thirty-two-bytes\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	for _, name := range []string{"STEWARD_METRICS_TOKEN", "STEWARD_IDENTITY_SECRET"} {
		env := map[string]string{name + "_FILE": empty}
		cfg, err := Load(path, func(k string) string { return env[k] })
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil && strings.Contains(err.Error(), name+"_FILE") {
			continue // refused, naming the variable: what is wanted
		}
		t.Errorf("%s_FILE names an empty file: err = %v; metrics_token %q, identity_secret %q (the configuration file's were silently unset)",
			name, err, cfg.Monitor.MetricsToken, cfg.Security.IdentitySecret)
	}
}

// Validate compares rates and accuracies with < and <=, which NaN (".nan"
// in YAML) passes: a rate limit of NaN limits nothing at all (the
// bucket's tokens become NaN, it counts as full and is forgotten, so every
// request meets a new full bucket), and a gate minimum of NaN never
// refuses a release (acc < NaN is false).
func TestValidateRefusesNaN(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.yaml")
	for _, tc := range []struct{ yaml, want string }{
		{"security:\n  rate_limits:\n    ip: {rate: .nan, burst: 50}\n", "rate_limits.ip"},
		{"knowledge:\n  gate:\n    min_accuracy: .nan\n", "min_accuracy"},
	} {
		os.WriteFile(path, []byte("data_dir: /tmp/x\n"+tc.yaml), 0o600)
		cfg, err := Load(path, func(string) string { return "" })
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: Validate() = %v, want a message about %s (rate %v, min_accuracy %v)", tc.yaml, err, tc.want,
				cfg.Security.RateLimits.IP.Rate, cfg.Knowledge.Gate.MinAccuracy)
		}
	}
}
