package quality

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestClusterQuestions(t *testing.T) {
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	ask := func(text, conv string, minutes int) Asked {
		return Asked{Text: text, Locale: "zh-CN", ConversationID: conv, At: at.Add(time.Duration(minutes) * time.Minute)}
	}
	got := ClusterQuestions([]Asked{
		ask("你们收不收二手手机壳", "c1", 0),
		ask("你们收不收二手手机壳？", "c2", 5),
		ask("你们收不收二手手机壳", "c2", 6),
		ask("请问你们收不收二手手机壳", "c3", 9),
		ask("Do you ship to Mars?", "c4", 1),
		ask("do you ship to mars", "c5", 2),
		ask("能开发票给个人吗", "c6", 3),
		ask("   ", "c7", 4),
	})
	if len(got) != 3 {
		t.Fatalf("%d clusters: %+v", len(got), got)
	}
	first := got[0]
	if first.Text != "你们收不收二手手机壳" || first.Count != 4 || first.Conversations != 3 ||
		len(first.Examples) != 1 || first.Examples[0] != "请问你们收不收二手手机壳" ||
		!first.FirstAt.Equal(at) || !first.LastAt.Equal(at.Add(9*time.Minute)) {
		t.Fatalf("first cluster %+v", first)
	}
	if got[1].Count != 2 || got[1].Conversations != 2 || got[2].Count != 1 {
		t.Fatalf("other clusters %+v", got[1:])
	}
}

// Short questions that differ in the word that matters stay apart; one
// that only adds a particle or a polite opening joins its cluster.
func TestClusterKeepsDifferentShortQuestionsApart(t *testing.T) {
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	var asked []Asked
	for i, text := range []string{"怎么退款", "怎么退货", "发票怎么开", "发票怎么改", "where is my order", "where is my card",
		"运费多少钱", "运费多少钱啊", "请问怎么退款"} {
		asked = append(asked, Asked{Text: text, Locale: "zh-CN", ConversationID: "c", At: at.Add(time.Duration(i) * time.Minute)})
	}
	got := ClusterQuestions(asked)
	var texts []string
	for _, c := range got {
		texts = append(texts, c.Text+"+"+strings.Join(c.Examples, "+"))
	}
	slices.Sort(texts)
	want := "where is my card+ | where is my order+ | 发票怎么开+ | 发票怎么改+ | 怎么退款+请问怎么退款 | 怎么退货+ | 运费多少钱+运费多少钱啊"
	if got := strings.Join(texts, " | "); got != want {
		t.Fatalf("clusters\n%s\nwant\n%s", got, want)
	}
}

// unansweredStore serves Unanswered alone (the rest of FlagStore panics).
type unansweredStore struct {
	FlagStore
	asked []Asked
}

func (s unansweredStore) Unanswered(_ context.Context, _ time.Time, limit int) ([]Asked, error) {
	return s.asked[:min(limit, len(s.asked))], nil
}

// Past the newest questions it reads, the list says it covers less than
// the period asked for, and since when (it claimed the whole period).
func TestUnansweredSaysWhatItCovers(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	since := now.AddDate(0, 0, -30)
	var asked []Asked
	for i := range maxUnansweredScan + 10 {
		asked = append(asked, Asked{Text: fmt.Sprintf("question %d", i%7), ConversationID: "c", At: now.Add(-time.Duration(i) * time.Minute)})
	}
	_, cov, err := NewFlags(unansweredStore{asked: asked}).Unanswered(context.Background(), since, 10)
	oldest := now.Add(-time.Duration(maxUnansweredScan-1) * time.Minute)
	if err != nil || !cov.Truncated || cov.Questions != maxUnansweredScan || !cov.From.Equal(oldest) {
		t.Fatalf("coverage %+v (%v), want truncated at %d from %s", cov, err, maxUnansweredScan, oldest)
	}
	_, cov, err = NewFlags(unansweredStore{asked: asked[:maxUnansweredScan]}).Unanswered(context.Background(), since, 10)
	if err != nil || cov.Truncated || cov.Questions != maxUnansweredScan || !cov.From.Equal(since) {
		t.Fatalf("coverage of exactly %d: %+v (%v)", maxUnansweredScan, cov, err)
	}
	_, cov, err = NewFlags(unansweredStore{asked: asked[:20]}).Unanswered(context.Background(), since, 10)
	if err != nil || cov.Truncated || cov.Questions != 20 || !cov.From.Equal(since) {
		t.Fatalf("coverage of a few %+v (%v)", cov, err)
	}
}

// queueStore serves Flags alone, newest first, at most limit.
type queueStore struct {
	FlagStore
	flags []Flag
}

func (s queueStore) Flags(_ context.Context, _ []FlagStatus, limit int) ([]Flag, error) {
	return s.flags[:min(limit, len(s.flags))], nil
}

// Past the newest flags it reads, the correction queue says so and since
// when: its groups and counts leave older flags out (it said nothing).
func TestQueueSaysWhatItCovers(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	var flags []Flag
	for i := range maxQueued + 3 {
		flags = append(flags, Flag{ID: fmt.Sprintf("f%d", i), EntryID: fmt.Sprintf("e%d", i%3), Question: "q", CreatedAt: now.Add(-time.Duration(i) * time.Minute)})
	}
	groups, cov, err := NewFlags(queueStore{flags: flags}).Queue(context.Background(), "")
	oldest := now.Add(-time.Duration(maxQueued-1) * time.Minute)
	if err != nil || !cov.Truncated || cov.Flags != maxQueued || cov.Oldest == nil || !cov.Oldest.Equal(oldest) {
		t.Fatalf("coverage %+v (%v), want truncated at %d from %s", cov, err, maxQueued, oldest)
	}
	n := 0
	for _, g := range groups {
		n += g.Count
	}
	if n != maxQueued {
		t.Errorf("groups count %d flags, want the %d read", n, maxQueued)
	}
	// Exactly as many as it reads is the whole queue.
	_, cov, err = NewFlags(queueStore{flags: flags[:maxQueued]}).Queue(context.Background(), "")
	if err != nil || cov.Truncated || cov.Flags != maxQueued {
		t.Fatalf("coverage of exactly %d: %+v (%v)", maxQueued, cov, err)
	}
	_, cov, err = NewFlags(queueStore{}).Queue(context.Background(), FlagDismissed)
	if err != nil || cov.Truncated || cov.Flags != 0 || cov.Oldest != nil {
		t.Fatalf("coverage of none: %+v (%v)", cov, err)
	}
}

// A customer's flag and an agent's on the same answer are one answer
// flagged: the group counted two, the customer's wording showed ×2, and
// one complaint an agent confirmed outranked two separate complaints.
// Both flags stay in the group, to be fixed or dismissed together.
func TestQueueCountsAnAnswerOnceWhoeverFlaggedIt(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	flags := []Flag{
		{ID: "f1", MessageID: "m1", EntryID: "ship-fee", Question: "运费多少", Source: SourceCustomer, CreatedAt: now},
		{ID: "f2", MessageID: "m1", EntryID: "ship-fee", Question: "运费多少", Source: SourceAgent, CreatedAt: now.Add(time.Minute)},
		{ID: "f3", MessageID: "m2", EntryID: "returns", Question: "怎么退货", Source: SourceCustomer, CreatedAt: now},
		{ID: "f4", MessageID: "m3", EntryID: "returns", Question: "怎么退货", Source: SourceCustomer, CreatedAt: now},
	}
	groups, _, err := NewFlags(queueStore{flags: flags}).Queue(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 || groups[0].EntryID != "returns" || groups[0].Count != 2 || groups[1].Count != 1 ||
		len(groups[1].Flags) != 2 || len(groups[1].Questions) != 1 || groups[1].Questions[0].Count != 1 {
		t.Fatalf("groups %+v; want returns (2 answers) before ship-fee (1 answer, 2 flags, its wording once)", groups)
	}
}
