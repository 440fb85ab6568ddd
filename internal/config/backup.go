package config

import (
	"fmt"
	"path/filepath"
	"time"
)

// Backup schedules backups in the running server. Off by default: an
// operator who relies on `steward backup` from cron, or on Litestream,
// needs nothing here.
//
//	backup:
//	  schedule: 24h          # how often (0 or unset: never)
//	  dir: /var/backups/steward   # default <data_dir>/backups
//	  keep: 7                # how many good backups to keep
//	  verify: true           # restore each one into a scratch location and check it
type Backup struct {
	Schedule time.Duration `yaml:"schedule"`
	Dir      string        `yaml:"dir"`
	// Keep is how many backups that passed verification are kept (default 7).
	Keep int `yaml:"keep"`
	// Verify restores each scheduled backup into a scratch location and
	// checks it (default true); a failure raises the backup_failed alert.
	Verify *bool `yaml:"verify"`
	// PGBin is the directory of pg_dump, pg_restore and psql, when they are not
	// where Debian puts them nor on PATH (STEWARD_PG_BIN, as for the
	// backup commands).
	PGBin string `yaml:"pg_bin"`
}

// DirOrDefault is where backups go: the configured dir, or backups/ in the
// data directory.
func (b Backup) DirOrDefault(dataDir string) string {
	if b.Dir != "" {
		return b.Dir
	}
	return filepath.Join(dataDir, "backups")
}

// KeepOrDefault is the retention count.
func (b Backup) KeepOrDefault() int {
	if b.Keep <= 0 {
		return 7
	}
	return b.Keep
}

// Verifies reports whether scheduled backups are verified.
func (b Backup) Verifies() bool { return b.Verify == nil || *b.Verify }

func (b Backup) validate() []error {
	var errs []error
	if b.Schedule < 0 {
		errs = append(errs, fmt.Errorf("backup.schedule must not be negative (0 turns scheduled backups off)"))
	} else if b.Schedule > 0 && b.Schedule < time.Second {
		errs = append(errs, fmt.Errorf("backup.schedule must be at least 1s, e.g. 24h"))
	}
	if b.Keep < 0 {
		errs = append(errs, fmt.Errorf("backup.keep must not be negative (0 for the default, 7)"))
	}
	return errs
}
