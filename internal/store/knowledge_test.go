package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// A release is activated only over the active release its caller saw: a
// publish or rollback that came first (another node, a command, the
// incident controller) makes the later one a conflict, and a refused
// publish leaves no release behind. The last writer used to win, undoing
// a rollback without a word.
func TestActivationIsCompareAndSwap(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Millisecond)
		release := func(note string) *knowledge.Release {
			return &knowledge.Release{CreatedAt: now, Author: "u1", AuthorName: "Ops", Note: note, Versions: map[string]int{}}
		}
		first := release("first")
		if err := db.CreateRelease(ctx, first, []byte("m1"), nil, 0); err != nil {
			t.Fatal(err)
		}
		second := release("second")
		if err := db.CreateRelease(ctx, second, []byte("m2"), nil, first.ID); err != nil {
			t.Fatal(err)
		}
		// Gated against the first release, a third comes after the second.
		late := release("late")
		if err := db.CreateRelease(ctx, late, []byte("m3"), nil, first.ID); errcode.Code(err) != errcode.Conflict {
			t.Fatalf("a publish over an active release it did not see: %v, want a conflict", err)
		}
		rs, err := db.Releases(ctx)
		if err != nil || len(rs) != 2 {
			t.Fatalf("%d releases stored (%v), want 2: the refused one is not kept", len(rs), err)
		}
		// Two rollbacks from the second release: the first wins, the other is refused.
		if err := db.ActivateRelease(ctx, first.ID, now, second.ID, "bad answers", second.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.ActivateRelease(ctx, first.ID, now, second.ID, "bad answers", second.ID); errcode.Code(err) != errcode.Conflict {
			t.Fatalf("a second rollback from a release no longer active: %v, want a conflict", err)
		}
		if id, err := db.ActiveRelease(ctx); err != nil || id != first.ID {
			t.Fatalf("active release %d (%v), want %d", id, err, first.ID)
		}
	})
}

// A search finds text as an editor typed it, also where the stored JSON
// escapes it (& < > " and line breaks): "Q&A" never matched an answer.
func TestKnowledgeSearchFindsEscapedText(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		r := &knowledge.Record{Entry: knowledge.Entry{ID: "faq-page", Category: "help", Title: "FAQ",
			Locales: map[string]knowledge.Content{"en": {Title: "FAQ", Questions: []string{"where is the faq"},
				Answer: "See our Q&A page: <Help> → \"Frequently asked\"\\nor call us."}}, CreatedAt: now, UpdatedAt: now},
			Status: knowledge.StatusDraft, Version: 1, Author: "u1"}
		if err := db.CreateKBRecord(ctx, r, &knowledge.Revision{EntryID: "faq-page", Version: 1, Action: "create",
			Status: knowledge.StatusDraft, Actor: "u1", At: now}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"q&a", "<help>", `"frequently asked"`, "Q&A PAGE", "faq-page"} {
			got, err := db.KBRecords(ctx, knowledge.Filter{Query: q})
			if err != nil || len(got) != 1 {
				t.Errorf("search %q: %d entries, %v; want the FAQ entry", q, len(got), err)
			}
		}
	})
}
