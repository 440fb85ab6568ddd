package desk

import (
	"fmt"
	"strings"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/nlu"
)

// Summary is what an agent reads first when a conversation reaches them.
type Summary struct {
	Text          string // one paragraph, in the requested language
	Questions     []string
	Intents       []IntentHit
	BotAttempts   []Attempt
	Emotion       Emotion
	HandoffReason conversation.HandoffReason
	Tags          []string
}

// IntentHit is a topic the bot recognised in the conversation.
type IntentHit struct {
	Intent     string
	Category   string
	Title      string
	Confidence float64
}

// Attempt is one bot reply.
type Attempt struct {
	Outcome    conversation.Outcome
	Title      string
	Confidence float64
	Text       string
	// Generated: the language model wrote the answer from the closest
	// entries (Title is the closest one), because the intent model was
	// unsure of the question.
	Generated bool
}

// Emotion is the customer's mood as the bot read it: the strongest
// negative emotion of their messages, 0 (calm) to 1 (furious).
type Emotion struct {
	Score float64
	Tags  []string
}

const (
	maxQuestions = 5
	maxAttempts  = 5
)

// Summarize builds the handoff summary of a conversation in lang.
func Summarize(c *conversation.Conversation, msgs []conversation.Message, lang string) Summary {
	if lang != "en" {
		lang = "zh-CN"
	}
	s := Summary{HandoffReason: c.HandoffReason, Questions: []string{}, Intents: []IntentHit{}, BotAttempts: []Attempt{},
		Tags: []string{}}
	seen := map[string]int{}
	fallbacks, answers, generated, customerMsgs, handoffs := 0, 0, 0, 0, 0
	for _, m := range msgs {
		switch m.Role {
		case conversation.RoleCustomer:
			customerMsgs++
			s.Questions = append(s.Questions, shorten(m.Text, 200))
			if e := nlu.NegativeEmotion(nlu.Prepare(m.Text)); e > s.Emotion.Score {
				s.Emotion.Score = e
			}
		case conversation.RoleBot:
			if m.Outcome == "" || m.Outcome == conversation.OutcomeTicket {
				continue // the greeting; the thanks for an offline message, not an attempt to answer
			}
			a := Attempt{Outcome: m.Outcome, Confidence: m.Confidence, Text: shorten(m.Text, 120),
				Generated: m.Intent == conversation.IntentGenerated}
			if a.Generated {
				generated++
			}
			if m.Entry != nil {
				a.Title = m.Entry.Title
			}
			// A generated answer's entry is only the closest one the model
			// was given: the bot did not recognise it as the topic.
			if m.Entry != nil && !a.Generated {
				if n, ok := seen[m.Entry.ID]; ok {
					s.Intents[n].Confidence = max(s.Intents[n].Confidence, m.Confidence)
				} else if m.Entry.Category != "smalltalk" {
					seen[m.Entry.ID] = len(s.Intents)
					s.Intents = append(s.Intents, IntentHit{Intent: m.Entry.ID, Category: m.Entry.Category,
						Title: m.Entry.Title, Confidence: m.Confidence})
				}
			}
			switch m.Outcome {
			case conversation.OutcomeAnswer:
				answers++
			case conversation.OutcomeFallback:
				fallbacks++
			case conversation.OutcomeHandoff, conversation.OutcomeOffline:
				handoffs++
			}
			s.BotAttempts = append(s.BotAttempts, a)
		}
	}
	// Handed off because the bot could not resolve it: the handoff stands
	// in for the second miss in a row (the engine answers it with the
	// handoff, not a fallback), which the summary had not counted: it said
	// "did not understand once", and never tagged bot_failed.
	if c.HandoffReason == conversation.HandoffUnresolved && handoffs > 0 {
		fallbacks++
	}
	if len(s.Questions) > maxQuestions {
		s.Questions = s.Questions[len(s.Questions)-maxQuestions:]
	}
	if len(s.BotAttempts) > maxAttempts {
		s.BotAttempts = s.BotAttempts[len(s.BotAttempts)-maxAttempts:]
	}
	switch {
	case s.Emotion.Score >= 0.8 || c.HandoffReason == conversation.HandoffEmotion:
		s.Emotion.Tags = []string{"angry"}
	case s.Emotion.Score >= 0.4:
		s.Emotion.Tags = []string{"upset"}
	default:
		s.Emotion.Tags = []string{"calm"}
	}
	if c.Customer.VIP {
		s.Tags = append(s.Tags, "vip")
	}
	s.Tags = append(s.Tags, s.Emotion.Tags...)
	if fallbacks >= 2 {
		s.Tags = append(s.Tags, "bot_failed")
	}
	if generated > 0 {
		s.Tags = append(s.Tags, "ai_answered")
	}
	if c.Category != "" {
		s.Tags = append(s.Tags, c.Category)
	}
	s.Text = summaryText(c, s, lang, customerMsgs, answers, fallbacks, generated)
	return s
}

var reasonText = map[conversation.HandoffReason]map[string]string{
	conversation.HandoffRequest:    {"zh-CN": "客户主动要求转人工", "en": "the customer asked for a person"},
	conversation.HandoffUnresolved: {"zh-CN": "机器人连续未能解决", "en": "the bot could not resolve it twice in a row"},
	conversation.HandoffEmotion:    {"zh-CN": "客户情绪激动", "en": "the customer was upset"},
	conversation.HandoffIncident:   {"zh-CN": "故障应急期间此类问题转人工处理", "en": "an incident sent this kind of question to people"},
}

var moodText = map[string]map[string]string{
	"angry": {"zh-CN": "愤怒", "en": "angry"},
	"upset": {"zh-CN": "不满", "en": "upset"},
	"calm":  {"zh-CN": "平稳", "en": "calm"},
}

func summaryText(c *conversation.Conversation, s Summary, lang string, customerMsgs, answers, fallbacks, generated int) string {
	var topics []string
	for _, it := range s.Intents {
		if len(topics) == 3 {
			break
		}
		topics = append(topics, it.Title)
	}
	last := ""
	if n := len(s.Questions); n > 0 {
		last = shorten(s.Questions[n-1], 60)
	}
	reason := reasonText[c.HandoffReason][lang]
	mood := moodText[s.Emotion.Tags[0]][lang]
	var b strings.Builder
	if lang == "en" {
		b.WriteString("Customer")
		if c.Customer.VIP {
			b.WriteString(" (VIP)")
		}
		if len(topics) > 0 {
			// Titles are often questions ("Can't find my order"): quoted,
			// they read as topics.
			fmt.Fprintf(&b, " asked about “%s”", strings.Join(topics, "”, “"))
		} else {
			b.WriteString(" asked something the bot did not recognise")
		}
		b.WriteString(summaryCounts(lang, customerMsgs, answers, fallbacks))
		switch {
		case generated == 1:
			b.WriteString(" One answer was written by the AI model from the closest entries.")
		case generated > 1:
			fmt.Fprintf(&b, " %d answers were written by the AI model from the closest entries.", generated)
		}
		if reason != "" {
			fmt.Fprintf(&b, " Handed off because %s.", reason)
		}
		fmt.Fprintf(&b, " Mood: %s.", mood)
		if last != "" {
			fmt.Fprintf(&b, " Latest: “%s”", last)
		}
		return b.String()
	}
	b.WriteString("客户")
	if c.Customer.VIP {
		b.WriteString("（VIP）")
	}
	if len(topics) > 0 {
		fmt.Fprintf(&b, "咨询「%s」", strings.Join(topics, "」「"))
	} else {
		b.WriteString("的问题机器人未能识别")
	}
	b.WriteString(summaryCounts(lang, customerMsgs, answers, fallbacks))
	if generated > 0 {
		fmt.Fprintf(&b, "其中 %d 次回答由 AI 模型根据最接近的条目生成。", generated)
	}
	if reason != "" {
		fmt.Fprintf(&b, "转人工原因：%s。", reason)
	}
	fmt.Fprintf(&b, "情绪：%s。", mood)
	if last != "" {
		fmt.Fprintf(&b, "最近一句：“%s”", last)
	}
	return b.String()
}

// Suggestion is a knowledge-base answer an agent may send as it is.
type Suggestion struct {
	EntryID    string
	Title      string
	Answer     string
	Confidence float64
}

// minSuggestion is the least confidence a suggested reply needs: below it
// (QA found "0%" suggestions beside unrelated questions) an agent is better
// served by nothing than by noise.
const minSuggestion = 0.05

// Suggest returns the best knowledge-base answers to the customer's latest
// message, in the conversation's language, leaving out those the model
// gives less than minSuggestion.
func Suggest(ix *knowledge.Index, c *conversation.Conversation, msgs []conversation.Message) []Suggestion {
	out := []Suggestion{}
	if ix == nil {
		return out
	}
	var latest string
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == conversation.RoleCustomer && !conversation.WantsHuman(msgs[i].Text) {
			latest = msgs[i].Text
			break
		}
	}
	if latest == "" {
		return out
	}
	pred := ix.Analyze(nlu.Prepare(latest))
	for _, cand := range pred.Candidates {
		if cand.Confidence < minSuggestion {
			break // candidates come best first: the rest are noise
		}
		e, ok := ix.Entry(cand.Label)
		if !ok {
			continue // small talk and the like have no answer to send
		}
		content, _ := e.Text(c.Locale)
		if content.Answer == "" {
			continue
		}
		out = append(out, Suggestion{EntryID: e.ID, Title: content.Title, Answer: content.Answer, Confidence: cand.Confidence})
	}
	return out
}

// Suggestions returns suggested replies for a conversation the actor may read.
func (d *Desk) Suggestions(c *conversation.Conversation, msgs []conversation.Message) []Suggestion {
	return Suggest(d.engine.Index(), c, msgs)
}
