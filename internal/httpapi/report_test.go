package httpapi_test

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/testutil"
)

// The quality report counts what happened: a conversation the bot answered
// is resolved by it, one handed to a person is transferred, one the bot
// could not answer is neither, one without a customer message is not
// engaged; ratings are summed by stars.
func TestQualityReport(t *testing.T) {
	// The desk's time zone decides the report's days: UTC+14 is a
	// different date from UTC's for ten hours of every UTC day.
	const zone = "Pacific/Kiritimati"
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	run := testutil.Start(t, func(c *config.Config) { c.Desk.ManualAssign, c.Desk.Timezone = true, zone })
	admin := testutil.Login(t, run.URL, run.Demo[0].Email, run.Demo[0].Password)
	agent := testutil.Login(t, run.URL, run.Demo[1].Email, run.Demo[1].Password)
	agent.Must(http.StatusOK, "PUT", "/api/v1/desk/presence", map[string]string{"status": "online"}, nil)
	c := &testutil.Client{T: t, Base: run.URL}

	answered := c.Start("zh-CN")
	if turn := c.Say(answered, "运费怎么算"); turn.Messages[0].Outcome != "answer" {
		t.Fatalf("a shipping question: %+v", turn.Messages)
	}
	handed := c.Start("en")
	if turn := c.Say(handed, "human please"); turn.State != "queued" {
		t.Fatalf("asking for a person: %+v", turn)
	}
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+handed.ID+"/claim", nil, nil)
	agent.Must(http.StatusCreated, "POST", "/api/v1/desk/conversations/"+handed.ID+"/messages", map[string]string{"text": "Hello, how can I help?"}, nil)
	// An agent's service is rated once it is over.
	agent.Must(http.StatusOK, "POST", "/api/v1/desk/conversations/"+handed.ID+"/close", map[string]bool{"ask_rating": true}, nil)
	// Small talk answers no question: a greeting, then a question the bot
	// cannot answer, is not a conversation the bot resolved, and neither
	// reply counts in the answer rate's terms but the fallback.
	lost := c.Start("zh-CN")
	if turn := c.Say(lost, "你好"); turn.Messages[0].Outcome != "answer" || turn.Messages[0].Entry == nil || turn.Messages[0].Entry.Category != "smalltalk" {
		t.Fatalf("a greeting: %+v", turn.Messages)
	}
	if turn := c.Say(lost, "火星上明天的天气怎么样"); turn.Messages[0].Outcome != "fallback" {
		t.Fatalf("an out-of-scope question: %+v", turn.Messages)
	}
	c.Start("en") // opened, never written in
	for conv, stars := range map[*testutil.Conversation]int{&answered: 5, &handed: 3} {
		if status, b := c.Do("POST", "/api/v1/conversations/"+conv.ID+"/rating", conv.Token, []byte(`{"score":`+string(rune('0'+stars))+`}`)); status != http.StatusCreated {
			t.Fatalf("rate: %d %s", status, b)
		}
	}

	type row struct {
		Date           string         `json:"date"`
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
		Stars          map[string]int `json:"stars"`
	}
	var rep struct {
		From, To time.Time
		Timezone string
		Totals   row
		Days     []row
	}
	admin.Must(http.StatusOK, "GET", "/api/v1/reports/quality?days=3", nil, &rep)
	want := row{Conversations: 4, Engaged: 3, BotResolved: 1, Transferred: 1, ResolutionRate: 0.3333, TransferRate: 0.3333,
		BotTurns: 3, Answered: 1, AnswerRate: 0.3333, Ratings: 2, MeanStars: 4}
	check := func(name string, got row) {
		t.Helper()
		stars := got.Stars
		got.Date, got.Stars = "", nil
		if !reflect.DeepEqual(got, want) || stars["5"] != 1 || stars["3"] != 1 || stars["1"] != 0 {
			t.Errorf("%s: %+v (stars %v)\nwant %+v", name, got, stars, want)
		}
	}
	check("totals", rep.Totals)
	today := time.Now().In(loc).Format(time.DateOnly)
	if len(rep.Days) != 3 || rep.Days[2].Date != today || rep.Days[0].Conversations != 0 || rep.To.Sub(rep.From) != 72*time.Hour ||
		rep.Timezone != zone || rep.To.In(loc).Hour() != 0 {
		t.Fatalf("days %+v, from %s to %s in %q; want three, today in %s last, ending at its midnight", rep.Days, rep.From, rep.To, rep.Timezone, zone)
	}
	check("today", rep.Days[2])
	for _, bad := range []string{"0", "93", "x"} {
		admin.Must(http.StatusBadRequest, "GET", "/api/v1/reports/quality?days="+bad, nil, nil)
	}
}
