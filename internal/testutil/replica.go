package testutil

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// ReplicatedPostgres is a primary and a streaming-replication standby on
// loopback, for failover drills: kill the primary, promote the standby,
// and reach whichever is writable through one multi-host URL.
type ReplicatedPostgres struct {
	Primary, Standby *Postgres
	Sync             bool
}

// StandbyName is the standby's application_name, which synchronous
// replication names.
const StandbyName = "standby1"

// StartReplicatedPostgres starts a primary with database "steward" and a
// standby streaming from it. With sync, the primary's commits wait until
// the standby has them (synchronous_standby_names).
func StartReplicatedPostgres(sync bool) (*ReplicatedPostgres, error) {
	primary, err := StartPostgres(
		"-c", "wal_level=replica", "-c", "max_wal_senders=5", "-c", "synchronous_commit=on", "-c", "wal_keep_size=256MB")
	if err != nil {
		return nil, err
	}
	r := &ReplicatedPostgres{Primary: primary, Sync: sync}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := execSQL(ctx, primary.URL("postgres"), "CREATE DATABASE steward"); err != nil {
		r.Stop()
		return nil, err
	}
	standby, err := primary.cloneStandby()
	if err != nil {
		r.Stop()
		return nil, err
	}
	r.Standby = standby
	// Wait until the standby streams, then (for sync) make commits wait
	// for it: earlier, they would wait for a standby that is not there.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		db, err := sql.Open("pgx", primary.URL("postgres"))
		if err == nil {
			err = db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming'`, StandbyName).Scan(&n)
			db.Close()
		}
		if err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			logs := r.LogTail()
			r.Stop()
			return nil, fmt.Errorf("the standby does not stream: %v\n%s", err, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if sync {
		if err := execSQL(ctx, primary.URL("postgres"), "ALTER SYSTEM SET synchronous_standby_names = '"+StandbyName+"'"); err != nil {
			r.Stop()
			return nil, err
		}
		if err := execSQL(ctx, primary.URL("postgres"), "SELECT pg_reload_conf()"); err != nil {
			r.Stop()
			return nil, err
		}
	}
	return r, nil
}

func execSQL(ctx context.Context, url, q string) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	return nil
}

// cloneStandby takes a base backup of pg and starts it as a standby.
func (pg *Postgres) cloneStandby() (*Postgres, error) {
	dir, err := os.MkdirTemp("", "steward-pg-standby-")
	if err != nil {
		return nil, err
	}
	sb := &Postgres{dir: dir, bin: pg.bin, cred: pg.cred}
	if pg.cred != nil {
		if err := os.Chown(dir, int(pg.cred.Uid), int(pg.cred.Gid)); err != nil {
			return nil, err
		}
	}
	conninfo := "host=127.0.0.1 port=" + strconv.Itoa(pg.port) + " user=steward application_name=" + StandbyName
	if err := sb.run("pg_basebackup", "-d", conninfo, "-D", sb.dataDir(), "-R", "-X", "stream", "-c", "fast", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := sb.start("-c", "hot_standby=on"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return sb, nil
}

// URL is the multi-host URL of database db that reaches whichever server
// accepts writes.
func (r *ReplicatedPostgres) URL(db string) string {
	return fmt.Sprintf("postgres://steward@127.0.0.1:%d,127.0.0.1:%d/%s?sslmode=disable&target_session_attrs=read-write&connect_timeout=2",
		r.Primary.port, r.Standby.port, db)
}

// KillPrimary stops the primary at once, as a crash would.
func (r *ReplicatedPostgres) KillPrimary() error {
	return r.Primary.Crash()
}

// Promote makes the standby the primary.
func (r *ReplicatedPostgres) Promote() error {
	return r.Standby.run("pg_ctl", "-D", r.Standby.dataDir(), "-w", "-t", "60", "promote")
}

// StandbyURL reaches the standby (the primary after Promote) alone.
func (r *ReplicatedPostgres) StandbyURL(db string) string { return r.Standby.URL(db) }

// Stop stops both servers and removes their files.
func (r *ReplicatedPostgres) Stop() {
	if r.Standby != nil {
		r.Standby.Stop()
	}
	r.Primary.Stop()
}

// LogTail returns the end of each server's log, for a failed test.
func (r *ReplicatedPostgres) LogTail() string {
	var out string
	for name, pg := range map[string]*Postgres{"primary": r.Primary, "standby": r.Standby} {
		if pg == nil {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(pg.dir, "server.log"))
		if len(b) > 3000 {
			b = b[len(b)-3000:]
		}
		out += "--- " + name + " ---\n" + string(b)
	}
	return out
}

// Port is the server's loopback port.
func (pg *Postgres) Port() int { return pg.port }

// Exec runs one statement on database db of pg.
func (pg *Postgres) Exec(ctx context.Context, db, q string) error { return execSQL(ctx, pg.URL(db), q) }
