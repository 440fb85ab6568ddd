package app

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/store"
)

// Each start records the configuration when it differs from the last one
// recorded, naming the sections that changed, and never a secret.
func TestConfigChangesAreAudited(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(t.TempDir(), SQLiteFile)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	log := audit.New(db, nil)
	entries := func() []audit.Entry {
		t.Helper()
		es, err := log.Entries(ctx, audit.Query{Action: "config.changed", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	cfg := config.Default()
	cfg.Notify.Channels = []config.Channel{{Name: "ops", Type: "webhook", Settings: map[string]any{
		"url": "https://hooks.example.com/secret-path", "secret": "s3cr3t-signing-key"}}}
	steps := []struct {
		name    string
		change  func(*config.Config)
		entries int
		changed []string
	}{
		{"the first start", nil, 1, nil},
		{"the same configuration", nil, 1, nil},
		{"a new signing secret alone", func(c *config.Config) {
			c.Notify.Channels = []config.Channel{{Name: "ops", Type: "webhook", Settings: map[string]any{
				"url": "https://hooks.example.com/secret-path", "secret": "rotated"}}}
		}, 1, nil},
		{"manual assignment", func(c *config.Config) { c.Desk.ManualAssign = true }, 2, []string{"desk"}},
		{"two sections", func(c *config.Config) { c.Desk.ManualAssign = false; c.LogLevel = "debug" }, 3, []string{"desk", "log_level"}},
		{"back to the same", nil, 3, []string{"desk", "log_level"}},
	}
	for _, st := range steps {
		if st.change != nil {
			st.change(&cfg)
		}
		if err := recordConfig(ctx, log, cfg); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		es := entries()
		if len(es) != st.entries {
			t.Fatalf("%s: %d entries, want %d", st.name, len(es), st.entries)
		}
		var changed []string
		if c, ok := es[0].Detail["changed"].([]any); ok {
			for _, s := range c {
				changed = append(changed, s.(string))
			}
		}
		if !slices.Equal(changed, st.changed) || es[0].Actor != "system" || es[0].Object != "config" {
			t.Fatalf("%s: %+v, want changed %v", st.name, es[0], st.changed)
		}
	}
	rep, err := log.Verify(ctx, nil)
	if err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	all, _ := log.Entries(ctx, audit.Query{Limit: 100})
	for _, e := range all {
		for _, v := range e.Detail {
			if s, ok := v.(string); ok && (strings.Contains(s, "s3cr3t") || strings.Contains(s, "secret-path")) {
				t.Fatalf("a secret in %+v", e)
			}
		}
	}
}
