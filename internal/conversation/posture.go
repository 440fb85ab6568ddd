package conversation

import (
	"context"
	"slices"
	"time"

	"github.com/steward-cs/steward/internal/knowledge"
)

// HandoffIncident: the service posture sent the conversation to a person
// (a scoped takeover, or VIP-only bot service during an incident).
const HandoffIncident HandoffReason = "incident"

// OutcomeNotice marks a reply that tells the customer about a degraded
// service rather than answering.
const OutcomeNotice Outcome = "notice"

// Posture is what the incident controller asks of the engine, read on
// every turn. The zero value (or nil) is normal service.
type Posture struct {
	Level int // 0 normal, 1 scoped, 2 rollback + VIP-only bot, 3 disaster recovery
	// Level 1: the scope is every question (All) or these categories and
	// intents; Human hands the scope to a person, otherwise the bot says
	// it cannot answer that now and offers a person (the fallback flow).
	All        bool
	Categories []string
	Intents    []string
	Human      bool
	// VIPOnly (level 2): only VIP customers are served by the bot; the
	// others go to the human queue, or the offline form.
	VIPOnly bool
	// Minimal (level 3): the bot answers from the essential entries only.
	Minimal *knowledge.Index
	// Notice is what customers are told while it lasts, by locale.
	Notice     map[string]string
	IncidentID string
}

// Degraded reports whether p changes anything.
func (p *Posture) Degraded() bool { return p != nil && p.Level > 0 }

func (p *Posture) covers(category, intent string) bool {
	if p == nil || p.Level != 1 {
		return false
	}
	return p.All || (category != "" && slices.Contains(p.Categories, category)) ||
		(intent != "" && slices.Contains(p.Intents, intent))
}

// essential reports whether id is one of the minimal release's entries.
func (p *Posture) essential(id string) bool {
	if p == nil || p.Minimal == nil {
		return false
	}
	_, ok := p.Minimal.Entry(id)
	return ok
}

// NoticeText is the posture's notice in locale, falling back to zh-CN.
func (p *Posture) NoticeText(locale string) string {
	if p == nil {
		return ""
	}
	if s := p.Notice[locale]; s != "" {
		return s
	}
	return p.Notice[knowledge.LocaleZH]
}

// SetPosture changes the posture atomically: turns in flight finish with
// the one they started with.
func (e *Engine) SetPosture(p *Posture) { e.posture.Store(p) }

// Posture returns the posture the engine serves under (nil: normal).
func (e *Engine) Posture() *Posture { return e.posture.Load() }

// TurnInfo is what the engine reports about each turn, for monitoring.
type TurnInfo struct {
	Conversation *Conversation
	Outcome      string // the bot's outcome, "diverted" for a posture's, "error" when it failed
	// DivertedTo is what a diverted turn's reply did: handed the customer
	// to a person (handoff), to the offline form (offline), or only told
	// them what is happening (notice, level 1's fallback flow).
	DivertedTo Outcome
	Category   string
	Intent     string
	Confidence float64
	Negative   bool
	Failed     bool
	Component  string // what failed: nlu, store
	// Firewall is the input firewall's category of a message it flagged,
	// also when the message was handed to a person rather than refused
	// (it asked for one): an attack is counted either way.
	Firewall string
	// Latency is the turn's time without the language model's (Generating),
	// which has its own metric: a model taking two seconds to answer an
	// unsure question is not the bot being slow.
	Latency    time.Duration
	Generating time.Duration
}

// OutcomeThrottled is the TurnInfo outcome of a message refused because
// the posture throttles its source (monitor.OutcomeThrottled).
const OutcomeThrottled = "throttled"

// Observer is told about every turn. It must not block.
type Observer interface {
	ObserveTurn(t TurnInfo)
}

// Faults are the drills' fault-injection points. Inject returns a non-nil
// error when the point should fail now (after any injected delay); scope
// narrows it (a category).
type Faults interface {
	Inject(ctx context.Context, point, scope string) error
}

// Fault-injection points of the engine.
const (
	FaultNLU     = "nlu"     // intent recognition fails or is slow
	FaultAnswers = "answers" // the bot answers with the wrong entry
)

const (
	phraseIncidentHuman    = "incident_human"
	phraseIncidentFallback = "incident_fallback"
	phraseIncidentOffline  = "incident_offline"
	phraseTrouble          = "trouble"
)

func init() {
	phrases[phraseIncidentHuman] = map[string]string{
		"zh-CN": "当前这类问题由人工客服为您处理，正在为您转接，请稍候。",
		"en":    "A person is handling questions like this one right now. I'm connecting you with an agent; please hold on.",
	}
	phrases[phraseIncidentFallback] = map[string]string{
		"zh-CN": "抱歉，这类问题暂时无法自动回答。您可以发送“转人工”联系人工客服，或留下联系方式，我们会尽快回复您。",
		"en":    "Sorry, I can't answer questions like this automatically at the moment. Type \"human\" to reach a person, or leave your contact details and we'll get back to you.",
	}
	phrases[phraseIncidentOffline] = map[string]string{
		"zh-CN": "抱歉，我们的服务暂时受到影响，目前没有人工客服可以接入。请留下您的联系方式和问题，我们恢复后会第一时间联系您。",
		"en":    "Sorry, our service is affected right now and no agent is free. Leave your contact details and your question, and we'll get back to you as soon as we've recovered.",
	}
	phrases[phraseTrouble] = map[string]string{
		"zh-CN": "抱歉，系统暂时出现故障，您的消息已保存。正在为您转接人工客服；如无人接入，请留下联系方式，我们会尽快回复。",
		"en":    "Sorry, we're having technical trouble; your message is saved. I'm passing you to a person; if nobody is free, leave your contact details and we'll get back to you.",
	}
}
