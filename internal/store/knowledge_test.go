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
		if err := db.ActivateRelease(ctx, first.ID, now, second.ID, "bad answers", second.ID, nil); err != nil {
			t.Fatal(err)
		}
		if err := db.ActivateRelease(ctx, first.ID, now, second.ID, "bad answers", second.ID, nil); errcode.Code(err) != errcode.Conflict {
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

// A search folds width, case in every script and common traditional
// characters, on both databases: SQL's LOWER() folds only ASCII on SQLite
// and width nowhere, so "vip" missed "ＶＩＰ", which Chinese text is full of.
// Entries stored before the folded column are found too: the migration
// that adds it fills it in.
func TestKnowledgeSearchFoldsWidthCaseAndScript(t *testing.T) {
	testutil.ForEachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		create := func(id, title string, c knowledge.Content) {
			t.Helper()
			r := &knowledge.Record{Entry: knowledge.Entry{ID: id, Category: "help", Title: title,
				Locales: map[string]knowledge.Content{knowledge.LocaleZH: c}, CreatedAt: now, UpdatedAt: now},
				Status: knowledge.StatusDraft, Version: 1, Author: "u1"}
			if err := db.CreateKBRecord(ctx, r, &knowledge.Revision{EntryID: id, Version: 1, Action: "create",
				Status: knowledge.StatusDraft, Actor: "u1", At: now}); err != nil {
				t.Fatal(err)
			}
		}
		create("member-perks", "ＶＩＰ会员权益", knowledge.Content{Questions: []string{"ＶＩＰ有什么好处"}, Answer: "ＶＩＰ会员包邮。"})
		create("order-status", "訂單查詢", knowledge.Content{Questions: []string{"我的訂單到哪了"}, Answer: "請在「我的訂單」查看物流。"})
		create("school", "École", knowledge.Content{Questions: []string{"ÉCOLE hours"}, Answer: "Open daily."})
		search := func(q string) []string {
			t.Helper()
			got, err := db.KBRecords(ctx, knowledge.Filter{Query: q})
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			var ids []string
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			return ids
		}
		cases := map[string]string{
			"vip":    "member-perks", // full-width letters, by a half-width search
			"ｖｉｐ会员":  "member-perks",
			"包邮":     "member-perks",
			"订单":     "order-status", // traditional characters, by a simplified search
			"查看物流":   "order-status",
			"école":  "school", // lower case beyond ASCII
			"ORDER-": "order-status",
		}
		check := func(when string) {
			t.Helper()
			for q, want := range cases {
				if got := search(q); len(got) != 1 || got[0] != want {
					t.Errorf("%s: search %q found %v, want [%s]", when, q, got, want)
				}
			}
			if got := search("退款"); len(got) != 0 {
				t.Errorf("%s: search 退款 found %v, want nothing", when, got)
			}
		}
		check("stored now")

		// The entries as a database before migration 10 holds them:
		// without the column (nor the later migrations' tables); migrating
		// again fills it in.
		if err := db.Update(ctx, func(ctx context.Context, t store.Tx) error {
			if _, err := t.Exec(ctx, `ALTER TABLE kb_entries DROP COLUMN search`); err != nil {
				return err
			}
			if _, err := t.Exec(ctx, `DROP TABLE login_failures`); err != nil { // migration 11
				return err
			}
			_, err := t.Exec(ctx, `DELETE FROM schema_migrations WHERE version >= 10`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if n, err := db.Migrate(ctx); err != nil || n != 2 {
			t.Fatalf("migrate again: %d applied, %v; want 2 (migrations 10 and 11)", n, err)
		}
		check("stored before the column")
	})
}
