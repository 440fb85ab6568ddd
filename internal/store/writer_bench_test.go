package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// BenchmarkTurn measures the store's part of a bot turn as the engine
// makes it (conversation.Engine.Handle): read the conversation, then save
// the customer's message, the bot's reply and the conversation's new state
// in one write (SaveTurn). It runs on durable SQLite, as the app opens it
// (synchronous=FULL: a turn returns once its commit is on disk).
//
//	go test -run XXX -bench Turn -benchmem ./internal/store/
//
// one-at-a-time is a single customer: every turn is a batch of its own.
// concurrent is 256 customers (128 goroutines per core on two cores) each
// turning on a conversation of its own, so the writer's group commit
// gathers many turns into each transaction, as under the turns load of
// steward-bench.
func BenchmarkTurn(b *testing.B) {
	b.Run("one-at-a-time", func(b *testing.B) {
		db := openDurableSQLite(b)
		customer, err := newBenchCustomer(db, "b-one")
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if err := customer.turn(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("concurrent", func(b *testing.B) {
		db := openDurableSQLite(b)
		var next atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(128)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			// b.Fatal may not be called from these goroutines.
			customer, err := newBenchCustomer(db, fmt.Sprintf("b-%d", next.Add(1)))
			for err == nil && pb.Next() {
				err = customer.turn()
			}
			if err != nil {
				b.Error(err)
			}
		})
	})
}

func openDurableSQLite(b *testing.B) *store.DB {
	b.Helper()
	return testutil.OpenStore(b, store.Options{SQLitePath: filepath.Join(b.TempDir(), "steward.db"), Synchronous: "FULL",
		Logger: slog.New(slog.DiscardHandler)})
}

// benchCustomer is one conversation, turned by one goroutine at a time.
type benchCustomer struct {
	db *store.DB
	id string
}

func newBenchCustomer(db *store.DB, id string) (*benchCustomer, error) {
	c := newConversation(id)
	if err := db.CreateConversation(context.Background(), c, []conversation.Message{msg(c, 1, conversation.RoleBot, "您好")}); err != nil {
		return nil, err
	}
	return &benchCustomer{db: db, id: id}, nil
}

// turn reads the conversation, as the engine's Authorize does, and saves
// a turn computed from what it read.
func (bc *benchCustomer) turn() error {
	ctx := context.Background()
	c, err := bc.db.Conversation(ctx, bc.id)
	if err != nil {
		return err
	}
	return bc.db.SaveTurn(ctx, turn(c, "运费多少"))
}
