package quality

import (
	"context"
	"testing"
	"time"
)

// reportStore answers the report's two reads from slices, filtered to the
// span the report asks for, as the SQL stores do.
type reportStore struct {
	convs  []ConversationStat
	scores []Score
	from   time.Time
	to     time.Time
}

func (s *reportStore) ConversationStats(_ context.Context, from, to time.Time) ([]ConversationStat, error) {
	s.from, s.to = from, to
	var out []ConversationStat
	for _, c := range s.convs {
		if !c.StartedAt.Before(from) && c.StartedAt.Before(to) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *reportStore) RatingScores(_ context.Context, from, to time.Time) ([]Score, error) {
	var out []Score
	for _, x := range s.scores {
		if !x.At.Before(from) && x.At.Before(to) {
			out = append(out, x)
		}
	}
	return out, nil
}

// A report's days are the calendar days of the desk's time zone: in
// Shanghai (UTC+8) a conversation at 17:00 UTC on the 20th started on the
// 21st, and the span ends at Shanghai's next midnight, not UTC's.
func TestReportDaysAreTheDesksDays(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC) // 09:00 on the 21st in Shanghai
	st := &reportStore{
		convs: []ConversationStat{
			{StartedAt: time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC), Asked: 1, BotTurns: 1, Answered: 1}, // 01:00 on the 21st
			{StartedAt: time.Date(2026, 11, 20, 15, 30, 0, 0, time.UTC), Asked: 1, BotTurns: 1},             // 23:30 on the 20th
			{StartedAt: time.Date(2026, 11, 19, 15, 59, 0, 0, time.UTC), Asked: 1},                          // 23:59 on the 19th: outside two days
		},
		scores: []Score{{At: time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC), Stars: 4}}, // midnight starting the 21st
	}
	rep, err := BuildReport(context.Background(), st, 2, now, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	wantFrom := time.Date(2026, 11, 20, 0, 0, 0, 0, shanghai)
	wantTo := time.Date(2026, 11, 22, 0, 0, 0, 0, shanghai)
	if !rep.From.Equal(wantFrom) || !rep.To.Equal(wantTo) || !st.from.Equal(wantFrom) || !st.to.Equal(wantTo) || rep.Timezone != "Asia/Shanghai" {
		t.Fatalf("span %s – %s in %q (asked the store for %s – %s), want %s – %s", rep.From, rep.To, rep.Timezone, st.from, st.to, wantFrom, wantTo)
	}
	if len(rep.Days) != 2 || rep.Days[0].Date != "2026-11-20" || rep.Days[1].Date != "2026-11-21" {
		t.Fatalf("days %+v", rep.Days)
	}
	if d := rep.Days[0]; d.Conversations != 1 || d.Answered != 0 || d.Ratings != 0 {
		t.Errorf("the 20th: %+v, want the 23:30 conversation only", d)
	}
	if d := rep.Days[1]; d.Conversations != 1 || d.Answered != 1 || d.BotResolved != 1 || d.Ratings != 1 || d.Stars["4"] != 1 {
		t.Errorf("the 21st: %+v, want the 01:00 conversation and the rating at midnight", d)
	}
	if rep.Totals.Conversations != 2 || rep.Totals.Ratings != 1 {
		t.Errorf("totals %+v", rep.Totals)
	}

	// Without a zone the days are UTC's, as before.
	rep, err = BuildReport(context.Background(), st, 2, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Timezone != "UTC" || rep.Days[1].Date != "2026-11-21" || rep.Days[0].Conversations != 2 || rep.Days[1].Conversations != 0 ||
		!rep.To.Equal(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("in UTC: %+v", rep)
	}
}

// A day a clock change shortens has 23 hours: the next day still starts at
// midnight.
func TestReportDaysFollowClockChanges(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 9, 12, 0, 0, 0, ny) // the day after the spring change (8 March 2026)
	rep, err := BuildReport(context.Background(), &reportStore{}, 3, now, ny)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.To.Sub(rep.From); got != 71*time.Hour || len(rep.Days) != 3 || rep.Days[0].Date != "2026-03-07" || rep.Days[2].Date != "2026-03-09" {
		t.Fatalf("span %s (%s – %s), days %+v; want 71 h over 7–9 March", got, rep.From, rep.To, rep.Days)
	}

	// Santiago skips midnight on 6 September 2026 (00:00 → 01:00): that
	// day starts at 01:00, and is one row, not two.
	santiago, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	st := &reportStore{convs: []ConversationStat{
		{StartedAt: time.Date(2026, 9, 6, 0, 30, 0, 0, time.UTC).Add(7 * time.Hour), Asked: 1}, // 04:30 on the 6th
		{StartedAt: time.Date(2026, 9, 5, 23, 30, 0, 0, santiago), Asked: 1},                   // 23:30 on the 5th
	}}
	rep, err = BuildReport(context.Background(), st, 3, time.Date(2026, 9, 6, 12, 0, 0, 0, santiago), santiago)
	if err != nil {
		t.Fatal(err)
	}
	dates := []string{}
	for _, d := range rep.Days {
		dates = append(dates, d.Date)
	}
	if len(rep.Days) != 3 || rep.Days[1].Date != "2026-09-05" || rep.Days[2].Date != "2026-09-06" ||
		rep.Days[1].Conversations != 1 || rep.Days[2].Conversations != 1 ||
		!rep.To.Equal(time.Date(2026, 9, 7, 0, 0, 0, 0, santiago)) || !rep.From.Equal(time.Date(2026, 9, 4, 0, 0, 0, 0, santiago)) {
		t.Fatalf("across Santiago's skipped midnight: days %v, %+v, span %s – %s", dates, rep.Days, rep.From, rep.To)
	}
}
