package testutil

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/store"
)

// Backend names a database engine a test runs against.
type Backend struct {
	Name string
	// Options opens a fresh, empty database of this engine.
	Options func(t testing.TB) store.Options
}

// Backends lists every engine: each store test runs once per backend.
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", Options: func(t testing.TB) store.Options {
			return store.Options{SQLitePath: filepath.Join(t.TempDir(), "steward.db")}
		}},
		{Name: "postgres", Options: func(t testing.TB) store.Options {
			return store.Options{DatabaseURL: PostgresURL(t)}
		}},
	}
}

// OpenStore opens and migrates a fresh database, closed when the test ends.
func OpenStore(t testing.TB, opts store.Options) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		db.Close(ctx)
	})
	return db
}

// ForEachBackend runs fn as a subtest per backend on a fresh migrated store.
func ForEachBackend(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, OpenStore(t, b.Options(t))) })
	}
}

// ForEachBackendOnTwoNodes runs fn as a subtest per backend with two
// handles on one fresh migrated database: two nodes sharing it.
func ForEachBackendOnTwoNodes(t *testing.T, fn func(t *testing.T, nodes [2]*store.DB)) {
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			opts := b.Options(t)
			fn(t, [2]*store.DB{OpenStore(t, opts), OpenStore(t, opts)})
		})
	}
}
