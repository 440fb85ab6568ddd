package app_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/app"
	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/guard"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// A database restored without its key file: the server starts (customers
// are served), and its log names the keys the sealed records need.
func TestStartNamesTheKeysItDoesNotHold(t *testing.T) {
	dir := t.TempDir()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(dir, app.SQLiteFile)})
	ring, _, err := guard.LoadKeyring("", filepath.Join(t.TempDir(), "elsewhere.json"), true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := guard.NewVault(db, ring, 0, nil).Keep(context.Background(), "c1", "note:a", "手机 13812345678", time.Now()); err != nil {
		t.Fatal(err)
	}
	db.Close(context.Background())

	var log testutil.SyncBuffer
	testutil.StartLogging(t, func(c *config.Config) { c.DataDir = dir }, &log)
	if got := log.String(); !strings.Contains(got, "sealed under keys this server does not hold") || !strings.Contains(got, ring.Active()) {
		t.Fatalf("the start-up log does not name the missing key %s:\n%s", ring.Active(), got)
	}
}
