package quality_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/quality"
	"github.com/steward-cs/steward/internal/store"
	"github.com/steward-cs/steward/internal/testutil"
)

// A rating's comment, a flag's reason and a dismissal's note are free text: personal data
// in them is masked before they are stored, as in messages and notes.
func TestCommentsAndReasonsAreMasked(t *testing.T) {
	ctx := context.Background()
	db := testutil.OpenStore(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
	engine := conversation.NewEngine(db, conversation.Options{})
	c, tok, _, err := engine.Start(ctx, conversation.StartRequest{Locale: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := engine.Handle(ctx, c.ID, tok, conversation.Input{Text: "运费多少"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := quality.NewService(db, nil).Rate(ctx, res.Conversation, 2, nil, "打我电话 13812345678 或写信 li.na@example.com")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := db.Rating(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []string{r.Comment, stored.Comment} {
		if strings.Contains(got, "13812345678") || strings.Contains(got, "li.na@example.com") || !strings.Contains(got, "138****5678") {
			t.Fatalf("comment kept as %q", got)
		}
	}
	transcript, err := db.Messages(ctx, c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	f, _, err := quality.NewFlags(db).Flag(ctx, res.Conversation, transcript, res.Replies[0].ID,
		"wrong, call 13812345678", quality.SourceCustomer, "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(f.Reason, "13812345678") {
		t.Fatalf("reason kept as %q", f.Reason)
	}
	// An editor's dismissal note is stored text too.
	if _, err := quality.NewFlags(db).Dismiss(ctx, []string{f.ID}, "editor", "客户说过 13812345678 不用回电"); err != nil {
		t.Fatal(err)
	}
	dismissed, err := db.Flags(ctx, []quality.FlagStatus{quality.FlagDismissed}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dismissed) != 1 || strings.Contains(dismissed[0].Note, "13812345678") || !strings.Contains(dismissed[0].Note, "138****5678") {
		t.Fatalf("dismissal note kept as %+v", dismissed)
	}
}
