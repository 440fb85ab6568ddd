package desk

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
)

// A wait runs in opening hours only: what is left of it at closing time
// goes on when the desk opens again, past closed days and across midnight.
func TestHoursAddOpen(t *testing.T) {
	weekdays, night, allDay, shanghai, at := sampleHours(t)
	santiago, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	santiagoSundays, err := ParseHours("America/Santiago", []string{"sun"}, "00:00", "24:00")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		h        *Hours
		from     time.Time
		d        time.Duration
		wantDone time.Time
	}{
		{"nil hours are always open", nil, at(time.UTC, "2026-11-23 17:55"), 20 * time.Minute, at(time.UTC, "2026-11-23 18:15")},
		{"inside the window", weekdays, at(shanghai, "2026-11-23 10:00"), 20 * time.Minute, at(shanghai, "2026-11-23 10:20")},
		{"past closing: the rest the next morning", weekdays, at(shanghai, "2026-11-23 17:55"), 20 * time.Minute, at(shanghai, "2026-11-24 09:15")},
		{"friday evening: monday morning", weekdays, at(shanghai, "2026-11-27 17:50"), 30 * time.Minute, at(shanghai, "2026-11-30 09:20")},
		{"before opening", weekdays, at(shanghai, "2026-11-23 07:00"), 5 * time.Minute, at(shanghai, "2026-11-23 09:05")},
		{"after closing on saturday", weekdays, at(shanghai, "2026-11-28 12:00"), time.Hour, at(shanghai, "2026-11-30 10:00")},
		{"a night window across midnight", night, at(time.UTC, "2026-11-20 23:30"), time.Hour, at(time.UTC, "2026-11-21 00:30")},
		{"sunday morning's end of saturday night, then next friday", night, at(time.UTC, "2026-11-22 05:30"), time.Hour, at(time.UTC, "2026-11-27 22:30")},
		{"all day on weekdays, across midnight", allDay, at(time.UTC, "2026-11-23 23:50"), 20 * time.Minute, at(time.UTC, "2026-11-24 00:10")},
		{"all day on weekdays, friday night to monday", allDay, at(time.UTC, "2026-11-27 23:50"), 20 * time.Minute, at(time.UTC, "2026-11-30 00:10")},
		{"longer than a window", weekdays, at(shanghai, "2026-11-23 09:00"), 10 * time.Hour, at(shanghai, "2026-11-24 10:00")},
		// Santiago skips midnight on Sunday 6 September 2026: that Sunday's
		// window opens at 01:00, and is not taken for Saturday's and lost.
		{"Sundays in Santiago over the skipped midnight", santiagoSundays, at(santiago, "2026-09-05 23:50"), 20 * time.Minute, at(santiago, "2026-09-06 01:20")},
	} {
		if got := tc.h.AddOpen(tc.from, tc.d); !got.Equal(tc.wantDone) {
			t.Errorf("%s: AddOpen(%s, %s) = %s, want %s", tc.name, tc.from, tc.d, got, tc.wantDone)
		}
	}
}

// sampleHours are the opening hours the hours tests use: weekdays 09:00–
// 18:00 in Shanghai, Friday and Saturday nights 22:00–06:00 UTC, and all
// day on weekdays in UTC; and at, a time "2006-01-02 15:04" in a zone.
func sampleHours(t *testing.T) (weekdays, night, allDay *Hours, shanghai *time.Location, at func(*time.Location, string) time.Time) {
	t.Helper()
	var err error
	if weekdays, err = ParseHours("Asia/Shanghai", []string{"mon-fri"}, "09:00", "18:00"); err != nil {
		t.Fatal(err)
	}
	if night, err = ParseHours("UTC", []string{"fri-sat"}, "22:00", "06:00"); err != nil {
		t.Fatal(err)
	}
	if allDay, err = ParseHours("UTC", []string{"mon-fri"}, "00:00", "24:00"); err != nil { // all day, on weekdays
		t.Fatal(err)
	}
	if shanghai, err = time.LoadLocation("Asia/Shanghai"); err != nil {
		t.Fatal(err)
	}
	at = func(loc *time.Location, s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	return weekdays, night, allDay, shanghai, at
}

func TestHoursOpen(t *testing.T) {
	weekdays, night, allDay, shanghai, at := sampleHours(t)
	cases := []struct {
		name string
		h    *Hours
		t    time.Time
		want bool
	}{
		{"nil hours are always open", nil, time.Now(), true},
		{"monday 09:00 opens", weekdays, at(shanghai, "2026-11-23 09:00"), true},
		{"monday 17:59", weekdays, at(shanghai, "2026-11-23 17:59"), true},
		{"monday 18:00 closed", weekdays, at(shanghai, "2026-11-23 18:00"), false},
		{"saturday closed", weekdays, at(shanghai, "2026-11-21 12:00"), false},
		{"time zone: 01:00 UTC is 09:00 in Shanghai", weekdays, at(time.UTC, "2026-11-23 01:00"), true},
		{"friday night", night, at(time.UTC, "2026-11-20 23:30"), true},
		{"saturday early morning belongs to friday night", night, at(time.UTC, "2026-11-21 05:59"), true},
		{"sunday 05:00 belongs to saturday night", night, at(time.UTC, "2026-11-22 05:00"), true},
		{"monday 05:00 belongs to sunday: closed", night, at(time.UTC, "2026-11-23 05:00"), false},
		{"all day: monday 00:00", allDay, at(time.UTC, "2026-11-23 00:00"), true},
		{"all day: friday 23:59", allDay, at(time.UTC, "2026-11-27 23:59"), true},
		{"all day on weekdays: saturday closed", allDay, at(time.UTC, "2026-11-28 12:00"), false},
		{"friday noon closed", night, at(time.UTC, "2026-11-20 12:00"), false},
	}
	for _, tc := range cases {
		if got := tc.h.Open(tc.t); got != tc.want {
			t.Errorf("%s: Open = %v", tc.name, got)
		}
	}
	for _, bad := range [][]string{{"Mars/Olympus", "mon", "09:00", "18:00"}, {"", "funday", "09:00", "18:00"},
		{"", "mon", "9am", "18:00"}, {"", "mon", "09:00", "09:00"}} {
		if _, err := ParseHours(bad[0], []string{bad[1]}, bad[2], bad[3]); err == nil {
			t.Errorf("ParseHours%q accepted", bad)
		}
	}
}

func TestPickRoutesByLanguageSkillAndLoad(t *testing.T) {
	zh := &auth.User{ID: "a-zh", Languages: []string{"zh-CN"}, MaxChats: 2}
	en := &auth.User{ID: "b-en", Languages: []string{"en"}, Skills: []string{"refund"}, MaxChats: 2}
	any := &auth.User{ID: "c-any", MaxChats: 2}
	online := []*auth.User{zh, en, any}
	cases := []struct {
		name string
		conv conversation.Conversation
		load map[string]int
		want string
	}{
		{"language is required: en goes to en or both", conversation.Conversation{Locale: "en"}, map[string]int{"c-any": 1}, "b-en"},
		{"least loaded among speakers", conversation.Conversation{Locale: "zh-CN"}, map[string]int{"a-zh": 1}, "c-any"},
		{"tie on load: stable by id", conversation.Conversation{Locale: "zh-CN"}, nil, "a-zh"},
		{"skill first, even when busier", conversation.Conversation{Locale: "en", Category: "refund"}, map[string]int{"b-en": 1}, "b-en"},
		{"a full agent gets nothing", conversation.Conversation{Locale: "en"}, map[string]int{"b-en": 2, "c-any": 2}, ""},
		{"no skill match overflows to anyone who speaks it", conversation.Conversation{Locale: "zh-CN", Category: "refund"}, nil, "a-zh"},
	}
	for _, tc := range cases {
		load := tc.load
		if load == nil {
			load = map[string]int{}
		}
		got := pick(online, load, &tc.conv)
		id := ""
		if got != nil {
			id = got.ID
		}
		if id != tc.want {
			t.Errorf("%s: picked %q, want %q", tc.name, id, tc.want)
		}
	}
}

func TestEstimateWait(t *testing.T) {
	if w := estimateWait(3, 2*5, 5*time.Minute); w != 90*time.Second {
		t.Errorf("3rd in line, 10 slots, 5 min each: %v", w)
	}
	if w := estimateWait(1, 0, time.Minute); w != time.Minute {
		t.Errorf("nobody online assumes one slot: %v", w)
	}
	if w := estimateWait(1, 50, time.Minute); w != 30*time.Second {
		t.Errorf("never promises less than 30s: %v", w)
	}
}

func TestSummarizeAngryVIP(t *testing.T) {
	c := &conversation.Conversation{Locale: "zh-CN", HandoffReason: conversation.HandoffEmotion, Customer: conversation.Customer{VIP: true}}
	msgs := []conversation.Message{
		{Role: conversation.RoleBot, Text: "您好"},
		{Role: conversation.RoleCustomer, Text: "我的快递到哪了"},
		{Role: conversation.RoleBot, Outcome: conversation.OutcomeAnswer, Confidence: 0.7,
			Entry: &conversation.EntryRef{ID: "track", Category: "shipping", Title: "查询物流"}},
		{Role: conversation.RoleCustomer, Text: "你们这什么垃圾服务，气死我了！！！我要投诉！"},
		{Role: conversation.RoleBot, Outcome: conversation.OutcomeHandoff},
	}
	s := Summarize(c, msgs, "zh-CN")
	if s.Emotion.Score < 0.8 || s.Emotion.Tags[0] != "angry" {
		t.Fatalf("emotion %+v", s.Emotion)
	}
	if strings.Join(s.Tags, ",") != "vip,angry" || len(s.Intents) != 1 || s.Intents[0].Title != "查询物流" {
		t.Fatalf("summary %+v", s)
	}
	for _, want := range []string{"（VIP）", "查询物流", "客户情绪激动", "愤怒"} {
		if !strings.Contains(s.Text, want) {
			t.Errorf("summary text %q lacks %q", s.Text, want)
		}
	}
	if en := Summarize(c, msgs, "en"); !strings.Contains(en.Text, "the customer was upset") || !strings.Contains(en.Text, "(VIP)") {
		t.Errorf("english summary %q", en.Text)
	}
	// The mood is said in words; the score is the panel's meter, not prose.
	if strings.Contains(s.Text, "（0.") || strings.Contains(s.Text, "（1.") {
		t.Errorf("summary text %q shows the raw emotion score", s.Text)
	}
	// A title that is itself a question reads as a quoted topic, and an
	// incident's handoff has its reason in both languages.
	msgs[2].Entry.Title = "Can't find my order"
	c.HandoffReason = conversation.HandoffIncident
	en := Summarize(c, msgs, "en")
	if !strings.Contains(en.Text, "asked about “Can't find my order”") || !strings.Contains(en.Text, "an incident") {
		t.Errorf("english summary %q", en.Text)
	}
	if zh := Summarize(c, msgs, "zh-CN"); !strings.Contains(zh.Text, "故障应急") {
		t.Errorf("summary %q lacks the incident reason", zh.Text)
	}
}

// The summary counts in words a person would write: "1 message", "once",
// no "(s)"; the Chinese says nothing about what did not happen.
func TestSummaryCountsReadNaturally(t *testing.T) {
	ask := conversation.Message{Role: conversation.RoleCustomer, Text: "how much is shipping?"}
	answer := conversation.Message{Role: conversation.RoleBot, Outcome: conversation.OutcomeAnswer, Confidence: 0.8,
		Entry: &conversation.EntryRef{ID: "shipping_fee", Category: "shipping", Title: "Shipping fee"}}
	miss := conversation.Message{Role: conversation.RoleBot, Outcome: conversation.OutcomeFallback}
	tests := []struct {
		name       string
		msgs       []conversation.Message
		lang       string
		want, lack []string
	}{
		{"one message, one answer", []conversation.Message{ask, answer}, "en",
			[]string{" in 1 message.", "The bot answered once."}, []string{"(s)", "0 time"}},
		{"two of each", []conversation.Message{ask, answer, ask, answer, ask, miss, ask, miss}, "en",
			[]string{" in 4 messages.", "The bot answered twice and did not understand twice."}, []string{"(s)"}},
		{"many, none answered", []conversation.Message{ask, miss, ask, miss, ask, miss}, "en",
			[]string{" in 3 messages.", "The bot did not understand 3 times."}, []string{"(s)", "answered 0"}},
		{"nothing from the bot", []conversation.Message{ask}, "en",
			[]string{" in 1 message.", "The bot did not answer."}, []string{"(s)", "0 time"}},
		{"zh, no misses", []conversation.Message{ask, answer, ask, answer}, "zh-CN",
			[]string{"共 2 条消息", "机器人回答了 2 次。"}, []string{"0 次"}},
		{"zh, misses only", []conversation.Message{ask, miss}, "zh-CN",
			[]string{"共 1 条消息", "机器人 1 次未能理解。"}, []string{"0 次"}},
		{"zh, both", []conversation.Message{ask, answer, ask, miss}, "zh-CN",
			[]string{"机器人回答了 1 次，1 次未能理解。"}, []string{"0 次"}},
		{"zh, nothing from the bot", []conversation.Message{ask}, "zh-CN",
			[]string{"机器人未作回答。"}, []string{"0 次"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &conversation.Conversation{Locale: tt.lang, HandoffReason: conversation.HandoffRequest}
			s := Summarize(c, tt.msgs, tt.lang).Text
			for _, w := range tt.want {
				if !strings.Contains(s, w) {
					t.Errorf("summary %q lacks %q", s, w)
				}
			}
			for _, l := range tt.lack {
				if strings.Contains(s, l) {
					t.Errorf("summary %q has %q", s, l)
				}
			}
		})
	}
}

// Two misses in a row hand the conversation over: the engine answers the
// second with the handoff itself, and the summary counts it as the miss it
// is ("twice", tagged bot_failed), not "did not understand once".
func TestSummaryCountsTheMissThatHandedOff(t *testing.T) {
	c := &conversation.Conversation{Locale: "en", HandoffReason: conversation.HandoffUnresolved}
	msgs := []conversation.Message{
		{Role: conversation.RoleCustomer, Text: "asdkjh qwpeoiru"},
		{Role: conversation.RoleBot, Outcome: conversation.OutcomeFallback},
		{Role: conversation.RoleCustomer, Text: "zxmcnb lkjh"},
		{Role: conversation.RoleBot, Outcome: conversation.OutcomeHandoff},
	}
	s := Summarize(c, msgs, "en")
	if !slices.Contains(s.Tags, "bot_failed") || !strings.Contains(s.Text, "did not understand twice") {
		t.Fatalf("summary %q, tags %v: want the two misses counted and bot_failed", s.Text, s.Tags)
	}
}

// An answer the language model wrote is marked as such: the summary says
// so, tags it, and does not list its entry (only the closest one the model
// was given) among the topics the bot recognised.
func TestSummaryMarksGeneratedAnswers(t *testing.T) {
	c := &conversation.Conversation{Locale: "en", HandoffReason: conversation.HandoffRequest}
	refunds := &conversation.EntryRef{ID: "refund-policy", Category: "returns", Title: "Refund policy"}
	shipping := &conversation.EntryRef{ID: "shipping-fee", Category: "shipping", Title: "Shipping fees"}
	msgs := []conversation.Message{
		{Role: conversation.RoleCustomer, Text: "how much is shipping"},
		{Role: conversation.RoleBot, Outcome: conversation.OutcomeAnswer, Entry: shipping, Confidence: 0.9, Intent: "shipping-fee"},
		{Role: conversation.RoleCustomer, Text: "the jacket I sent back, where is my money"},
		{Role: conversation.RoleBot, Outcome: conversation.OutcomeAnswer, Entry: refunds, Confidence: 0.3, Intent: conversation.IntentGenerated,
			Text: "Your refund goes back to the card you paid with."},
		{Role: conversation.RoleCustomer, Text: "human please"},
		{Role: conversation.RoleBot, Outcome: conversation.OutcomeHandoff},
	}
	for lang, want := range map[string]string{"en": "One answer was written by the AI model", "zh-CN": "其中 1 次回答由 AI 模型"} {
		s := Summarize(c, msgs, lang)
		if !strings.Contains(s.Text, want) || !slices.Contains(s.Tags, "ai_answered") {
			t.Errorf("%s summary %q, tags %v: want the generated answer said and tagged", lang, s.Text, s.Tags)
		}
		if len(s.Intents) != 1 || s.Intents[0].Intent != "shipping-fee" || strings.Contains(s.Text, "Refund policy") {
			t.Errorf("%s topics %+v (%q): want only the recognised one", lang, s.Intents, s.Text)
		}
		if len(s.BotAttempts) != 3 || s.BotAttempts[0].Generated || !s.BotAttempts[1].Generated || s.BotAttempts[1].Title != "Refund policy" {
			t.Errorf("%s attempts %+v: want the second marked generated", lang, s.BotAttempts)
		}
	}
	if s := Summarize(c, msgs[:2], "en"); slices.Contains(s.Tags, "ai_answered") || strings.Contains(s.Text, "AI model") {
		t.Errorf("no generated answer, yet %q %v", s.Text, s.Tags)
	}
}

// A refusal the console shows an agent says the state in their language,
// without the conversation's id or the state's code.
func TestRefusalsSayTheStateInWords(t *testing.T) {
	err := errcode.Localized(errcode.Conflict, "this conversation is %[1]s: claim it before replying", "这个会话%[2]s：请先接入再回复",
		stateWords(conversation.StateQueued)...)
	if err.Message != "this conversation is waiting in the queue: claim it before replying" ||
		err.MessageZH != "这个会话正在排队：请先接入再回复" {
		t.Errorf("refusal reads %q / %q", err.Message, err.MessageZH)
	}
	for _, s := range []conversation.State{conversation.StateBot, conversation.StateQueued, conversation.StateAssigned, conversation.StateClosed} {
		if w := stateWords(s); w[0] == string(s) && s != conversation.StateClosed || w[1] == string(s) {
			t.Errorf("state %s has no words: %v", s, w)
		}
	}
}

// The bot's thanks for an offline message is not an attempt to answer: the
// summary listed it among the bot's attempts, as if the bot had replied to
// the customer's question with it.
func TestSummaryLeavesOutTheThanksForAnOfflineMessage(t *testing.T) {
	c := &conversation.Conversation{Locale: "en", HandoffReason: conversation.HandoffRequest}
	msgs := []conversation.Message{
		{Role: conversation.RoleCustomer, Text: "human please"},
		{Role: conversation.RoleBot, Outcome: conversation.OutcomeOffline},
		{Role: conversation.RoleCustomer, Text: "call me back about my order"},
		{Role: conversation.RoleBot, Outcome: conversation.OutcomeTicket, Text: "Thanks, we will get back to you."},
	}
	s := Summarize(c, msgs, "en")
	if len(s.BotAttempts) != 1 || s.BotAttempts[0].Outcome != conversation.OutcomeOffline {
		t.Fatalf("attempts %+v: want only the offer of the offline form", s.BotAttempts)
	}
}
