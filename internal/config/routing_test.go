package config

import (
	"testing"
	"time"
)

// Negative durations are refused everywhere else (shutdown_timeout,
// incident.recover_after, llm.timeout, security.timeouts,
// privacy.retention), and so in monitor.group_wait, group_interval and
// repeat_interval, which took "-5m" silently: the alert manager then used
// its defaults instead.
func TestNegativeAlertRoutingDurationsAreRefused(t *testing.T) {
	for name, set := range map[string]func(*Config){
		"group_wait":      func(c *Config) { c.Monitor.GroupWait = -5 * time.Minute },
		"group_interval":  func(c *Config) { c.Monitor.GroupInterval = -5 * time.Minute },
		"repeat_interval": func(c *Config) { c.Monitor.RepeatInterval = -time.Hour },
	} {
		cfg := Default()
		set(&cfg)
		if err := cfg.Validate(); err == nil {
			t.Errorf("monitor.%s negative is accepted", name)
		}
	}
}
