package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/config"
)

// A port already taken is said at once, before anything else is done: the
// store was migrated, the config change audited, the demo accounts reset
// and the model trained before the server found it could not listen.
func TestOpenSaysATakenPortFirst(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := config.Default()
	cfg.Addr, cfg.DataDir, cfg.Demo = taken.Addr().String(), t.TempDir(), true
	_, err = Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Fatalf("Open on a taken port: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, SQLiteFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the database was created (%v) before the port was tried", err)
	}
	// The data directory is free again.
	lock, err := LockDataDir(cfg.DataDir)
	if err != nil {
		t.Fatalf("the data directory is still locked: %v", err)
	}
	lock.Release()
}
