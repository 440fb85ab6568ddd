package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/incident"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/quality"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.MainWithPostgres(m)) }

func newConversation(id string) *conversation.Conversation {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &conversation.Conversation{
		ID: id, TokenHash: []byte{1, 2, 3}, State: conversation.StateBot, Locale: "zh-CN",
		Customer: conversation.Customer{ExternalID: "u-1", Name: "李雷", VIP: true}, LastSeq: 1,
		CreatedAt: now, UpdatedAt: now,
	}
}

func msg(c *conversation.Conversation, seq int64, role conversation.Role, text string) conversation.Message {
	return conversation.Message{ID: fmt.Sprintf("%s-%d", c.ID, seq), ConversationID: c.ID, Seq: seq, Role: role,
		Text: text, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
}

// turn appends a customer message and a bot reply to c, as the engine does.
func turn(c *conversation.Conversation, text string) conversation.Turn {
	cm := msg(c, c.LastSeq+1, conversation.RoleCustomer, text)
	bm := msg(c, c.LastSeq+2, conversation.RoleBot, "re: "+text)
	bm.Outcome, bm.Confidence = conversation.OutcomeAnswer, 0.9
	bm.Entry = &conversation.EntryRef{ID: "e1", Category: "shipping", Title: "运费"}
	c.LastSeq += 2
	return conversation.Turn{Conversation: c, Messages: []conversation.Message{cm, bm}}
}

func TestConversationRoundTrip(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newConversation("c1")
		greeting := msg(c, 1, conversation.RoleBot, "您好")
		if err := db.CreateConversation(ctx, c, []conversation.Message{greeting}); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveTurn(ctx, turn(c, "运费多少")); err != nil {
			t.Fatal(err)
		}
		got, err := db.Conversation(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		if got.LastSeq != 3 || got.Customer != c.Customer || string(got.TokenHash) != string(c.TokenHash) || !got.CreatedAt.Equal(c.CreatedAt) {
			t.Fatalf("conversation = %+v, want %+v", got, c)
		}
		msgs, err := db.Messages(ctx, "c1", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 3 || msgs[0].Text != "您好" || msgs[1].Text != "运费多少" || msgs[2].Entry == nil || msgs[2].Entry.Title != "运费" {
			t.Fatalf("messages = %+v", msgs)
		}
		after, err := db.Messages(ctx, "c1", 2)
		if err != nil || len(after) != 1 || after[0].Seq != 3 {
			t.Fatalf("messages after 2 = %+v, %v", after, err)
		}
		if _, err := db.Conversation(ctx, "nope"); !errcode.Is(err, errcode.NotFound) {
			t.Fatalf("missing conversation: err = %v, want not_found", err)
		}
	})
}

// A turn computed from a stale read must not be written: no message is lost
// or duplicated when two writers race on one conversation.
func TestSaveTurnRejectsStaleSeq(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newConversation("c2")
		if err := db.CreateConversation(ctx, c, []conversation.Message{msg(c, 1, conversation.RoleBot, "hi")}); err != nil {
			t.Fatal(err)
		}
		stale := *c
		if err := db.SaveTurn(ctx, turn(c, "first")); err != nil {
			t.Fatal(err)
		}
		err := db.SaveTurn(ctx, turn(&stale, "second"))
		if !errcode.Is(err, errcode.Conflict) {
			t.Fatalf("stale turn: err = %v, want conflict", err)
		}
		msgs, _ := db.Messages(ctx, "c2", 0)
		if len(msgs) != 3 {
			t.Fatalf("after a refused turn there are %d messages, want 3", len(msgs))
		}
	})
}

// Many concurrent writers share commits; a failing one inside a batch must
// not undo its neighbours.
func TestGroupCommitConcurrentTurns(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const convs, turns = 40, 10
		var wg sync.WaitGroup
		errs := make(chan error, convs*turns)
		for i := range convs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := newConversation(fmt.Sprintf("g%d", i))
				if err := db.CreateConversation(ctx, c, []conversation.Message{msg(c, 1, conversation.RoleBot, "hi")}); err != nil {
					errs <- err
					return
				}
				for j := range turns {
					if err := db.SaveTurn(ctx, turn(c, fmt.Sprintf("m%d", j))); err != nil {
						errs <- err
					}
					// A duplicate of the previous turn fails by itself.
					dup := *c
					dup.LastSeq -= 2
					bad := turn(&dup, "dup")
					bad.Messages[0].ID = fmt.Sprintf("dup-%d-%d", i, j)
					if err := db.SaveTurn(ctx, bad); err == nil {
						errs <- fmt.Errorf("conversation %s: duplicate turn was accepted", c.ID)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for i := range convs {
			msgs, err := db.Messages(ctx, fmt.Sprintf("g%d", i), 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 1+2*turns {
				t.Fatalf("conversation g%d has %d messages, want %d", i, len(msgs), 1+2*turns)
			}
			for k, m := range msgs {
				if m.Seq != int64(k+1) {
					t.Fatalf("g%d message %d has seq %d", i, k, m.Seq)
				}
			}
		}
	})
}

func TestKnowledgeLifecycle(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		log := audit.New(db, nil)
		kb := knowledge.NewService(db, knowledge.Options{TwoPersonRule: true, Audit: log,
			Gate: knowledge.GateOptions{MinAccuracy: 0.01}})
		alice, bob := knowledge.Actor{ID: "u_alice", Name: "Alice"}, knowledge.Actor{ID: "u_bob", Name: "Bob"}
		fee := knowledge.Entry{ID: "ship-fee", Category: "shipping", Title: "Fees", Tags: []string{"fee"}, Essential: true,
			Locales: map[string]knowledge.Content{"en": {Questions: []string{"how much is shipping", "delivery cost"},
				Answer: "Shipping is free over 99."}}}
		ret := knowledge.Entry{ID: "returns", Category: "after_sales", Title: "Returns",
			Locales: map[string]knowledge.Content{"en": {Questions: []string{"can I return this", "how do returns work"},
				Answer: "You can return items within seven days."}}}
		for _, e := range []knowledge.Entry{fee, ret} {
			if _, err := kb.Create(ctx, alice, e); err != nil {
				t.Fatal(err)
			}
			if _, err := kb.Submit(ctx, alice, e.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := kb.Approve(ctx, alice, e.ID); !errors.Is(err, knowledge.ErrSelfApproval) {
				t.Fatalf("self-approval: %v", err)
			}
			if _, err := kb.Approve(ctx, bob, e.ID); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := kb.Create(ctx, alice, fee); errcode.Code(err) != errcode.Conflict {
			t.Fatalf("duplicate id: %v", err)
		}
		r1, err := kb.Publish(ctx, bob, knowledge.PublishOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// A new draft does not change what the next release publishes.
		fee.Locales["zh-CN"] = knowledge.Content{Questions: []string{"运费多少"}, Answer: "满99包邮。"}
		rec, err := kb.Update(ctx, alice, "ship-fee", fee, 0)
		if err != nil || rec.Version != 2 || rec.Status != knowledge.StatusDraft || rec.ApprovedVersion != 1 {
			t.Fatalf("update: %+v, %v", rec, err)
		}
		if _, err := kb.Update(ctx, alice, "ship-fee", fee, 1); errcode.Code(err) != errcode.Conflict {
			t.Fatalf("stale version: %v", err)
		}
		hist, err := kb.History(ctx, "ship-fee")
		if err != nil || len(hist) != 4 || hist[3].Action != knowledge.ActionEdit || hist[3].Content == nil ||
			!slices.Equal(hist[3].Changes, []string{"zh-CN"}) || hist[2].Actor != "u_bob" {
			t.Fatalf("history: %+v, %v", hist, err)
		}
		r2, err := kb.Publish(ctx, bob, knowledge.PublishOptions{Note: "same content"})
		if err != nil || r2.Versions["ship-fee"] != 1 {
			t.Fatalf("second release: %+v, %v", r2, err)
		}
		got, err := kb.Release(ctx, r2.ID)
		if err != nil || len(got.Content) != 2 || got.Minimal != 1 || got.Quality.HeldOut == 0 {
			t.Fatalf("stored release: %+v, %v", got, err)
		}
		if _, err := kb.Rollback(ctx, bob, 0, "test"); err != nil {
			t.Fatal(err)
		}
		l, err := kb.Releases(ctx)
		if err != nil || l.ActiveID != r1.ID || l.Releases[0].RolledBackAt == nil || l.LastGoodID != r1.ID {
			t.Fatalf("after rollback: %+v, %v", l, err)
		}
		// A second service (another node) picks the active release up.
		other := knowledge.NewService(db, knowledge.Options{})
		if switched, err := other.Sync(ctx); err != nil || !switched || other.Active().Release.ID != r1.ID ||
			other.Active().Minimal == nil {
			t.Fatalf("sync: %v %v", switched, err)
		}
		entries, err := log.Entries(ctx, audit.Query{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		slices.Reverse(entries)
		if err := audit.Verify(entries); err != nil {
			t.Fatal(err)
		}
		if last := entries[len(entries)-1]; last.Action != "kb.release.rollback" || last.Actor != "u_bob" {
			t.Fatalf("last audit entry: %+v", last)
		}
	})
}

func TestMigrateIsIdempotentAndChecked(t *testing.T) {
	for _, b := range testutil.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, b.Options(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close(ctx)
			if err := db.CheckSchema(ctx); !errcode.Is(err, errcode.Unavailable) {
				t.Fatalf("empty database: CheckSchema = %v, want unavailable", err)
			}
			if n, err := db.Migrate(ctx); err != nil || n == 0 {
				t.Fatalf("first migrate applied %d, %v", n, err)
			}
			if n, err := db.Migrate(ctx); err != nil || n != 0 {
				t.Fatalf("second migrate applied %d, %v", n, err)
			}
			if err := db.CheckSchema(ctx); err != nil {
				t.Fatal(err)
			}
			if db.Dialect() != b.Name {
				t.Fatalf("dialect %s, want %s", db.Dialect(), b.Name)
			}
		})
	}
}

// A node that starts while another migrates a new PostgreSQL database
// waits for the migration to end before it reads the schema's version: read
// in the middle, the version looks stale and the node would exit asking for
// `steward migrate`.
func TestSettledSchemaVersionWaitsForAMigration(t *testing.T) {
	ctx := context.Background()
	url := testutil.PostgresURL(t)
	open := func() *store.DB {
		db, err := store.Open(ctx, store.Options{DatabaseURL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close(ctx) })
		return db
	}
	migrating, starting := open(), open()
	release, err := migrating.LockMigrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type version struct{ applied, known int }
	got := make(chan version, 1)
	go func() {
		a, k, err := starting.SettledSchemaVersion(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- version{a, k}
	}()
	select {
	case v := <-got:
		t.Fatalf("read version %d while a migration held the lock", v.applied)
	case <-time.After(300 * time.Millisecond):
	}
	release()
	if _, err := migrating.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-got:
		// It read either before the migration took the lock again (0) or
		// after it ended (all of them), never a step in between.
		if v.applied != 0 && v.applied != v.known {
			t.Fatalf("read version %d of %d", v.applied, v.known)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("never read the version after the lock was released")
	}
}

func TestFlagsAndUnanswered(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newConversation("c-flags")
		if err := db.CreateConversation(ctx, c, []conversation.Message{msg(c, 1, conversation.RoleBot, "hi")}); err != nil {
			t.Fatal(err)
		}
		answered := turn(c, "运费多少")
		answered.Messages[1].Entry = &conversation.EntryRef{ID: "shipping-fee", Category: "shipping"}
		if err := db.SaveTurn(ctx, answered); err != nil {
			t.Fatal(err)
		}
		lost := turn(c, "你们收二手吗")
		lost.Messages[1].Outcome, lost.Messages[1].Entry = conversation.OutcomeFallback, nil
		if err := db.SaveTurn(ctx, lost); err != nil {
			t.Fatal(err)
		}
		// The second question in a row the bot cannot answer is handed to
		// a person (or, with nobody online, answered with the offline
		// form): still unanswered. A handoff the customer asked for is not.
		stuck := turn(c, "能开专票吗")
		stuck.Messages[1].Outcome, stuck.Messages[1].Entry, stuck.Messages[1].Intent = conversation.OutcomeHandoff, nil, "invoice"
		if err := db.SaveTurn(ctx, stuck); err != nil {
			t.Fatal(err)
		}
		nobody := turn(c, "周日发货吗")
		nobody.Messages[1].Outcome, nobody.Messages[1].Entry, nobody.Messages[1].Intent = conversation.OutcomeOffline, nil, ""
		if err := db.SaveTurn(ctx, nobody); err != nil {
			t.Fatal(err)
		}
		asked := turn(c, "转人工")
		asked.Messages[1].Outcome, asked.Messages[1].Entry, asked.Messages[1].Intent = conversation.OutcomeHandoff, nil, "handoff.request"
		if err := db.SaveTurn(ctx, asked); err != nil {
			t.Fatal(err)
		}
		transcript, err := db.Messages(ctx, c.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		flags := quality.NewFlags(db)
		f, created, err := flags.Flag(ctx, c, transcript, answered.Messages[1].ID, "wrong", quality.SourceCustomer, "")
		if err != nil || !created || f.EntryID != "shipping-fee" || f.Question != "运费多少" {
			t.Fatalf("flag: %+v %v %v", f, created, err)
		}
		if again, created, err := flags.Flag(ctx, c, transcript, answered.Messages[1].ID, "", quality.SourceCustomer, ""); err != nil ||
			created || again.ID != f.ID {
			t.Fatalf("second flag: %+v %v %v", again, created, err)
		}
		// An id given twice (a console that sent a group and its member)
		// is one flag linked, not two.
		if n, err := flags.LinkFix(ctx, []string{f.ID, "f_unknown", f.ID}, "shipping-fee", 3, "u_ed"); err != nil || n != 1 {
			t.Fatalf("link: %d %v, want 1 flag linked", n, err)
		}
		if n, err := flags.Released(ctx, 7, map[string]int{"shipping-fee": 2}); err != nil || n != 0 {
			t.Fatalf("a release of an older version resolved %d flags (%v)", n, err)
		}
		if n, err := flags.Released(ctx, 8, map[string]int{"shipping-fee": 3}); err != nil || n != 1 {
			t.Fatalf("release of the fix resolved %d flags (%v)", n, err)
		}
		// Rolled back to a release without the fix: back to fixing, and
		// resolved again when a release serves the fix again (it was left
		// open, and no later release resolved it).
		if n, err := flags.Released(ctx, 9, map[string]int{"shipping-fee": 2}); err != nil || n != 1 {
			t.Fatalf("a rollback undid %d fixes (%v)", n, err)
		}
		if fixing, _, err := flags.Queue(ctx, quality.FlagFixing); err != nil || len(fixing) != 1 || fixing[0].Flags[0].FixVersion != 3 ||
			!strings.HasPrefix(fixing[0].Flags[0].Note, "release 9 does not serve the fix") {
			t.Fatalf("after the rollback: %+v %v, want the flag fixing, its fix kept, a note saying why", fixing, err)
		}
		if n, err := flags.Released(ctx, 8, map[string]int{"shipping-fee": 3}); err != nil || n != 1 {
			t.Fatalf("the fix served again resolved %d flags (%v)", n, err)
		}
		groups, _, err := flags.Queue(ctx, quality.FlagResolved)
		if err != nil || len(groups) != 1 || groups[0].Flags[0].ReleaseID != 8 || groups[0].Flags[0].FixVersion != 3 ||
			groups[0].Flags[0].HandledBy != "u_ed" || groups[0].Flags[0].Note != "release 8 serves the fix again" {
			t.Fatalf("resolved: %+v %v (the rollback's note must not stay on a flag resolved again)", groups, err)
		}
		un, cov, err := flags.Unanswered(ctx, time.Now().Add(-time.Hour), 10)
		var texts []string
		for _, u := range un {
			texts = append(texts, u.Text)
		}
		slices.Sort(texts)
		if err != nil || strings.Join(texts, " ") != "你们收二手吗 周日发货吗 能开专票吗" {
			t.Fatalf("unanswered: %q %v, want the fallback, the stuck handoff and the offline reply", texts, err)
		}
		if cov.Questions != 3 || cov.Truncated {
			t.Fatalf("coverage %+v, want 3 questions, all of them", cov)
		}
	})
}

// A server that cannot be reached is named in the error without the
// password, wherever the URL carries it.
func TestConnectErrorHidesThePassword(t *testing.T) {
	for _, u := range []string{
		"postgres://steward:s3cr3tPW@127.0.0.1:1/steward?connect_timeout=2",
		"postgres://steward@127.0.0.1:1/steward?password=s3cr3tPW&connect_timeout=2",
	} {
		_, err := store.Open(context.Background(), store.Options{DatabaseURL: u})
		if err == nil {
			t.Fatalf("opened %s", u)
		}
		if msg := err.Error(); strings.Contains(msg, "s3cr3tPW") || !strings.Contains(msg, "127.0.0.1:1") {
			t.Errorf("the error for %s: %s", u, msg)
		}
	}
}

// A server and a command started together on a new SQLite file both
// migrate it; both succeed. The second used to run a migration the first
// had just applied, and fail on "index already exists".
func TestConcurrentMigrationsOfOneSQLiteFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	const n = 4
	var dbs []*store.DB
	for range n {
		db, err := store.Open(ctx, store.Options{SQLitePath: path})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close(ctx)
		dbs = append(dbs, db)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	applied := make([]int, n)
	for i, db := range dbs {
		wg.Go(func() { applied[i], errs[i] = db.Migrate(ctx) })
	}
	wg.Wait()
	total := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("migrate %d: %v", i, errs[i])
		}
		total += applied[i]
	}
	_, known, err := dbs[0].SchemaVersion(ctx)
	if err != nil || total != known {
		t.Fatalf("%d migrations applied in all, %v; want each of the %d once", total, err, known)
	}
}

// The quality report's counts read alike on both databases.
func TestConversationStatsAndRatingScores(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newConversation("c-stats")
		if err := db.CreateConversation(ctx, c, []conversation.Message{msg(c, 1, conversation.RoleBot, "hi")}); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveTurn(ctx, turn(c, "运费多少")); err != nil {
			t.Fatal(err)
		}
		handed := turn(c, "转人工")
		handed.Messages[1].Outcome, handed.Messages[1].Entry = conversation.OutcomeHandoff, nil
		if err := db.SaveTurn(ctx, handed); err != nil {
			t.Fatal(err)
		}
		empty := newConversation("c-empty")
		if err := db.CreateConversation(ctx, empty, []conversation.Message{msg(empty, 1, conversation.RoleBot, "hi")}); err != nil {
			t.Fatal(err)
		}
		if err := db.AddRating(ctx, &quality.Rating{ConversationID: c.ID, Score: 4, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		from, to := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		stats, err := db.ConversationStats(ctx, from, to)
		if err != nil || len(stats) != 2 {
			t.Fatalf("stats %+v, %v; want two conversations", stats, err)
		}
		slices.SortFunc(stats, func(a, b quality.ConversationStat) int { return b.Asked - a.Asked })
		if s := stats[0]; s.Asked != 2 || s.BotTurns != 2 || s.Answered != 1 || s.Handoffs != 1 || s.Offline != 0 || s.AgentReplies != 0 {
			t.Errorf("the conversation with two turns: %+v", s)
		}
		if s := stats[1]; s.Asked != 0 || s.BotTurns != 0 {
			t.Errorf("the conversation with a greeting only: %+v", s)
		}
		scores, err := db.RatingScores(ctx, from, to)
		if err != nil || len(scores) != 1 || scores[0].Stars != 4 {
			t.Fatalf("scores %+v, %v", scores, err)
		}
		if stats, err := db.ConversationStats(ctx, to, to.Add(time.Hour)); err != nil || len(stats) != 0 {
			t.Fatalf("a span after them: %+v, %v", stats, err)
		}
	})
}

// An assignment saved with an AssigneeLimit is refused once the agent has
// that many other conversations, however many nodes assign to them at
// once (a claim on each node, the leader's router): the count and the
// save are one transaction, taken in turn per agent.
func TestAssigneeLimitHoldsAcrossNodes(t *testing.T) {
	testutil.ForEachBackendOnTwoNodes(t, func(t *testing.T, nodes [2]*store.DB) {
		ctx := context.Background()
		const convs, limit = 12, 2
		queued := make([]*conversation.Conversation, convs)
		for i := range queued {
			c := newConversation(fmt.Sprintf("q%d", i))
			if err := nodes[0].CreateConversation(ctx, c, []conversation.Message{msg(c, 1, conversation.RoleBot, "hi")}); err != nil {
				t.Fatal(err)
			}
			queued[i] = c
		}
		assign := func(c *conversation.Conversation) conversation.Turn {
			next := *c
			next.State, next.Assignee, next.AssignedAt = conversation.StateAssigned, "ana", time.Now().UTC()
			next.LastSeq++
			m := msg(&next, next.LastSeq, conversation.RoleSystem, "Ana joined")
			return conversation.Turn{Conversation: &next, Messages: []conversation.Message{m}, AssigneeLimit: limit}
		}
		var (
			wg         sync.WaitGroup
			won, full  atomic.Int32
			unexpected = make(chan error, convs)
		)
		for i, c := range queued {
			wg.Go(func() {
				switch err := nodes[i%2].SaveTurn(ctx, assign(c)); {
				case err == nil:
					won.Add(1)
				case errors.Is(err, conversation.ErrAssigneeFull) && errcode.Is(err, errcode.Conflict):
					full.Add(1)
				default:
					unexpected <- err
				}
			})
		}
		wg.Wait()
		close(unexpected)
		for err := range unexpected {
			t.Error(err)
		}
		if won.Load() != limit || full.Load() != convs-limit {
			t.Fatalf("%d assignments saved and %d refused as full, want %d and %d", won.Load(), full.Load(), limit, convs-limit)
		}
		assigned := 0
		for _, c := range queued {
			got, err := nodes[1].Conversation(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State == conversation.StateAssigned {
				assigned++
				// Saving an assigned conversation again (a message
				// from its agent) does not count it against itself.
				again := assign(got)
				if err := nodes[0].SaveTurn(ctx, again); err != nil {
					t.Fatalf("a turn of a conversation already Ana's, at her limit: %v", err)
				}
			}
		}
		if assigned != limit {
			t.Fatalf("%d conversations are Ana's, want %d", assigned, limit)
		}
	})
}

// A rollback without a target goes to the newest good release older than
// the active one. After a rollback to an older release, the newest good one
// other than the active one is newer than it, which a rollback refuses:
// every rollback without a target failed then, the incident controller's
// among them.
func TestARollbackWithoutATargetGoesBackAfterARollback(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kb := knowledge.NewService(db, knowledge.Options{Gate: knowledge.GateOptions{MinAccuracy: 0.01}})
		op := knowledge.Actor{ID: "u_op", Name: "Op"}
		fee, ret := twoEntries()
		if _, err := kb.Import(ctx, op, []knowledge.Entry{fee, ret}, true); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for range 4 {
			r, err := kb.Publish(ctx, op, knowledge.PublishOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
		}
		if _, err := kb.Rollback(ctx, op, ids[1], "release 3 and 4 are bad"); err != nil {
			t.Fatal(err)
		}
		l, err := kb.Releases(ctx)
		if err != nil || l.ActiveID != ids[1] || l.RollbackTo != ids[0] {
			t.Fatalf("after rolling back to %d: active %d, rollback_to %d (%v); want %d and %d", ids[1], l.ActiveID, l.RollbackTo, err,
				ids[1], ids[0])
		}
		if r, err := kb.Rollback(ctx, op, 0, "release 2 is bad too"); err != nil || r.ID != ids[0] {
			t.Fatalf("a rollback without a target: %+v, %v; want release %d", r, err, ids[0])
		}
	})
}

// Two nodes starting together on a new database both publish the first
// release; one wins the active release's compare-and-swap, and the other
// serves the winner's release instead of failing to start.
func TestTwoNodesLoadingTheFirstReleaseTogetherBothStart(t *testing.T) {
	ctx := context.Background()
	op := knowledge.Actor{ID: "u_op", Name: "Op"}
	fee, ret := twoEntries()
	for round := range 3 { // a new database each round
		path := filepath.Join(t.TempDir(), "s.db")
		dbs := []*store.DB{testutil.OpenStore(t, store.Options{SQLitePath: path}), testutil.OpenStore(t, store.Options{SQLitePath: path})}
		if _, err := knowledge.NewService(dbs[0], knowledge.Options{}).Import(ctx, op, []knowledge.Entry{fee, ret}, true); err != nil {
			t.Fatal(err)
		}
		var svcs []*knowledge.Service
		for _, db := range dbs {
			svcs = append(svcs, knowledge.NewService(db, knowledge.Options{Gate: knowledge.GateOptions{MinAccuracy: 0.01}}))
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, s := range svcs {
			wg.Go(func() { errs[i] = s.Load(ctx) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: node %d failed to load: %v", round, i, err)
			}
		}
		a, b := svcs[0].Active(), svcs[1].Active()
		if a == nil || b == nil || a.Release == nil || b.Release == nil || a.Release.ID != b.Release.ID {
			t.Fatalf("round %d: the nodes serve %+v and %+v, want the same release", round, a, b)
		}
	}
}

// Importing entries as approved approves an entry the file matches whose
// working version is a draft: it counted as unchanged, stayed a draft, and
// never shipped.
func TestAnApprovedImportApprovesADraftItMatches(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kb := knowledge.NewService(db, knowledge.Options{})
		op := knowledge.Actor{ID: "u_op", Name: "Op"}
		fee, _ := twoEntries()
		if _, err := kb.Create(ctx, knowledge.Actor{ID: "u_alice", Name: "Alice"}, fee); err != nil {
			t.Fatal(err)
		}
		res, err := kb.Import(ctx, op, []knowledge.Entry{fee}, true)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := kb.Record(ctx, "ship-fee")
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status != knowledge.StatusApproved || rec.ApprovedVersion != rec.Version || res.Unchanged != 0 {
			t.Fatalf("after an approved import: status %s, version %d approved %d, result %+v; want approved as it is",
				rec.Status, rec.Version, rec.ApprovedVersion, res)
		}
		// Imported again, it is unchanged.
		if res, err := kb.Import(ctx, op, []knowledge.Entry{fee}, true); err != nil || res.Unchanged != 1 {
			t.Fatalf("the same import again: %+v, %v; want it unchanged", res, err)
		}
	})
}

// A version a reviewer rejected is not approved by an import of a file that
// holds it (the knowledge base exported and imported back, as a backup or a
// move is): it was, and shipped with the next publish, the rejection gone.
func TestAnApprovedImportLeavesARejectedVersionRejected(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kb := knowledge.NewService(db, knowledge.Options{})
		op := knowledge.Actor{ID: "u_op", Name: "Op"}
		alice, bob := knowledge.Actor{ID: "u_alice", Name: "Alice"}, knowledge.Actor{ID: "u_bob", Name: "Bob"}
		fee, _ := twoEntries()
		if _, err := kb.Import(ctx, op, []knowledge.Entry{fee}, true); err != nil {
			t.Fatal(err)
		}
		edit := fee.Clone()
		c := edit.Locales["en"]
		c.Answer = "Shipping is free on every order."
		edit.Locales["en"] = c
		if _, err := kb.Update(ctx, alice, "ship-fee", edit, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := kb.Submit(ctx, alice, "ship-fee"); err != nil {
			t.Fatal(err)
		}
		if _, err := kb.Reject(ctx, bob, "ship-fee", "not our policy"); err != nil {
			t.Fatal(err)
		}
		exported, err := kb.Export(ctx)
		if err != nil {
			t.Fatal(err)
		}
		res, err := kb.Import(ctx, op, exported, true)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := kb.Record(ctx, "ship-fee")
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status != knowledge.StatusRejected || rec.ApprovedVersion == rec.Version || res.Rejected != 1 || res.Changed != 0 {
			t.Fatalf("after importing the export: status %s, version %d approved %d, result %+v; want it left rejected",
				rec.Status, rec.Version, rec.ApprovedVersion, res)
		}
	})
}

// racingEditor is a store on which someone edits an entry right after an
// import has read it.
type racingEditor struct {
	*store.DB
	id   string
	edit func()
}

func (r *racingEditor) KBRecord(ctx context.Context, id string) (*knowledge.Record, error) {
	rec, err := r.DB.KBRecord(ctx, id)
	if id == r.id && r.edit != nil {
		r.edit()
		r.edit = nil
	}
	return rec, err
}

// An import is all or nothing: an entry edited by someone else while the
// import ran used to leave the entries before it written, without the
// import's audit record.
func TestAnImportThatMeetsAConflictWritesNothing(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		alice, op := knowledge.Actor{ID: "u_alice", Name: "Alice"}, knowledge.Actor{ID: "u_op", Name: "Op"}
		fee, ret := twoEntries()
		if _, err := knowledge.NewService(db, knowledge.Options{}).Create(ctx, alice, ret); err != nil {
			t.Fatal(err)
		}
		racer := &racingEditor{DB: db, id: ret.ID}
		racer.edit = func() {
			edited := ret
			edited.Title = "Returns (edited)"
			if _, err := knowledge.NewService(db, knowledge.Options{}).Update(ctx, alice, ret.ID, edited, 1); err != nil {
				t.Errorf("the racing edit: %v", err)
			}
		}
		kb := knowledge.NewService(racer, knowledge.Options{})
		newRet := ret
		newRet.Title = "Returns and refunds"
		_, err := kb.Import(ctx, op, []knowledge.Entry{fee, newRet}, false)
		if errcode.Code(err) != errcode.Conflict || !strings.Contains(errcode.Message(err), ret.ID) {
			t.Fatalf("an import over an entry edited meanwhile: %v, want a conflict naming %s", err, ret.ID)
		}
		if _, err := db.KBRecord(ctx, fee.ID); errcode.Code(err) != errcode.NotFound {
			t.Fatalf("the entry before the conflict: %v, want it not written", err)
		}
		if rec, err := db.KBRecord(ctx, ret.ID); err != nil || rec.Title != "Returns (edited)" || rec.Version != 2 {
			t.Fatalf("the entry edited meanwhile: %+v, %v; want the edit kept", rec, err)
		}
		// Imported again, it goes through as a whole.
		if res, err := kb.Import(ctx, op, []knowledge.Entry{fee, newRet}, false); err != nil || res.Created != 1 || res.Changed != 1 {
			t.Fatalf("the import again: %+v, %v", res, err)
		}
	})
}

// retiringPublisher is a store on which an entry is retired while a
// release is built.
type retiringPublisher struct {
	*store.DB
	retire func()
}

func (r *retiringPublisher) CreateRelease(ctx context.Context, rel *knowledge.Release, model, minimal []byte, active int64) error {
	if r.retire != nil {
		r.retire()
		r.retire = nil
	}
	return r.DB.CreateRelease(ctx, rel, model, minimal, active)
}

// An entry retired while a publish trained went into that release: the
// console called it retired while the bot answered with it.
func TestAnEntryRetiredDuringAPublishStaysOut(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
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
		racer := &retiringPublisher{DB: db, retire: func() {
			if _, err := plain.Retire(ctx, bob, ret.ID, "wrong policy"); err != nil {
				t.Errorf("the racing retire: %v", err)
			}
		}}
		kb := knowledge.NewService(racer, knowledge.Options{})
		_, err := kb.Publish(ctx, bob, knowledge.PublishOptions{})
		if errcode.Code(err) != errcode.Conflict || !strings.Contains(errcode.Message(err), ret.ID) ||
			!strings.Contains(errcode.MessageZH(err), ret.ID) {
			t.Fatalf("a publish over an entry retired meanwhile: %v, want a conflict naming %s", err, ret.ID)
		}
		if id, err := db.ActiveRelease(ctx); err != nil || id != 0 {
			t.Fatalf("active release %d, %v; want none", id, err)
		}
		// Published again, it leaves the entry out.
		r, err := kb.Publish(ctx, bob, knowledge.PublishOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := r.Versions[ret.ID]; ok || r.Versions[fee.ID] != 1 || r.Entries != 1 {
			t.Fatalf("the publish again: %d entries, versions %v; want the retired entry left out", r.Entries, r.Versions)
		}
	})
}

// The refusals a knowledge editor meets in the console have Chinese texts:
// an id taken, and a review step on an entry another reviewer moved first.
func TestKnowledgeRefusalsSpeakChinese(t *testing.T) {
	ctx := context.Background()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
	kb := knowledge.NewService(db, knowledge.Options{})
	alice, bob := knowledge.Actor{ID: "u_alice", Name: "Alice"}, knowledge.Actor{ID: "u_bob", Name: "Bob"}
	fee := knowledge.Entry{ID: "ship-fee", Category: "shipping", Title: "Fees",
		Locales: map[string]knowledge.Content{"en": {Questions: []string{"how much is shipping"}, Answer: "Shipping is free over 99."}}}
	if _, err := kb.Create(ctx, alice, fee); err != nil {
		t.Fatal(err)
	}
	_, dup := kb.Create(ctx, alice, fee)
	if _, err := kb.Submit(ctx, alice, fee.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := kb.Approve(ctx, bob, fee.ID); err != nil {
		t.Fatal(err)
	}
	_, late := kb.Approve(ctx, bob, fee.ID)
	for what, err := range map[string]error{"a taken id": dup, "a second approval": late} {
		if errcode.Code(err) != errcode.Conflict || errcode.MessageZH(err) == "" {
			t.Errorf("%s: %v (Chinese %q), want a conflict with a Chinese text", what, err, errcode.MessageZH(err))
		}
	}
}

// twoEntries are two small approved-ready entries for the knowledge tests.
func twoEntries() (fee, ret knowledge.Entry) {
	fee = knowledge.Entry{ID: "ship-fee", Category: "shipping", Title: "Fees",
		Locales: map[string]knowledge.Content{"en": {Questions: []string{"how much is shipping", "delivery cost"},
			Answer: "Shipping is free over 99."}}}
	ret = knowledge.Entry{ID: "returns", Category: "after_sales", Title: "Returns",
		Locales: map[string]knowledge.Content{"en": {Questions: []string{"can I return this", "how do returns work"},
			Answer: "You can return items within seven days."}}}
	return fee, ret
}

// A rating is refused while an agent has the conversation, as it is
// stored: the service checked the conversation as the caller had read it,
// so an assignment in between let in a rating of a service still under way.
func TestARatingIsRefusedWhileAnAgentHasTheConversation(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newConversation("c-rated")
		if err := db.CreateConversation(ctx, c, []conversation.Message{msg(c, 1, conversation.RoleBot, "您好")}); err != nil {
			t.Fatal(err)
		}
		read := *c // what the customer's request read, before the assignment
		assign := turn(c, "转人工")
		assign.Conversation.State, assign.Conversation.Assignee = conversation.StateAssigned, "u_agent"
		if err := db.SaveTurn(ctx, assign); err != nil {
			t.Fatal(err)
		}
		ratings := quality.NewService(db, nil)
		if _, err := ratings.Rate(ctx, &read, 5, nil, ""); !errors.Is(err, quality.ErrRateWhileAssigned) {
			t.Fatalf("a rating while an agent has the conversation: %v, want it refused", err)
		}
		if _, err := db.Rating(ctx, c.ID); errcode.Code(err) != errcode.NotFound {
			t.Fatalf("the rating refused was stored: %v", err)
		}
		closing := turn(c, "谢谢")
		closing.Conversation.State = conversation.StateClosed
		if err := db.SaveTurn(ctx, closing); err != nil {
			t.Fatal(err)
		}
		if r, err := ratings.Rate(ctx, c, 5, nil, ""); err != nil || r.Assignee != "u_agent" {
			t.Fatalf("a rating once closed: %+v, %v", r, err)
		}
	})
}

// Another process holds the SQLite file's write lock (a `steward` command
// writing to it) past the busy timeout: a write fails as "unavailable"
// (HTTP 503, try again), as PostgreSQL's equivalents do, instead of as an
// internal error (500, logged as Steward's own failure). Once the lock is
// let go, writes pass again.
func TestSQLiteBusyIsUnavailable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := store.Open(ctx, store.Options{SQLitePath: path, BusyTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	err = db.SavePosture(ctx, incident.Posture{Level: 1, All: true, Reason: "drill"})
	if code := errcode.Code(err); code != errcode.Unavailable {
		t.Errorf("a write while another process holds the lock: %v (code %q), want unavailable", err, code)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := db.SavePosture(ctx, incident.Posture{Level: 1, All: true, Reason: "drill"}); err != nil {
		t.Errorf("a write once the lock is let go: %v", err)
	}
}

// Flags made in the same millisecond (a console flagging a group) are
// listed in one order, by id, on both databases: a list cut by its limit
// was whichever rows the database found first, so the correction queue's
// page could differ between two reads and between SQLite and PostgreSQL.
func TestFlagsTiedInTimeListInOneOrder(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
		for _, id := range []string{"f3", "f1", "f6", "f2", "f5", "f4"} {
			if err := db.AddFlag(ctx, &quality.Flag{ID: id, ConversationID: "c", MessageID: "m-" + id, Status: quality.FlagOpen,
				Source: quality.SourceAgent, CreatedAt: at, UpdatedAt: at}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.Flags(ctx, []quality.FlagStatus{quality.FlagOpen}, 3)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, f := range got {
			ids = append(ids, f.ID)
		}
		if fmt.Sprint(ids) != "[f6 f5 f4]" {
			t.Errorf("the newest three of six flags made at once: %v, want [f6 f5 f4]", ids)
		}
	})
}
