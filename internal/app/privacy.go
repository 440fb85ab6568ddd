package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/guard"
	"github.com/steward-cs/steward/internal/store"
)

// KeyFilePath is where the PII keyring file is: privacy.key_file, or
// pii-keys.json in the data directory.
func KeyFilePath(cfg config.Config) string {
	if cfg.Privacy.KeyFile != "" {
		return cfg.Privacy.KeyFile
	}
	return filepath.Join(cfg.DataDir, "pii-keys.json")
}

// openKeyring returns the keyring that seals originals of personal data,
// nil when the retention period is zero (nothing is kept). A missing key
// file is created with a fresh key. Records in db sealed under keys the
// ring does not hold (a database restored without its key file) are named
// in an error line: the server still starts, since customers can be served
// without revealing originals, but the operator must bring the keys back.
func openKeyring(ctx context.Context, cfg config.Config, db *store.DB, logger *slog.Logger) (*guard.Keyring, error) {
	if cfg.Privacy.RetentionOrDefault() == 0 {
		logger.Info("personal data is masked and no originals are kept (privacy.retention is 0)")
		return nil, nil
	}
	path := KeyFilePath(cfg)
	ring, created, err := guard.LoadKeyring(cfg.Privacy.Keys, path, true, time.Now())
	if err != nil {
		return nil, err
	}
	if created {
		logger.Warn("generated a new key for sealing personal data: back it up apart from the database, or originals cannot be revealed after a restore",
			"key_file", path, "key", ring.Active())
		if cfg.Database != "" {
			logger.Warn("with several nodes on PostgreSQL every node must use the same keys: set STEWARD_PII_KEYS or share privacy.key_file",
				"key_file", path)
		}
	}
	counts, err := db.VaultKeyCounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("count sealed records by key: %w", err)
	}
	if missing := ring.Missing(counts); len(missing) > 0 {
		logger.Error("records of personal data are sealed under keys this server does not hold: they cannot be revealed until the keys they were sealed with are added back with steward keys import OLD-KEY-FILE (copying an old key file over this one would lose the keys made since; steward keys list names what is missing)",
			"missing_keys", strings.Join(missing, ","), "key_file", path)
	}
	return ring, nil
}
