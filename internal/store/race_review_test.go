package store_test

// Checks that SQLite's single writer makes safe but that
// PostgreSQL (read committed, several nodes) lets through. Each test holds
// "another node's" write open in a transaction of its own on the same
// database, runs the store's operation against it, then commits: on SQLite
// the operation waits for the commit (one writer) and sees it; on
// PostgreSQL it must be made to wait or to re-check as well.

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/quality"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// otherNode opens a plain connection on the database of opts, as another
// node (or, on SQLite, another process) would write to it.
func otherNode(t *testing.T, opts store.Options) *sql.DB {
	t.Helper()
	var (
		raw *sql.DB
		err error
	)
	if opts.DatabaseURL != "" {
		raw, err = sql.Open("pgx", opts.DatabaseURL)
	} else {
		raw, err = sql.Open("sqlite3", "file:"+(&url.URL{Path: opts.SQLitePath}).EscapedPath()+
			"?_busy_timeout=10000&_txlock=immediate")
	}
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	t.Cleanup(func() { raw.Close() })
	return raw
}

// A rating must be refused while an agent has the conversation "as it is
// stored" (quality.go AddRating). On PostgreSQL the NOT EXISTS reads a
// snapshot and takes no lock on the conversation: an assignment another node
// is committing at that moment is not waited for, and the rating of a
// service still under way is stored. (The customer's real rating after the
// agent's service is then refused as "already rated".)
func TestARatingRacingAnAssignmentIsRefused(t *testing.T) {
	for _, b := range testutil.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			opts := b.Options(t)
			db := testutil.OpenStore(t, opts)
			c := newConversation("c-rate-race")
			if err := db.CreateConversation(ctx, c, []conversation.Message{msg(c, 1, conversation.RoleBot, "您好")}); err != nil {
				t.Fatal(err)
			}
			other := otherNode(t, opts)
			tx, err := other.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			// Another node's turn hands the conversation to an agent; not
			// committed yet.
			if _, err := tx.ExecContext(ctx, `UPDATE conversations SET state = 'assigned', assignee = 'u_agent'
				WHERE id = 'c-rate-race'`); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				done <- db.AddRating(ctx, &quality.Rating{ConversationID: c.ID, Score: 1,
					CreatedAt: time.Now().UTC().Truncate(time.Millisecond)})
			}()
			// SQLite: the rating waits for the other writer's commit.
			// PostgreSQL: it returns at once, the assignment still uncommitted.
			var returned bool
			select {
			case err = <-done:
				returned = true
			case <-time.After(2 * time.Second):
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if !returned {
				err = <-done
			}
			if !errors.Is(err, quality.ErrRateWhileAssigned) {
				t.Errorf("a rating racing an assignment: %v, want ErrRateWhileAssigned", err)
			}
			got, _ := db.Conversation(ctx, c.ID)
			if r, err := db.Rating(ctx, c.ID); err == nil {
				t.Errorf("rating %+v stored while the conversation is %s to %s", r, got.State, got.Assignee)
			}
		})
	}
}

// waitForALockWaiter returns once a statement waits for a row lock on
// PostgreSQL; on SQLite, where the writer waits in its busy handler, after
// a moment.
func waitForALockWaiter(t *testing.T, opts store.Options) {
	t.Helper()
	if opts.DatabaseURL == "" {
		time.Sleep(500 * time.Millisecond)
		return
	}
	mon, err := sql.Open("pgx", opts.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var n int
		if err := mon.QueryRow(`SELECT COUNT(*) FROM pg_locks WHERE NOT granted`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
	}
	t.Fatal("no statement came to wait for the other node's row lock")
}

// releaseSignal tells when a publish reaches CreateRelease.
type releaseSignal struct {
	*store.DB
	entered chan struct{}
}

func (r *releaseSignal) CreateRelease(ctx context.Context, rel *knowledge.Release, model, minimal []byte, active int64) error {
	close(r.entered)
	return r.DB.CreateRelease(ctx, rel, model, minimal, active)
}

// CreateRelease refuses a release holding an entry retired while it was
// built (noneRetired). On PostgreSQL the check is a plain SELECT: a retire
// another node is committing at that moment is not seen, the release's
// UPDATE ... status = 'published' then waits for that row, finds it retired,
// changes nothing, and the release is activated with the retired entry in
// it: the bot answers with an entry the console calls retired.
func TestAnEntryRetiredOnAnotherNodeDuringAPublishStaysOut(t *testing.T) {
	for _, b := range testutil.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			opts := b.Options(t)
			db := testutil.OpenStore(t, opts)
			alice, bob := knowledge.Actor{ID: "u_alice", Name: "Alice"}, knowledge.Actor{ID: "u_bob", Name: "Bob"}
			plain := knowledge.NewService(db, knowledge.Options{})
			fee, ret := twoEntries()
			for _, e := range []knowledge.Entry{fee, ret} {
				if _, err := plain.Create(ctx, alice, e); err != nil {
					t.Fatal(err)
				}
				if _, err := plain.Submit(ctx, alice, e.ID); err != nil {
					t.Fatal(err)
				}
				if _, err := plain.Approve(ctx, bob, e.ID); err != nil {
					t.Fatal(err)
				}
			}
			other := otherNode(t, opts)
			tx, err := other.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			// Another node retires the entry, as WriteKBRecords does (on
			// PostgreSQL: the knowledge base's advisory lock, then the
			// UPDATE); not committed yet.
			if opts.DatabaseURL != "" {
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, store.KnowledgeLock[0], store.KnowledgeLock[1]); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE kb_entries SET status = 'retired', version = version + 1
				WHERE id = 'returns' AND status = 'approved'`); err != nil {
				t.Fatal(err)
			}
			sig := &releaseSignal{DB: db, entered: make(chan struct{})}
			kb := knowledge.NewService(sig, knowledge.Options{})
			type result struct {
				r   *knowledge.Release
				err error
			}
			done := make(chan result, 1)
			go func() {
				r, err := kb.Publish(ctx, bob, knowledge.PublishOptions{})
				done <- result{r, err}
			}()
			select {
			case <-sig.entered:
			case <-time.After(30 * time.Second):
				t.Fatal("the publish never reached CreateRelease")
			}
			waitForALockWaiter(t, opts) // CreateRelease has run its check and waits
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			res := <-done
			rec, err := db.KBRecord(ctx, ret.ID)
			if err != nil {
				t.Fatal(err)
			}
			if res.err == nil {
				if _, ok := res.r.Versions[ret.ID]; ok && rec.Status == knowledge.StatusRetired {
					active, _ := db.ActiveRelease(ctx)
					t.Fatalf("release %d (active: %d) serves %s, which is %s", res.r.ID, active, ret.ID, rec.Status)
				}
			} else if errcode.Code(res.err) != errcode.Conflict {
				t.Fatalf("publish: %v, want a conflict naming %s", res.err, ret.ID)
			}
		})
	}
}

// The audit log's object filter with an id alone ("any type") is
// object = $x OR object LIKE '%:x' (audit.go AuditEntries): SQLite's LIKE
// ignores ASCII case, PostgreSQL's does not, so the same filter lists an
// entry on SQLite and nothing on PostgreSQL (and even on SQLite only the
// typed objects are found case-blind, not the untyped one).
func TestAuditObjectFilterCaseAlikeOnBothDatabases(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		log := audit.New(db, nil)
		for _, obj := range []string{"entry:gift_wrap", "gift_wrap"} {
			if err := log.Record(ctx, audit.Entry{Actor: "u1", Action: "test.touch", Object: obj}); err != nil {
				t.Fatal(err)
			}
		}
		es, err := log.Entries(ctx, audit.Query{Object: "GIFT_WRAP"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range es {
			got = append(got, e.Object)
		}
		if len(got) != 0 {
			t.Fatalf("object filter GIFT_WRAP lists %q on %s; PostgreSQL lists none", got, db.Dialect())
		}
	})
}

// A role change on one node and a disable on another, at the same moment,
// both stand. The service read the user, changed its copy and wrote every
// column back, serialised by a process mutex only: a role change that had
// read the user before another node disabled it wrote disabled = false
// back, and the account (which the admin was told was disabled) signed in
// again. Now the user is read and written in one transaction that the
// other node's change waits for.
func TestADisableOnAnotherNodeIsNotUndoneByARoleChange(t *testing.T) {
	testutil.ForEachBackendOnTwoNodes(t, func(t *testing.T, nodes [2]*store.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Millisecond)
		for _, u := range []*auth.User{
			{ID: "u_x", Email: "x@example.com", Role: auth.RoleAgent, MaxChats: 5, Presence: auth.Offline, CreatedAt: now, UpdatedAt: now},
			{ID: "u_admin", Email: "admin@example.com", Role: auth.RoleAdmin, MaxChats: 5, Presence: auth.Offline, CreatedAt: now, UpdatedAt: now},
		} {
			if err := nodes[0].CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		read, proceed := make(chan struct{}), make(chan struct{})
		a := auth.NewService(&pausingModify{DB: nodes[0], read: read, proceed: proceed}, auth.Options{BcryptCost: 4})
		b := auth.NewService(nodes[1], auth.Options{BcryptCost: 4})
		actor := auth.Actor{ID: "u_admin", Name: "Admin"}
		roleDone, disableDone := make(chan error, 1), make(chan error, 1)
		go func() {
			_, err := a.SetRole(ctx, actor, "u_x", auth.RoleSupervisor)
			roleDone <- err
		}()
		<-read // node A has read x, enabled, and holds it
		go func() {
			_, err := b.SetDisabled(ctx, actor, "x@example.com", true)
			disableDone <- err
		}()
		time.Sleep(300 * time.Millisecond) // node B's disable comes while A's change is under way
		close(proceed)
		if err := <-roleDone; err != nil {
			t.Fatal(err)
		}
		if err := <-disableDone; err != nil {
			t.Fatal(err)
		}
		got, err := nodes[0].User(ctx, "u_x")
		if err != nil {
			t.Fatal(err)
		}
		if !got.Disabled || got.Role != auth.RoleSupervisor {
			t.Fatalf("after a role change on node A and a disable on node B: %s is %s, disabled %v; want supervisor and disabled",
				got.Email, got.Role, got.Disabled)
		}
	})
}

// pausingModify holds a change between its read of the user and its
// write, as a slow request would.
type pausingModify struct {
	*store.DB
	read, proceed chan struct{}
	once          sync.Once
}

func (p *pausingModify) ModifyUser(ctx context.Context, id string, change func(u *auth.User) (bool, error)) (*auth.User, error) {
	return p.DB.ModifyUser(ctx, id, func(u *auth.User) (bool, error) {
		p.once.Do(func() {
			close(p.read)
			<-p.proceed
		})
		return change(u)
	})
}
