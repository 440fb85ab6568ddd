package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/config"
)

// recordConfig adds a config.changed entry to the audit trail when the
// configuration this process started with differs from the one recorded
// last: its SHA-256 with the secrets removed, each section's, and which
// sections changed. The first start records it too.
func recordConfig(ctx context.Context, log *audit.Log, cfg config.Config) error {
	sum, sections := cfg.Fingerprint()
	last, err := log.Entries(ctx, audit.Query{Action: "config.changed", Limit: 1})
	if err != nil {
		return fmt.Errorf("read the last recorded config: %w", err)
	}
	var changed []string
	if len(last) > 0 {
		if last[0].Detail["sha256"] == sum {
			return nil
		}
		before, _ := last[0].Detail["sections"].(map[string]any)
		for name, h := range sections {
			if before[name] != h {
				changed = append(changed, name)
			}
		}
		for name := range before {
			if _, ok := sections[name]; !ok {
				changed = append(changed, name)
			}
		}
		slices.Sort(changed)
	}
	detail := map[string]any{"sha256": sum, "sections": sections}
	if changed != nil {
		detail["changed"] = changed
	} else {
		detail["first"] = true
	}
	return log.Record(ctx, audit.Entry{Actor: "system", ActorName: "Steward", Action: "config.changed", Object: "config",
		Detail: detail})
}
