package quality

import (
	"context"
	"time"

	"github.com/steward-cs/steward/internal/calendar"
)

// ReportStore reads what the quality report counts.
type ReportStore interface {
	// ConversationStats describes each conversation started in [from, to).
	ConversationStats(ctx context.Context, from, to time.Time) ([]ConversationStat, error)
	// RatingScores lists the ratings given in [from, to).
	RatingScores(ctx context.Context, from, to time.Time) ([]Score, error)
}

// ConversationStat is one conversation's messages, counted.
type ConversationStat struct {
	StartedAt    time.Time
	Asked        int // customer messages
	BotTurns     int // the bot's replies to them (answers, clarifications, fallbacks, handoffs, refusals…)
	Answered     int // of which answers
	Handoffs     int // of which handoffs to the queue
	Offline      int // of which offers of the offline form (nobody to take it)
	AgentReplies int
}

// Score is one rating: when, and how many stars.
type Score struct {
	At    time.Time
	Stars int
}

// ReportRow is the figures of a span: a day, or the whole report.
//
//   - Engaged conversations are those in which the customer wrote.
//   - Resolved by the bot: engaged, answered at least once, never handed to
//     a person nor offered the offline form, and no agent wrote.
//   - Transferred: handed to the human queue at least once.
//   - Left for later: offered the offline form and never queued.
//
// Rates are fractions of the engaged conversations (of the bot's turns for
// the answer rate), 0 when there is nothing to divide.
type ReportRow struct {
	Date           string         `json:"date,omitempty"` // YYYY-MM-DD in the report's time zone, for a day's row
	Conversations  int            `json:"conversations"`
	Engaged        int            `json:"engaged"`
	BotResolved    int            `json:"bot_resolved"`
	Transferred    int            `json:"transferred"`
	LeftForLater   int            `json:"left_for_later"`
	ResolutionRate float64        `json:"resolution_rate"`
	TransferRate   float64        `json:"transfer_rate"`
	BotTurns       int            `json:"bot_turns"`
	Answered       int            `json:"answered"`
	AnswerRate     float64        `json:"answer_rate"`
	Ratings        int            `json:"ratings"`
	MeanStars      float64        `json:"mean_stars"`
	Stars          map[string]int `json:"stars"` // "1" … "5" → ratings
}

// Report is the quality report of the days up to now: totals and each day.
type Report struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Timezone names the zone whose calendar days the rows are (the desk's
	// desk.timezone, UTC by default): a supervisor in Shanghai reads the
	// day that began at her midnight, not at 08:00.
	Timezone string      `json:"timezone"`
	Totals   ReportRow   `json:"totals"`
	Days     []ReportRow `json:"days"` // oldest first, every day of the span
}

// MaxReportDays bounds a report's span.
const MaxReportDays = 92

// BuildReport reads the conversations started and the ratings given in the
// last days whole calendar days of loc up to now (today included) and sums
// them by day. A nil loc is UTC. A day is from one midnight of loc to the
// next, so a day a clock change shortens or lengthens has 23 or 25 hours.
func BuildReport(ctx context.Context, st ReportStore, days int, now time.Time, loc *time.Location) (*Report, error) {
	if loc == nil {
		loc = time.UTC
	}
	now = now.In(loc)
	y, mo, d := now.Date()
	to := calendar.Midnight(y, mo, d+1, loc)
	from := calendar.Midnight(y, mo, d+1-days, loc)
	convs, err := st.ConversationStats(ctx, from, to)
	if err != nil {
		return nil, err
	}
	scores, err := st.RatingScores(ctx, from, to)
	if err != nil {
		return nil, err
	}
	r := &Report{From: from.UTC(), To: to.UTC(), Timezone: loc.String(), Totals: newRow("")}
	index := map[string]int{}
	for i := range days {
		// Noon names the day: midnight may be skipped by a clock change.
		key := calendar.Noon(y, mo, d+1-days+i, loc).Format(time.DateOnly)
		index[key] = len(r.Days)
		r.Days = append(r.Days, newRow(key))
	}
	for _, c := range convs {
		i, ok := index[c.StartedAt.In(loc).Format(time.DateOnly)]
		if !ok {
			continue
		}
		row := &r.Days[i]
		for _, x := range []*ReportRow{row, &r.Totals} {
			x.addConversation(c)
		}
	}
	for _, s := range scores {
		i, ok := index[s.At.In(loc).Format(time.DateOnly)]
		if !ok || s.Stars < 1 || s.Stars > 5 {
			continue
		}
		for _, x := range []*ReportRow{&r.Days[i], &r.Totals} {
			x.Ratings++
			x.Stars[string(rune('0'+s.Stars))]++
			x.MeanStars += float64(s.Stars)
		}
	}
	for i := range r.Days {
		r.Days[i].finish()
	}
	r.Totals.finish()
	return r, nil
}

func newRow(date string) ReportRow {
	return ReportRow{Date: date, Stars: map[string]int{"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}}
}

func (x *ReportRow) addConversation(c ConversationStat) {
	x.Conversations++
	x.BotTurns += c.BotTurns
	x.Answered += c.Answered
	if c.Asked == 0 {
		return
	}
	x.Engaged++
	switch {
	case c.Handoffs > 0:
		x.Transferred++
	case c.Offline > 0:
		x.LeftForLater++
	case c.Answered > 0 && c.AgentReplies == 0:
		x.BotResolved++
	}
}

// finish turns the sums into rates and the mean.
func (x *ReportRow) finish() {
	x.ResolutionRate = fraction(x.BotResolved, x.Engaged)
	x.TransferRate = fraction(x.Transferred, x.Engaged)
	x.AnswerRate = fraction(x.Answered, x.BotTurns)
	if x.Ratings > 0 {
		x.MeanStars = float64(int(x.MeanStars/float64(x.Ratings)*100+0.5)) / 100
	}
}

func fraction(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(int(float64(n)/float64(d)*10000+0.5)) / 10000
}
