package conversation

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/guard"
	"github.com/steward-cs/steward/internal/knowledge"
	"github.com/steward-cs/steward/internal/nlu"
	"github.com/steward-cs/steward/internal/token"
)

// MaxTextRunes bounds a customer message.
const MaxTextRunes = 4000

// Publisher receives a conversation's new messages once they are durable,
// for the live stream. It must not block.
type Publisher interface {
	Publish(c *Conversation, msgs []Message)
}

// Desk is the human side the engine hands conversations to.
type Desk interface {
	// Staffed reports whether a person could take c now: an agent is
	// online for it and the desk is open.
	Staffed(ctx context.Context, c *Conversation) bool
	// Queued is told, once it is durable, that c has joined the queue.
	// It must not block.
	Queued(c *Conversation)
}

// Options configure an Engine.
type Options struct {
	Policy    Policy
	Builtin   *Builtin
	Publisher Publisher // optional
	Logger    *slog.Logger
	Observer  Observer // optional
	Faults    Faults   // optional: only when fault injection is enabled
	// Admit, if set, says whether a message from a source may pass now (the
	// posture's throttle of a flooding source).
	Admit func(source string) bool
	// DefaultLocale is used when a conversation is created without one.
	DefaultLocale string
	// Protector masks personal data in what customers and agents write
	// and seals the originals. Nil still masks, and keeps no originals.
	Protector *guard.Protector
	// Firewall, if set, recognises prompt injection, jailbreaks and harmful
	// requests: the bot declines them without looking further.
	Firewall func(text string) (attack bool, category string)
	// Lock, if set, serialises a conversation's turns across the nodes
	// that share the store (a PostgreSQL advisory lock); the engine's own
	// lock serialises them within this node.
	Lock func(ctx context.Context, id string) (release func(), err error)
	// LLM, if set, answers a question the intent model is unsure of from
	// the entries closest to it, before the fallback flow.
	LLM Grounder
	// Contacts are the links and phone numbers a generated answer may give
	// beyond its entries': the quality gate's allow-lists.
	Contacts knowledge.Contacts
}

// Engine handles customers' turns: it understands a message, decides
// what the bot does, and stores the turn before anyone sees the reply.
type Engine struct {
	store   Store
	index   atomic.Pointer[knowledge.Index]
	policy  Policy
	builtin *Builtin
	pub     Publisher
	logger  *slog.Logger
	locale  string
	desk    atomic.Pointer[Desk]
	posture atomic.Pointer[Posture]
	observe Observer
	faults  Faults
	admit   func(string) bool
	protect *guard.Protector
	fw      func(string) (bool, string)
	locks   *convLocks // a conversation's turns run one at a time
	xlock   func(context.Context, string) (func(), error)
	retries retryKeys // the client keys of recent messages, by conversation
	llm     Grounder
	allowed knowledge.Contacts // what a generated answer may give beyond its entries
}

// SetDesk connects the engine to the human desk. Without one, every
// handoff joins the queue.
func (e *Engine) SetDesk(d Desk) { e.desk.Store(&d) }

func (e *Engine) currentDesk() Desk {
	if d := e.desk.Load(); d != nil {
		return *d
	}
	return nil
}

// NewEngine returns an engine over store. It answers nothing until SetIndex.
func NewEngine(store Store, opts Options) *Engine {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Policy == (Policy{}) {
		opts.Policy = DefaultPolicy()
	}
	if opts.DefaultLocale == "" {
		opts.DefaultLocale = knowledge.LocaleZH
	}
	return &Engine{store: store, policy: opts.Policy, builtin: opts.Builtin, pub: opts.Publisher,
		logger: opts.Logger.With("component", "conversation"), locale: opts.DefaultLocale,
		observe: opts.Observer, faults: opts.Faults, admit: opts.Admit, protect: opts.Protector,
		fw: opts.Firewall, xlock: opts.Lock, locks: newConvLocks(), llm: opts.LLM,
		allowed: opts.Contacts}
}

// SetIndex makes ix the knowledge the bot answers from, atomically: turns in
// flight finish with the index they started with.
func (e *Engine) SetIndex(ix *knowledge.Index) { e.index.Store(ix) }

// Index returns the knowledge the bot answers from.
func (e *Engine) Index() *knowledge.Index { return e.index.Load() }

// StartRequest is what a new conversation starts with.
type StartRequest struct {
	Locale   string
	Customer Customer
	Source   string // default "web"
}

// DefaultSource is the source of a conversation that names none.
const DefaultSource = "web"

// ValidSource checks a conversation's source: 1–32 of a–z, 0–9, '.', '_', '-'.
func ValidSource(s string) error {
	if s == "" || len(s) > 32 {
		return errcode.Localized(errcode.Invalid, "source must be 1 to 32 characters", "source 须为 1 到 32 个字符")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return errcode.Localized(errcode.Invalid, "source may only hold a-z, 0-9, '.', '_' and '-'", "source 只能包含 a-z、0-9、“.”、“_”和“-”")
		}
	}
	return nil
}

// Limits on what the embedding site may tell us about a customer.
const (
	maxExternalID = 200
	maxName       = 100
)

// ValidCustomer checks what the embedding site tells us about a customer:
// valid UTF-8 and within the limits. Start checks it; so does whoever takes
// a customer from a signed identity, to refuse the token rather than the
// conversation.
func ValidCustomer(c Customer) error {
	if err := validText("customer.external_id", c.ExternalID, maxExternalID); err != nil {
		return err
	}
	return validText("customer.name", c.Name, maxName)
}

// Start creates a conversation and its greeting. The returned token is the
// customer's only key to it; only its hash is stored.
func (e *Engine) Start(ctx context.Context, req StartRequest) (*Conversation, string, []Message, error) {
	switch req.Locale {
	case "":
		req.Locale = e.locale
	case knowledge.LocaleZH, knowledge.LocaleEN:
	default:
		return nil, "", nil, errcode.Localized(errcode.Invalid, "locale must be \"zh-CN\" or \"en\", not %q", "locale 须为 \"zh-CN\" 或 \"en\"，而不是 %q", req.Locale)
	}
	if err := ValidCustomer(req.Customer); err != nil {
		return nil, "", nil, err
	}
	if req.Source == "" {
		req.Source = DefaultSource
	}
	if err := ValidSource(req.Source); err != nil {
		return nil, "", nil, err
	}
	if e.admit != nil && !e.admit(req.Source) {
		e.throttled(&Conversation{Source: req.Source})
		return nil, "", nil, ErrThrottled
	}
	secret := token.New()
	now := time.Now().UTC().Truncate(time.Millisecond) // as stored
	c := &Conversation{ID: token.ID("c", 16), TokenHash: token.Hash(secret), State: StateBot, Locale: req.Locale,
		Customer: req.Customer, LastSeq: 1, CreatedAt: now, UpdatedAt: now, Source: req.Source}
	greeting := []Message{{ID: messageID(now), ConversationID: c.ID, Seq: 1, Role: RoleBot,
		Text: phrase(phraseGreeting, c.Locale), Locale: c.Locale, CreatedAt: now}}
	if err := e.store.CreateConversation(ctx, c, greeting); err != nil {
		return nil, "", nil, err
	}
	return c, secret, greeting, nil
}

func validText(field, s string, maxRunes int) error {
	if !utf8.ValidString(s) {
		return errcode.Localized(errcode.Invalid, "%s is not valid UTF-8", "%s 不是有效的 UTF-8", field)
	}
	if strings.ContainsRune(s, 0) {
		return errcode.Localized(errcode.Invalid, "%s holds the NUL character", "%s 含有空字符（NUL）", field)
	}
	if n := utf8.RuneCountInString(s); n > maxRunes {
		return errcode.Localized(errcode.Invalid, "%s exceeds %d characters", "%s 超过 %d 个字符", field, maxRunes)
	}
	return nil
}

// throttled tells the observer of a message refused because the posture
// throttles its source. The flood rule counts what a source offers, not
// only what it was let through: judged on the admitted rate alone, which
// the throttle holds at the rule's limit, a flood that went on would stop
// firing and lose its throttle, then come back, over and over.
func (e *Engine) throttled(c *Conversation) {
	if e.observe != nil {
		e.observe.ObserveTurn(TurnInfo{Conversation: c, Outcome: OutcomeThrottled})
	}
}

// ErrThrottled answers a message from a source the posture throttles.
var ErrThrottled = errcode.Localized(errcode.RateLimited, "too many messages from this source right now; please try again in a moment", "当前消息太多，请稍后再试")

// ErrNotStoredYet refuses, for a moment, a write about a conversation the
// store does not hold yet: one begun while the database was away lives in
// a node's spool until it is replayed, and its ticket, rating or note
// broke the foreign key, a 500. The store is up when it says so: a node
// journals such a write only for a conversation its own spool holds.
var ErrNotStoredYet = errcode.Localized(errcode.Unavailable,
	"this conversation is not in the database yet (it began while the database was unavailable); try again in a moment",
	"这个会话尚未写入数据库（它开始于数据库不可用期间），请稍后重试")

// ErrAssigneeFull refuses an assignment that would pass its agent's
// limit (Turn.AssigneeLimit).
var ErrAssigneeFull = errcode.Localized(errcode.Conflict, "the agent already has as many conversations as their limit allows",
	"该客服的会话数已达上限")

// ErrNoToken is the answer to a request for a conversation without its token.
var ErrNoToken = errcode.Localized(errcode.Unauthorized, "missing conversation token: send Authorization: Bearer <token>",
	"缺少会话令牌：请发送 Authorization: Bearer <token>")

// errWrongToken answers a token that does not open the conversation, and
// a conversation that does not exist, alike: a token (anyone can get one
// by starting a conversation) must not tell which conversation ids exist.
var errWrongToken = errcode.Localized(errcode.Unauthorized, "this token does not open this conversation", "无权访问这个会话，请刷新页面")

// Authorize returns the conversation if token is its token.
func (e *Engine) Authorize(ctx context.Context, id, tok string) (*Conversation, error) {
	if tok == "" {
		return nil, ErrNoToken
	}
	c, err := e.store.Conversation(ctx, id)
	if errcode.Code(err) == errcode.NotFound {
		return nil, errWrongToken
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(c.TokenHash, token.Hash(tok)) != 1 {
		return nil, errWrongToken
	}
	return c, nil
}

// Transcript returns the messages after afterSeq of a conversation the
// caller is entitled to (by its token, or the desk's rules).
func (e *Engine) Transcript(ctx context.Context, c *Conversation, afterSeq int64) ([]Message, error) {
	return e.store.Messages(ctx, c.ID, afterSeq)
}

// messageID names a message made at now. Message ids sort by time, so the
// store appends to the end of its index of them rather than writing a
// random page of it for every message; that the id shows the millisecond
// it was made is no secret, since the message carries its time anyway.
func messageID(now time.Time) string { return token.SortableID("m", now, 8) }

// replyID is the id of a turn's i-th reply (from 1): its customer message's
// id and the reply's number, so that a retry finds exactly the turn's
// replies (repeated), and the ids still sort in the turn's order.
func replyID(customerID string, i int) string { return customerID + "r" + strconv.Itoa(i) }

// isReplyTo reports whether id is a reply's of the customer message
// customerID (replyID).
func isReplyTo(id, customerID string) bool {
	n, ok := strings.CutPrefix(id, customerID+"r")
	if !ok || n == "" {
		return false
	}
	_, err := strconv.Atoi(n)
	return err == nil
}

// Input is one customer message.
type Input struct {
	Text string
	// Choice is the entry id of a clarification choice the customer picked.
	Choice string
	// ClientID, if set, is the client's key for this message: a message
	// sent again with a key the conversation's recent messages hold is
	// answered with the turn already stored, not stored twice (a retry
	// after an answer lost on the way).
	ClientID string
}

// MaxClientID bounds the Input.ClientID kept as a message's key. A longer
// one is not an error (the stream has always echoed any client_id): it is
// only not kept, and such a message has no retry protection.
const MaxClientID = 200

// recentForRetry is how many of a conversation's latest messages a retry
// is looked for in: a retry follows a lost answer at once, so the message
// it repeats is among the last few turns; every keyed turn pays for
// reading them.
const recentForRetry = 12

// Result is what a turn produced.
type Result struct {
	Conversation *Conversation
	Customer     Message   // the stored customer message
	Replies      []Message // the new non-customer messages
	// Refused is set when the input firewall declined the message: the
	// HTTP layer charges the sender's rate limits harder for it.
	Refused bool
	// Repeated is set when the message was a retry of one already stored
	// (Input.ClientID): Customer and Replies are that turn's.
	Repeated bool
}

// errNUL refuses the NUL character, which PostgreSQL cannot store in text:
// a turn the store refuses would wait in the spool for good.
var errNUL = errcode.Localized(errcode.Invalid, "the message holds the NUL character", "消息中含有无法保存的空字符（NUL）")

// ValidateInput checks a customer message before anything is stored.
func ValidateInput(in Input) error {
	if !utf8.ValidString(in.Text) {
		return errcode.Localized(errcode.Invalid, "text is not valid UTF-8", "消息不是有效的 UTF-8")
	}
	if strings.ContainsRune(in.Text, 0) || strings.ContainsRune(in.Choice, 0) || strings.ContainsRune(in.ClientID, 0) {
		return errNUL
	}
	if strings.TrimSpace(in.Text) == "" {
		return errcode.Localized(errcode.Invalid, "text is empty", "消息内容不能为空")
	}
	if n := utf8.RuneCountInString(in.Text); n > MaxTextRunes {
		return errcode.Localized(errcode.TooLarge, "text exceeds %d characters (got %d)", "消息超过 %d 个字（现有 %d 个）", MaxTextRunes, n)
	}
	if len(in.Choice) > 200 {
		return errcode.Localized(errcode.Invalid, "choice is too long", "选项过长")
	}
	return nil
}

// repeated returns the turn already stored for a message the client sent
// with key clientID, or nil: the customer's message with that key among
// the conversation's recent ones, and the replies that followed it. keys
// are the keys of the recent messages it read.
func (e *Engine) repeated(ctx context.Context, c *Conversation, clientID string) (_ *Result, keys []keyAt, _ error) {
	msgs, err := e.store.Messages(ctx, c.ID, max(0, c.LastSeq-recentForRetry))
	if err != nil {
		return nil, nil, err
	}
	for i, m := range msgs {
		if m.Role == RoleCustomer && m.ClientID != "" {
			keys = append(keys, keyAt{m.ClientID, m.Seq})
		}
		if m.Role != RoleCustomer || m.ClientID != clientID {
			continue
		}
		res := &Result{Conversation: c, Customer: m, Repeated: true}
		for _, r := range msgs[i+1:] {
			// The turn's replies carry its customer message's id
			// (replyID); what came later is not that turn's, even in the
			// same millisecond (the "joined" line of an assignment that
			// followed a handoff at once was returned as a reply).
			if !isReplyTo(r.ID, m.ID) {
				break
			}
			res.Replies = append(res.Replies, r)
		}
		return res, keys, nil
	}
	return nil, keys, nil
}

// Handle runs one customer turn on an authorised conversation and returns
// only after the customer's message and every reply are durable.
func (e *Engine) Handle(ctx context.Context, id, tok string, in Input) (*Result, error) {
	if err := ValidateInput(in); err != nil {
		return nil, err
	}
	if len(in.ClientID) > MaxClientID || !utf8.ValidString(in.ClientID) || len(guard.Find(in.ClientID)) > 0 {
		// Echoed by the caller, not kept: too long, or holding personal
		// data (a key made of a phone number), which stored as it is
		// would pass the masking by.
		in.ClientID = ""
	}
	// The node's lock is held for the whole turn, the language model's
	// answer included, so that a customer's messages are taken in the
	// order they came. The cross-node lock is held by each attempt alone
	// (attempt), and not while the model is asked.
	unlock, err := e.locks.lock(ctx, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var asked askedModel
	for attempt := 1; ; {
		res, err := e.attempt(ctx, id, tok, in, &asked)
		if asked.pending {
			e.askModel(ctx, id, &asked)
			continue // the turn again, with the model's answer
		}
		if !errors.Is(err, errRaced) || attempt == raceAttempts {
			return res, err
		}
		e.logger.Warn("a turn raced another write to its conversation; running it again", "conversation", id, "attempt", attempt)
		attempt++
	}
}

// attempt runs the turn once under the conversation's cross-node lock.
// A turn that needs the language model stops before it stores anything,
// with the question in asked (asked.pending): on PostgreSQL the lock holds
// one of a small pool of connections (store.Options.LockConns) for as long
// as it is held, and a model taking seconds to answer, at a peak, took them
// all, so that every turn of the node, those the bot answers from the
// knowledge base too, waited store.LockWait for one. Asked without the
// lock, the model's answer is used by the next attempt, which reads the
// conversation again: if another node wrote to it meanwhile, the turn is
// decided afresh.
func (e *Engine) attempt(ctx context.Context, id, tok string, in Input, asked *askedModel) (*Result, error) {
	release, err := e.lockNodes(ctx, id)
	if err != nil {
		return nil, err
	}
	defer release()
	return e.turn(ctx, id, tok, in, asked)
}

// raceAttempts bounds how often a turn or desk action that lost a race
// with another write to its conversation runs again before the caller
// hears 409. Races happen only where the cross-node lock could not be had
// (lock): then the store's conditional write is what keeps turns apart.
const raceAttempts = 3

// errRaced marks a conditional write refused because the conversation
// moved on since it was read: running the whole turn again, from the read,
// is safe, since nothing of it was stored.
var errRaced = errors.New("the conversation changed while this was being decided")

// raced wraps a store's refusal of a stale write as errRaced, keeping the
// store's error (and its 409) for the caller.
func raced(err error) error {
	if errcode.Is(err, errcode.Conflict) && !errors.Is(err, ErrAssigneeFull) {
		return fmt.Errorf("%w: %w", errRaced, err)
	}
	return err
}

// turn is one attempt of Handle, under the conversation's lock. asked
// keeps what the language model answered in an earlier attempt.
func (e *Engine) turn(ctx context.Context, id, tok string, in Input, asked *askedModel) (*Result, error) {
	start := time.Now()
	// Read under the lock: the previous turn of this conversation is committed.
	c, err := e.Authorize(ctx, id, tok)
	if err != nil {
		return nil, err
	}
	if in.ClientID != "" {
		// A retry of a message stored already gets its turn again, even if
		// the conversation has closed or its source is throttled since. The
		// store is read only when this engine's notes may not know the key.
		if known, complete := e.retries.lookup(c.ID, c.LastSeq, in.ClientID); known || !complete {
			res, keys, err := e.repeated(ctx, c, in.ClientID)
			if err != nil || res != nil {
				return res, err
			}
			e.retries.seed(c.ID, c.LastSeq, keys)
		}
	}
	if c.State == StateClosed {
		return nil, errcode.Localized(errcode.Conflict, "conversation is closed; start a new one", "会话已结束，请开始新会话")
	}
	if e.admit != nil && !e.admit(c.Source) {
		e.throttled(c)
		return nil, ErrThrottled
	}
	// Stamped to the millisecond, as stored: the answer, the live frames,
	// a catch-up and a retry all carry the same created_at.
	now := time.Now().UTC().Truncate(time.Millisecond)
	customerID := messageID(now)
	// Personal data is masked before anything reads or stores the text: the
	// NLU, the transcript, the desk and the logs see only the masked form.
	safe := e.protectText(c.ID, customerID, strings.TrimSpace(in.Text))
	text := nlu.Prepare(safe.Text)
	locale := c.Locale
	// A bare request for a person ("转人工", "human") says nothing of the
	// customer's language: the chat's handoff button sends the page's word,
	// and an English conversation on a Chinese shop's widget went Chinese,
	// to Chinese-speaking agents only, on its click.
	switch lang := text.Lang; {
	case humanExact[text.Norm] || slices.Contains(humanContains, text.Norm):
	case lang == nlu.LangZH:
		if locale != knowledge.LocaleZH && chineseEnough(text.Raw, c.State == StateBot) {
			locale = knowledge.LocaleZH
		}
	case lang == nlu.LangEN:
		if locale != knowledge.LocaleEN && englishEnough(text.Raw, c.State == StateBot) {
			locale = knowledge.LocaleEN
		}
	}
	next := *c
	next.Locale, next.UpdatedAt = locale, now
	customer := Message{ID: customerID, ConversationID: c.ID, Seq: c.LastSeq + 1, Role: RoleCustomer,
		Text: text.Raw, Locale: locale, CreatedAt: now, PII: safe.KindNames(), Sealed: safe.Sealed, ClientID: in.ClientID}
	var replies []Message
	info := TurnInfo{Conversation: &next}
	refused := false
	flagged := false
	if c.State == StateBot && e.fw != nil {
		if attack, category := e.fw(safe.Text); attack {
			flagged, info.Firewall = true, category
			// Marked as stored, so that no later turn sends it to the
			// model as history (a flagged request for a person that ended
			// in the offline form left it with the bot, unmarked).
			customer.Intent = firewallIntent + category
			// The handoff rules still apply: a customer who asks for a
			// person, or is angry enough to be handed to one, in words
			// the firewall flags (violent hyperbole, "ignore your rules,
			// get me a human") was refused instead of queued. Handing
			// them over never sends the message to the model.
			if replies = e.escalate(ctx, &next, text, locale, &info); replies == nil {
				refused = true
				info.Outcome = string(OutcomeRefused)
				replies = []Message{{Outcome: OutcomeRefused, Intent: firewallIntent + category, Text: phrase(phraseRefused, locale)}}
				e.logger.Info("input firewall declined a message", "conversation", c.ID, "category", category)
			} else {
				e.logger.Info("input firewall flagged a message that asks for a person: handed over", "conversation", c.ID, "category", category)
			}
		}
	}
	if c.State == StateBot && !flagged {
		replies = e.decide(ctx, &next, text, in.Choice, locale, &info, asked)
		if asked.pending {
			return nil, nil // the model is asked outside the lock (attempt); the turn runs again
		}
	}
	// A customer who grows angry while waiting moves up the queue, as one
	// who was angry when handed over does (once: a second angry message
	// does not move them again). The bot does not answer a queued
	// customer; their place and wait, and the agents' queue, show it.
	moved := false
	if c.State == StateQueued && !angryPriority(c) && nlu.NegativeEmotion(text) >= e.policy.AngerThreshold {
		next.Priority += PriorityAngry
		moved = true
	}
	seq := customer.Seq
	for i := range replies {
		seq++
		replies[i].ID, replies[i].ConversationID, replies[i].Seq = replyID(customerID, i+1), c.ID, seq
		replies[i].Role, replies[i].Locale, replies[i].CreatedAt = RoleBot, locale, now
	}
	next.LastSeq = seq
	msgs := append([]Message{customer}, replies...)
	if err := e.store.SaveTurn(ctx, Turn{Conversation: &next, Messages: msgs}); err != nil {
		if err = raced(err); errors.Is(err, errRaced) {
			return nil, err // not the store failing: another write came first
		}
		if e.observe != nil && c.State == StateBot && !(errors.Is(err, context.Canceled) && ctx.Err() != nil) {
			// (A customer who went away before the turn was stored is not
			// the store failing: nothing was written for them.)
			info.Outcome, info.Failed, info.Component, info.Latency = "error", true, "store", time.Since(start)
			e.observe.ObserveTurn(info)
		}
		return nil, err
	}
	e.retries.note(c.ID, c.LastSeq, next.LastSeq, in.ClientID)
	if e.pub != nil {
		e.pub.Publish(&next, msgs)
	}
	if e.observe != nil && len(replies) > 0 {
		if info.Outcome == "" {
			info.Outcome = string(replies[len(replies)-1].Outcome)
		}
		// The model was asked between attempts (attempt): this one's time
		// is the turn's own.
		info.Latency = time.Since(start)
		e.observe.ObserveTurn(info)
	}
	if next.State == StateQueued && (c.State != StateQueued || moved) {
		if d := e.currentDesk(); d != nil {
			d.Queued(&next)
		}
	}
	e.logger.Debug("turn", "conversation", c.ID, "state", next.State, "replies", len(replies))
	return &Result{Conversation: &next, Customer: customer, Replies: replies, Refused: refused}, nil
}

// decide chooses the bot's replies and updates c's state: the escalation
// ladder is explicit request → anger → choice → small talk → answer →
// clarify → fallback, and the second consecutive fallback hands off.
func (e *Engine) decide(ctx context.Context, c *Conversation, text nlu.Text, choice, locale string, info *TurnInfo,
	asked *askedModel) []Message {
	if m := e.escalate(ctx, c, text, locale, info); m != nil {
		return m
	}
	p := e.posture.Load()
	ix := e.index.Load()
	switch {
	case p != nil && p.Level == 1 && p.All:
		// Everything goes around the bot: don't even ask the model.
		return []Message{e.divert(ctx, c, p, locale, info)}
	case p != nil && p.VIPOnly && !c.Customer.VIP:
		return []Message{e.divert(ctx, c, p, locale, info)}
	case p != nil && p.Level == 3:
		if p.Minimal == nil {
			return []Message{e.divert(ctx, c, p, locale, info)}
		}
		if ix == nil {
			ix = p.Minimal
		}
	}
	if ix == nil {
		return e.fallback(ctx, c, locale, 0, "")
	}
	if entry, ok := e.chosen(ctx, ix, c, choice, text.Norm); ok {
		// A choice the bot offered is still under the posture: an
		// offered entry in a category handed to people, or one beyond
		// the essentials in disaster recovery, is not answered.
		if p.covers(entry.Category, entry.ID) || p != nil && p.Level == 3 && !p.essential(entry.ID) {
			return []Message{e.divert(ctx, c, p, locale, info)}
		}
		return []Message{answer(entry, locale, 1, entry.ID, c)}
	}
	if acknowledgements[text.Norm] || text.Norm == "" && symbolsOnly(text.Raw) {
		// Answers no question, like small talk: the count of unanswered
		// follow-ups stands, neither raised nor reset.
		label := smalltalkPrefix + "acknowledge"
		return []Message{{Text: phrase(phraseAcknowledged, locale), Outcome: OutcomeAnswer, Confidence: 1, Intent: label,
			Entry: &EntryRef{ID: label, Category: "smalltalk", Title: "acknowledge"}}}
	}
	if e.faults != nil {
		if err := e.faults.Inject(ctx, FaultNLU, ""); err != nil {
			// Intent recognition failed: say so, keep the message, and
			// pass the customer to a person.
			info.Failed, info.Component = true, "nlu"
			e.logger.Warn("intent recognition failed", "conversation", c.ID, "error", err)
			m := e.handoff(ctx, c, HandoffIncident, phraseTrouble, locale, 0)
			if m.Outcome == OutcomeOffline {
				m.Text = phrase(phraseTrouble, locale)
			}
			return []Message{m}
		}
	}
	pred := ix.Analyze(text)
	entry, known := ix.Entry(pred.Label)
	if e.faults != nil && known {
		if err := e.faults.Inject(ctx, FaultAnswers, entry.Category); err != nil {
			pred, entry, known = wrongAnswer(ix, pred, entry)
		}
	}
	info.Intent, info.Confidence = pred.Label, pred.Confidence
	if known && !pred.OutOfScope {
		c.Category = entry.Category // the desk routes on the best guess, even an unsure one
		info.Category = entry.Category
	}
	if known && !pred.OutOfScope && p.covers(entry.Category, pred.Label) {
		// Out of scope, the best guess's category says nothing about the
		// question: the ordinary fallback applies, not the takeover.
		return []Message{e.divert(ctx, c, p, locale, info)}
	}
	smalltalk := !pred.OutOfScope && pred.Confidence >= e.policy.AnswerConfidence && strings.HasPrefix(pred.Label, smalltalkPrefix)
	if smalltalk && e.builtin != nil {
		// Before the disaster-recovery check: "thanks" is not a question
		// for the few people left to answer.
		if reply, ok := e.builtin.reply(pred.Label, locale); ok {
			// Small talk answers no question: the count of unanswered
			// follow-ups stands ("在吗" between two failures is a customer
			// still stuck, not one helped).
			return []Message{{Text: reply, Outcome: OutcomeAnswer, Confidence: pred.Confidence, Intent: pred.Label,
				Entry: &EntryRef{ID: pred.Label, Category: "smalltalk", Title: strings.TrimPrefix(pred.Label, smalltalkPrefix)}}}
		}
	}
	if p != nil && p.Level == 3 && (pred.OutOfScope || !known || pred.Confidence < e.policy.AnswerConfidence || !p.essential(entry.ID)) {
		// Disaster recovery: the full model says what the question is
		// about (a model trained on the essential entries alone answers
		// everything else confidently and wrongly); only essential answers
		// are given, the rest goes to a person or the offline form.
		return []Message{e.divert(ctx, c, p, locale, info)}
	}
	if pred.OutOfScope || pred.Confidence < e.policy.AnswerConfidence || !known {
		if !smalltalk {
			if m, ok := e.generated(ctx, ix, c, text, locale, pred, p, info, asked); ok {
				return []Message{m}
			}
		}
		return e.fallback(ctx, c, locale, pred.Confidence, pred.Label)
	}
	var choices []Choice
	sameCategory := true
	for _, cand := range e.policy.clarifyCandidates(pred) {
		if other, ok := ix.Entry(cand.Label); ok {
			content, _ := other.Text(locale)
			choices = append(choices, Choice{EntryID: other.ID, Title: content.Title})
			sameCategory = sameCategory && other.Category == entry.Category
		}
	}
	if len(choices) >= 2 && !sameCategory {
		// Close candidates on different topics: ask which one is meant.
		m := Message{Text: phrase(phraseClarify, locale), Outcome: OutcomeClarify, Confidence: pred.Confidence,
			Intent: pred.Label, Choices: choices}
		for i, ch := range choices {
			m.Text += fmt.Sprintf("\n%d. %s", i+1, ch.Title)
		}
		return []Message{m}
	}
	// The topic is clear: answer the likeliest entry and offer its close
	// siblings as related questions.
	m := answer(entry, locale, pred.Confidence, pred.Label, c)
	for _, ch := range choices {
		if ch.EntryID != entry.ID {
			m.Choices = append(m.Choices, ch)
		}
	}
	return []Message{m}
}

// escalate hands c to a person if the customer asks for one or is angry
// enough, and returns the reply; nil when neither rule applies. It runs
// before anything else looks at the message, the input firewall's refusal
// included.
func (e *Engine) escalate(ctx context.Context, c *Conversation, text nlu.Text, locale string, info *TurnInfo) []Message {
	// Anger is scored first, so that an angry request for a person keeps
	// the angry customer's place in the queue.
	anger := nlu.NegativeEmotion(text)
	info.Negative = anger >= 0.5
	if wantsHuman(text) && anger < e.policy.AngerThreshold {
		return []Message{e.handoff(ctx, c, HandoffRequest, phraseHandoffRequest, locale, 1)}
	}
	if anger >= e.policy.AngerThreshold {
		return []Message{e.handoff(ctx, c, HandoffEmotion, phraseHandoffAngry, locale, 1-anger)}
	}
	return nil
}

// chosen resolves a clarification choice: an entry id sent with the message,
// or a choice's number typed after a clarify turn, in any of the ways
// people give one (ordinal).
func (e *Engine) chosen(ctx context.Context, ix *knowledge.Index, c *Conversation, choice, norm string) (*knowledge.Entry, bool) {
	if choice != "" {
		return ix.Entry(choice)
	}
	n, ok := ordinal(norm)
	if !ok {
		return nil, false // most messages: the store is not read
	}
	last, err := e.store.Messages(ctx, c.ID, c.LastSeq-1)
	if err != nil || len(last) == 0 || last[0].Outcome != OutcomeClarify {
		return nil, false
	}
	if n > len(last[0].Choices) {
		return nil, false
	}
	return ix.Entry(last[0].Choices[n-1].EntryID)
}

// ordinalRE reads the number of a choice in a normalised reply (nlu.Normalize:
// lower case, punctuation gone, so "#2" and "2." are "2"): "2", "第二个",
// "第2项", "选2", "选第二个", "2号", "option 2", "number 2", "the second one",
// "2nd". Each form is whole: "2个" or "我要2件" is a quantity, not a choice,
// and goes to the intent model as before.
var ordinalRE = regexp.MustCompile(`^(?:` +
	`(?:我?选择?|我要)?第?([1-9一二三四五六七八九])(?:个|项|条|种|号)?(?:问题)?` + // a count unless ordinalZH
	`|(?:the )?(first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th)(?: one| option| question| choice)?` +
	`|(?:option|number|no|choice|question) ?([1-9])` +
	`)$`)

var ordinalWords = map[string]int{"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
	"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5}

// ordinal returns the choice number (from 1) a reply to a clarification
// gives, if it gives one.
func ordinal(norm string) (int, bool) {
	m := ordinalRE.FindStringSubmatch(norm)
	if m == nil {
		return 0, false
	}
	if m[1] != "" && !ordinalZH(norm, m[1]) {
		return 0, false
	}
	for _, g := range m[1:] {
		if g == "" {
			continue
		}
		if n, ok := ordinalWords[g]; ok {
			return n, true
		}
		return int(g[0] - '0'), true
	}
	return 0, false
}

// ordinalZH tells a choice from a count among the Chinese forms: a digit
// or numeral needs 第 or 选 before it, or stands alone or with 号 ("2",
// "2号"); "一个" and "2条" alone are how many, not which.
func ordinalZH(norm, num string) bool {
	if strings.Contains(norm, "第") || strings.HasPrefix(norm, "选") || strings.HasPrefix(norm, "我选") {
		return true
	}
	return norm == num || norm == num+"号"
}

func answer(entry *knowledge.Entry, locale string, conf float64, intent string, c *Conversation) Message {
	c.Unresolved, c.Category = 0, entry.Category
	content, _ := entry.Text(locale)
	return Message{Text: content.Answer, Outcome: OutcomeAnswer, Confidence: conf, Intent: intent,
		Entry: &EntryRef{ID: entry.ID, Category: entry.Category, Title: content.Title}}
}

// divert handles a turn the posture keeps from the bot: a person when
// one can take it (the scoped takeover, VIP-only service), otherwise the
// fallback flow with the incident's notice and the offline form.
func (e *Engine) divert(ctx context.Context, c *Conversation, p *Posture, locale string, info *TurnInfo) Message {
	info.Outcome = "diverted"
	notice := p.NoticeText(locale)
	if p.Level == 1 && !p.Human {
		c.Unresolved = 0
		text := phrase(phraseIncidentFallback, locale)
		if notice != "" {
			text = notice + "\n" + text
		}
		info.DivertedTo = OutcomeNotice
		return Message{Text: text, Outcome: OutcomeNotice, Intent: "incident.fallback"}
	}
	m := e.handoff(ctx, c, HandoffIncident, phraseIncidentHuman, locale, 0)
	if m.Outcome == OutcomeOffline {
		m.Text = phrase(phraseIncidentOffline, locale)
	}
	if notice != "" {
		m.Text = notice + "\n" + m.Text
	}
	info.DivertedTo = m.Outcome
	return m
}

// wrongAnswer is the "answers" fault: a confident answer from an entry
// other than the right one (a close candidate, else any other).
func wrongAnswer(ix *knowledge.Index, pred nlu.Prediction, right *knowledge.Entry) (nlu.Prediction, *knowledge.Entry, bool) {
	for _, c := range pred.Candidates {
		if c.Label == pred.Label {
			continue
		}
		if other, ok := ix.Entry(c.Label); ok && other.ID != right.ID {
			pred.Label, pred.OutOfScope = other.ID, false
			return pred, other, true
		}
	}
	if other, ok := ix.Other(right.ID); ok {
		pred.Label, pred.OutOfScope = other.ID, false
		return pred, other, true
	}
	return pred, right, true
}

func (e *Engine) fallback(ctx context.Context, c *Conversation, locale string, conf float64, intent string) []Message {
	c.Unresolved++
	if c.Unresolved >= e.policy.MaxUnresolved {
		m := e.handoff(ctx, c, HandoffUnresolved, phraseHandoffStuck, locale, conf)
		m.Intent = intent
		return []Message{m}
	}
	return []Message{{Text: phrase(phraseFallback, locale), Outcome: OutcomeFallback, Confidence: conf, Intent: intent}}
}

// Queue priorities: a VIP is served before an angry customer, who is served
// before everyone else.
const (
	PriorityVIP   = 10
	PriorityAngry = 5
)

// angryPriority reports whether queued c already has an angry customer's
// priority (handed over in anger, or grown angry while waiting).
func angryPriority(c *Conversation) bool {
	base := 0
	if c.Customer.VIP {
		base = PriorityVIP
	}
	return c.HandoffReason == HandoffEmotion || c.Priority >= base+PriorityAngry
}

// handoff queues c for a person, or, when nobody could take it, keeps it
// with the bot and offers the offline form.
func (e *Engine) handoff(ctx context.Context, c *Conversation, reason HandoffReason, key, locale string, conf float64) Message {
	c.HandoffReason, c.Unresolved = reason, 0
	intent := "handoff." + string(reason)
	if d := e.currentDesk(); d != nil && !d.Staffed(ctx, c) {
		key := phraseOffline
		if reason == HandoffEmotion {
			key = phraseOfflineAngry // the calming line was replaced by the plain offline one
		}
		return Message{Text: phrase(key, locale), Outcome: OutcomeOffline, Confidence: conf, Intent: intent}
	}
	c.State, c.QueuedAt, c.Priority = StateQueued, c.UpdatedAt, 0
	if c.Customer.VIP {
		c.Priority += PriorityVIP
	}
	if reason == HandoffEmotion {
		c.Priority += PriorityAngry
	}
	return Message{Text: phrase(key, locale), Outcome: OutcomeHandoff, Confidence: conf, Intent: intent}
}

// Change is a desk action on a conversation: it checks c, changes it and
// returns the messages the change adds (their ids, seqs and times are
// filled in). An error leaves the conversation as it was.
type Change func(c *Conversation) ([]Message, error)

// Apply runs change on conversation id under the conversation's lock, as a
// turn: the new state and messages are stored in one transaction, then
// published. It returns the conversation as stored and the new messages.
func (e *Engine) Apply(ctx context.Context, id string, change Change) (*Conversation, []Message, error) {
	return e.ApplyWithin(ctx, id, 0, change)
}

// ApplyWithin is Apply for a change that may assign the conversation:
// above 0, limit is how many conversations the assignee may have, checked
// as the change is stored (Turn.AssigneeLimit); past it the change fails
// with ErrAssigneeFull and nothing is stored.
func (e *Engine) ApplyWithin(ctx context.Context, id string, limit int, change Change) (*Conversation, []Message, error) {
	unlock, err := e.lock(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	for attempt := 1; ; attempt++ {
		c, msgs, err := e.apply(ctx, id, limit, change)
		if !errors.Is(err, errRaced) || attempt == raceAttempts {
			return c, msgs, err
		}
		e.logger.Warn("a desk action raced another write to its conversation; running it again", "conversation", id, "attempt", attempt)
	}
}

// apply is one attempt of Apply, under the conversation's lock. change
// may run again on a fresh read, so it must only look at its argument.
func (e *Engine) apply(ctx context.Context, id string, limit int, change Change) (*Conversation, []Message, error) {
	c, err := e.store.Conversation(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	next := *c
	now := time.Now().UTC().Truncate(time.Millisecond) // as stored
	next.UpdatedAt = now
	msgs, err := change(&next)
	if err != nil {
		return nil, nil, err
	}
	for i := range msgs {
		next.LastSeq++
		m := &msgs[i]
		m.ID, m.ConversationID, m.Seq, m.CreatedAt = messageID(now), c.ID, next.LastSeq, now
		if m.Locale == "" {
			m.Locale = next.Locale
		}
		if m.Role == RoleAgent || m.Role == RoleCustomer {
			safe := e.protectText(c.ID, m.ID, m.Text)
			m.Text, m.PII, m.Sealed = safe.Text, safe.KindNames(), safe.Sealed
		}
	}
	if err := e.store.SaveTurn(ctx, Turn{Conversation: &next, Messages: msgs, AssigneeLimit: limit}); err != nil {
		return nil, nil, raced(err)
	}
	if e.pub != nil {
		e.pub.Publish(&next, msgs)
	}
	return &next, msgs, nil
}

// Conversation returns a conversation by id, for the desk (which has
// already checked the caller's rights).
func (e *Engine) Conversation(ctx context.Context, id string) (*Conversation, error) {
	return e.store.Conversation(ctx, id)
}

// protectText masks personal data in text written into conversation
// convID as message ref. A sealing failure loses the original, never the
// masking.
func (e *Engine) protectText(convID, ref, text string) guard.Protected {
	p, err := e.protect.Protect(text, guard.AAD(convID, ref))
	if err != nil {
		e.logger.Error("seal personal data: the original is not kept", "conversation", convID, "message", ref, "error", err)
	}
	return p
}

// lock takes the conversation's lock in this node, then across nodes. If
// the cross-node lock cannot be had because the store is unreachable, the
// turn goes on (so does one that waited LockWait in vain): the store's
// conditional write still refuses a turn that raced another, and a
// customer's message is better spooled than refused.
func (e *Engine) lock(ctx context.Context, id string) (func(), error) {
	unlock, err := e.locks.lock(ctx, id)
	if err != nil {
		return nil, err
	}
	release, err := e.lockNodes(ctx, id)
	if err != nil {
		unlock()
		return nil, err
	}
	return func() { release(); unlock() }, nil
}

// lockNodes takes the conversation's cross-node lock, if there is one, as
// lock does; it fails only when ctx is done.
func (e *Engine) lockNodes(ctx context.Context, id string) (func(), error) {
	if e.xlock == nil {
		return func() {}, nil
	}
	release, err := e.xlock(ctx, id)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		e.logger.Warn("cross-node lock unavailable; relying on the conditional write", "conversation", id, "error", err)
		return func() {}, nil
	}
	return release, nil
}
