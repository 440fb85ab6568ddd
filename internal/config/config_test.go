package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadLayersFileThenEnv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "steward.yaml")
	os.WriteFile(path, []byte("addr: 0.0.0.0:9000\nlog_level: debug\nshutdown_timeout: 5s\n"), 0o600)
	secret := filepath.Join(dir, "db")
	os.WriteFile(secret, []byte("postgres://u:pw@db/steward\n"), 0o600)
	env := map[string]string{"STEWARD_LOG_LEVEL": "warn", "STEWARD_DATABASE_FILE": secret, "STEWARD_DEMO": "true"}
	cfg, err := Load(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "0.0.0.0:9000" || cfg.LogLevel != "warn" || !cfg.Demo || cfg.ShutdownTimeout != 5*time.Second ||
		cfg.Database != "postgres://u:pw@db/steward" {
		t.Fatalf("cfg = %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cfg.Redacted(), "pw") || cfg.AutoMigrates() {
		t.Fatalf("redacted %q, auto-migrate %v", cfg.Redacted(), cfg.AutoMigrates())
	}
}

func TestLoadRejectsUnknownFieldsAndBadValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.yaml")
	os.WriteFile(path, []byte("adr: x\n"), 0o600)
	if _, err := Load(path, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "adr") {
		t.Fatalf("unknown field: err = %v", err)
	}
	cfg := Default()
	cfg.Addr, cfg.LogLevel, cfg.Database = "nope", "loud", "mysql://x"
	err := cfg.Validate()
	for _, want := range []string{"addr", "log_level", "database"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want a message about %s", err, want)
		}
	}
}
