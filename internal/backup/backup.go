// Package backup takes backups of Steward's database, restores them, and
// verifies them by restoring into a scratch location and checking what came
// back: the payload's SHA-256, SQLite's integrity_check, every table's row
// count and checksum, the schema version and the audit hash chain.
//
// A backup is a directory holding a payload (a SQLite snapshot taken with
// VACUUM INTO, or a pg_dump archive in custom format) and manifest.json,
// which records what the payload must contain. Everything in the manifest
// is read from the same consistent state the payload holds: the SQLite
// snapshot itself, or the PostgreSQL snapshot pg_dump is given.
package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/errcode"
)

// Store kinds, as the manifest names them.
const (
	KindSQLite   = "sqlite"
	KindPostgres = "postgres"
)

// FormatVersion is the manifest format this binary writes and reads.
const FormatVersion = 1

// ManifestFile is the manifest's name inside a backup directory.
const ManifestFile = "manifest.json"

// The payload's name inside a backup directory, per store kind.
const (
	sqlitePayload   = "steward.db"
	postgresPayload = "steward.dump"
)

// namePrefix starts the name of every backup directory Steward writes; the
// retention only ever deletes directories named so.
const namePrefix = "steward-"

// TableSum is one table's row count and a checksum of its rows. The
// checksum does not depend on the order rows are read in: it is the sum,
// lane by lane, of each row's SHA-256.
type TableSum struct {
	Name     string `json:"name"`
	Rows     int64  `json:"rows"`
	Checksum string `json:"checksum"`
}

// Manifest describes a backup: what it was taken of and what it holds.
type Manifest struct {
	Format         int       `json:"format"`
	CreatedAt      time.Time `json:"created_at"`
	Store          string    `json:"store"` // sqlite or postgres
	SchemaVersion  int       `json:"schema_version"`
	StewardVersion string    `json:"steward_version"`
	// Tool is what wrote the payload: "sqlite VACUUM INTO", or pg_dump's
	// version line.
	Tool          string     `json:"tool"`
	Payload       string     `json:"payload"` // the payload's file name in the backup directory
	PayloadBytes  int64      `json:"payload_bytes"`
	PayloadSHA256 string     `json:"payload_sha256"`
	AuditHead     audit.Head `json:"audit_head"`
	Tables        []TableSum `json:"tables"`
	// Seconds is how long taking the backup took.
	Seconds float64 `json:"seconds"`
}

// View is one consistent, read-only state of a database: the live one (in
// a transaction), a SQLite snapshot file, or a scratch database a backup
// was restored into.
type View interface {
	audit.Reader
	// Dialect is "sqlite" or "postgres".
	Dialect() string
	// SnapshotID is, on PostgreSQL, the exported snapshot of the view's
	// transaction, which pg_dump --snapshot shares; "" on SQLite.
	SnapshotID() string
	// Tables lists the tables, sorted by name.
	Tables(ctx context.Context) ([]string, error)
	// TableSum counts a table's rows and checksums them.
	TableSum(ctx context.Context, table string) (TableSum, error)
	// SchemaVersion is the highest migration applied (0 when none).
	SchemaVersion(ctx context.Context) (int, error)
}

// Database is the live database a backup is taken of.
type Database interface {
	Dialect() string
	// Snapshot writes a consistent copy of a SQLite database to path
	// without holding writers up.
	Snapshot(ctx context.Context, path string) error
	// Inspect runs fn over one consistent state of the database.
	Inspect(ctx context.Context, fn func(context.Context, View) error) error
}

// Inspector opens what a backup is checked in: a SQLite file, a
// PostgreSQL database, a scratch database on a server.
type Inspector interface {
	// InspectSQLite runs fn over the SQLite file at path, read-only.
	InspectSQLite(ctx context.Context, path string, fn func(context.Context, View) error) error
	// InspectPostgres runs fn over one consistent state of the database at url.
	InspectPostgres(ctx context.Context, url string, fn func(context.Context, View) error) error
	// IntegrityCheck runs SQLite's integrity_check on the file at path and
	// returns its complaints (none when the file is sound).
	IntegrityCheck(ctx context.Context, path string) ([]string, error)
	// CreateDatabase creates an empty database on the server of serverURL
	// and returns its URL; DropDatabase drops it.
	CreateDatabase(ctx context.Context, serverURL, name string) (string, error)
	DropDatabase(ctx context.Context, serverURL, name string) error
	// TablesNotIn lists, changing nothing, the tables of Steward's schema
	// that the PostgreSQL database at url holds and keep does not name
	// (ours), and the tables there that are not Steward's (foreign).
	TablesNotIn(ctx context.Context, url string, keep []string) (ours, foreign []string, err error)
	// IdleDatabases lists the databases on serverURL's server whose names
	// begin with prefix and that no session is connected to.
	IdleDatabases(ctx context.Context, serverURL, prefix string) ([]string, error)
	// KnownSchemaVersion is the highest schema version this binary's
	// migrations reach for a store ("sqlite" or "postgres").
	KnownSchemaVersion(store string) (int, error)
}

// Options configure a Backups.
type Options struct {
	Inspector Inspector
	// Version is Steward's version, written into manifests (default: the
	// binary's build information).
	Version string
	// PGBin is the directory of pg_dump, pg_restore and psql (default: the newest
	// /usr/lib/postgresql/*/bin, else PATH).
	PGBin  string
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Backups takes, verifies and restores backups.
type Backups struct {
	in      Inspector
	version string
	pgBin   string
	logger  *slog.Logger
	now     func() time.Time
}

// New returns a Backups.
func New(opts Options) *Backups {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Version == "" {
		opts.Version = buildVersion()
	}
	return &Backups{in: opts.Inspector, version: opts.Version, pgBin: opts.PGBin, logger: opts.Logger.With("component", "backup"), now: opts.Now}
}

// buildVersion is the binary's module version or VCS revision.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	return "dev"
}

// errNewerFormat marks a manifest of a format newer than this binary reads:
// a backup taken by a newer Steward (before a rollback), which may well be
// sound, and which this binary cannot judge.
var errNewerFormat = errors.New("backup manifest of a newer format")

// ReadManifest reads and checks the manifest of the backup at path (its
// directory, or the manifest file itself). A manifest that is not one
// (not JSON, no payload) is an Invalid error; one that could not be read,
// or is of a newer format, is an error of no code, as the backup may be
// sound.
func ReadManifest(path string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(manifestPath(path))
	if errors.Is(err, os.ErrNotExist) {
		return m, errcode.Errorf(errcode.NotFound, "%s is not a Steward backup: it has no %s", path, ManifestFile)
	}
	if err != nil {
		return m, fmt.Errorf("read backup manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, errcode.Errorf(errcode.Invalid, "backup manifest %s is not valid JSON: %v", manifestPath(path), err)
	}
	switch {
	case m.Format > FormatVersion:
		return m, fmt.Errorf("%w: format %d, and this binary reads %d; use the Steward that took it", errNewerFormat,
			m.Format, FormatVersion)
	case m.Format != FormatVersion:
		return m, errcode.Errorf(errcode.Invalid, "backup manifest format %d is not one this binary reads (%d)", m.Format, FormatVersion)
	case m.Store != KindSQLite && m.Store != KindPostgres:
		return m, errcode.Errorf(errcode.Invalid, "backup manifest names an unknown store %q", m.Store)
	case m.Payload == "" || m.Payload != filepath.Base(m.Payload) || strings.HasPrefix(m.Payload, "."):
		return m, errcode.Errorf(errcode.Invalid, "backup manifest names an invalid payload file %q", m.Payload)
	case len(m.PayloadSHA256) != 64:
		return m, errcode.Errorf(errcode.Invalid, "backup manifest has no payload SHA-256")
	}
	return m, nil
}

// manifestPath is the manifest of the backup at path.
func manifestPath(path string) string {
	if filepath.Base(path) == ManifestFile {
		return path
	}
	return filepath.Join(path, ManifestFile)
}

// backupDir is the directory of the backup at path.
func backupDir(path string) string {
	if filepath.Base(path) == ManifestFile {
		return filepath.Dir(path)
	}
	return path
}
