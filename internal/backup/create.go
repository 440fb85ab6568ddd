package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/errcode"
)

// Source is the database a backup is taken of.
type Source struct {
	DB Database
	// DatabaseURL is the PostgreSQL URL pg_dump connects to; empty for SQLite.
	DatabaseURL string
}

// Result is a backup just taken.
type Result struct {
	Path     string   `json:"path"`
	Bytes    int64    `json:"bytes"`
	Seconds  float64  `json:"seconds"`
	Manifest Manifest `json:"manifest"`
}

// nameLayout names a backup directory after its UTC time, so that names
// sort in time order.
const nameLayout = "20060102T150405.000Z"

// Create takes a backup of src into a new directory under dir and returns
// it. The directory is built under a temporary name, every file synced,
// then renamed into place: a backup directory that exists is complete.
func (b *Backups) Create(ctx context.Context, src Source, dir string) (Result, error) {
	start := b.now()
	kind := src.DB.Dialect()
	if kind != KindSQLite && kind != KindPostgres {
		return Result{}, fmt.Errorf("back up: unknown store %q", kind)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Result{}, fmt.Errorf("create backup directory: %w", err)
	}
	name := namePrefix + start.UTC().Format(nameLayout)
	final := filepath.Join(dir, name)
	if _, err := os.Stat(final); err == nil {
		return Result{}, errcode.Errorf(errcode.Conflict, "backup %s already exists", final)
	}
	tmp := filepath.Join(dir, tmpPrefix+name)
	if err := os.Mkdir(tmp, 0o750); err != nil {
		return Result{}, fmt.Errorf("create backup directory: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	m := Manifest{Format: FormatVersion, CreatedAt: start.UTC(), Store: kind, StewardVersion: b.version}
	var err error
	switch kind {
	case KindSQLite:
		m.Payload, m.Tool = sqlitePayload, "sqlite VACUUM INTO"
		payload := filepath.Join(tmp, m.Payload)
		if err = src.DB.Snapshot(ctx, payload); err == nil {
			err = b.in.InspectSQLite(ctx, payload, func(ctx context.Context, v View) error { return describe(ctx, v, &m) })
		}
	case KindPostgres:
		m.Payload = postgresPayload
		err = b.dumpPostgres(ctx, src, filepath.Join(tmp, m.Payload), &m)
	}
	if err != nil {
		return Result{}, fmt.Errorf("back up %s: %w", kind, err)
	}
	if m.PayloadSHA256, m.PayloadBytes, err = hashFile(ctx, filepath.Join(tmp, m.Payload)); err != nil {
		return Result{}, err
	}
	m.Seconds = roundSeconds(b.now().Sub(start))
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Result{}, fmt.Errorf("encode manifest: %w", err)
	}
	if err := writeFileSynced(filepath.Join(tmp, ManifestFile), append(data, '\n')); err != nil {
		return Result{}, err
	}
	if err := syncDir(tmp); err != nil {
		return Result{}, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return Result{}, fmt.Errorf("move backup into place: %w", err)
	}
	done = true
	if err := syncDir(dir); err != nil {
		return Result{}, err
	}
	b.logger.Info("backup taken", "path", final, "store", kind, "bytes", m.PayloadBytes, "seconds", m.Seconds)
	return Result{Path: final, Bytes: m.PayloadBytes, Seconds: m.Seconds, Manifest: m}, nil
}

// tmpPrefix starts the name of a backup directory being written.
const tmpPrefix = ".tmp-"

// describe fills the manifest with what v holds: the schema version, every
// table's rows and checksum, and the audit chain's head.
func describe(ctx context.Context, v View, m *Manifest) error {
	var err error
	if m.SchemaVersion, err = v.SchemaVersion(ctx); err != nil {
		return err
	}
	tables, err := v.Tables(ctx)
	if err != nil {
		return err
	}
	m.Tables = m.Tables[:0]
	for _, t := range tables {
		s, err := v.TableSum(ctx, t)
		if err != nil {
			return err
		}
		m.Tables = append(m.Tables, s)
	}
	if slices.Contains(tables, "audit_head") {
		if m.AuditHead, err = v.AuditHead(ctx); err != nil {
			return err
		}
	} else {
		m.AuditHead = audit.Head{}
	}
	return nil
}

// dumpPostgres runs pg_dump on the snapshot of a transaction that stays
// open until it is done, and describes the same snapshot meanwhile: the
// manifest and the archive hold the same state.
func (b *Backups) dumpPostgres(ctx context.Context, src Source, payload string, m *Manifest) error {
	if src.DatabaseURL == "" {
		return errcode.Errorf(errcode.Invalid, "backing up PostgreSQL needs its URL")
	}
	pgDump, err := b.pgTool("pg_dump")
	if err != nil {
		return err
	}
	if m.Tool, err = toolVersion(ctx, pgDump); err != nil {
		return err
	}
	return src.DB.Inspect(ctx, func(ctx context.Context, v View) error {
		if v.SnapshotID() == "" {
			return errors.New("the database did not export a snapshot for pg_dump")
		}
		dump := b.startPG(ctx, pgDump, src.DatabaseURL, "--format=custom", "--no-owner", "--no-privileges",
			"--snapshot="+v.SnapshotID(), "--file="+payload)
		derr := describe(ctx, v, m)
		if derr != nil {
			dump.cancel()
		}
		if err := dump.wait(); err != nil && derr == nil {
			return err
		}
		return derr
	})
}

func roundSeconds(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond)) / float64(time.Second)
}
