package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/errcode"
	"github.com/steward-cs/steward/internal/knowledge"
)

// maxBody bounds a JSON request body: a 4,000-character message, escaped,
// fits many times over.
const maxBody = 64 << 10

// decode reads a JSON body into v: size-limited, valid UTF-8, one value,
// no unknown fields.
func decode(r *http.Request, v any) error { return decodeBody(r, v, maxBody, false) }

// decodeMax is decode with another body limit.
func decodeMax(r *http.Request, v any, limit int64) error { return decodeBody(r, v, limit, false) }

// decodeOptional is decode for a body that may be left out: an empty body
// leaves v as it is.
func decodeOptional(r *http.Request, v any) error { return decodeBody(r, v, maxBody, true) }

// decodeEntry is decodeMax for a knowledge-base entry, which also refuses
// a key given twice ("en" twice in "locales"): encoding/json keeps the
// last, and the first block was lost without a word, where the import of
// the same entry is refused.
func decodeEntry(r *http.Request, v any, limit int64) error {
	return decodeChecked(r, v, limit, false, knowledge.DuplicateKey)
}

func decodeBody(r *http.Request, v any, maxBody int64, optional bool) error {
	return decodeChecked(r, v, maxBody, optional, nil)
}

// decodeChecked is decodeBody with check run on the body once it is known
// to be UTF-8 JSON text.
func decodeChecked(r *http.Request, v any, maxBody int64, optional bool, check func([]byte) error) error {
	// The declared Content-Type is not checked: many clients (curl -d) send
	// JSON labelled as a form, and the body is validated as JSON anyway.
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return errcode.Localized(errcode.TooLarge, "request body exceeds %d bytes", "请求体超过 %d 字节", maxBody)
		}
		return errcode.Localized(errcode.Invalid, "read request body: %v", "无法读取请求体：%v", err)
	}
	if !utf8.Valid(body) {
		return errcode.Localized(errcode.Invalid, "request body is not valid UTF-8", "请求体不是有效的 UTF-8")
	}
	if escapedNUL(body) {
		// PostgreSQL cannot store it in text, and a turn the store refuses
		// would wait in the spool for good.
		return errcode.Localized(errcode.Invalid, "the body holds the NUL character (\\u0000), which no field may contain",
			"请求中含有空字符（\\u0000），任何字段都不能包含它")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return errcode.Localized(errcode.Invalid, "request body is empty; send a JSON object", "请求体为空，请发送一个 JSON 对象")
	}
	if check != nil {
		if err := check(body); err != nil {
			if _, ok := errors.AsType[*errcode.Error](err); ok {
				return err
			}
			return errcode.Localized(errcode.Invalid, "%v", "%v", err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field == "":
			// The body itself is not an object (5, [5], "5"): Go's type
			// name for the request said nothing to the caller.
			return errcode.Localized(errcode.Invalid, "the body must be a JSON object, not %[1]s",
				"请求体须为 JSON 对象，而不是%[2]s", valueKind(typeErr.Value), jsonKindZH(typeErr.Value))
		case errors.As(err, &typeErr):
			want := jsonType(typeErr.Type)
			return errcode.Localized(errcode.Invalid, "field %[1]q has the wrong type (want %[2]s)",
				"字段 %[1]q 的类型不对（应为%[3]s）", typeErr.Field, want, jsonKindZH(want))
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			field := strings.TrimPrefix(err.Error(), "json: unknown field ")
			return errcode.Localized(errcode.Invalid, "unknown field %s", "未知字段 %s", field)
		default:
			return errcode.Localized(errcode.Invalid, "malformed JSON: %v", "JSON 格式错误：%v", err)
		}
	}
	// Whatever follows the value is refused, not only a second value:
	// Decoder.More says nothing of a stray "}" or "]", and {"text":"hi"}}
	// was taken as a message.
	if rest := bytes.TrimSpace(body[dec.InputOffset():]); len(rest) > 0 {
		r := string(rest[:min(len(rest), 20)])
		return errcode.Localized(errcode.Invalid, "malformed JSON: %q after the body's JSON value",
			"JSON 格式错误：请求体的 JSON 值之后还有 %q", r)
	}
	return nil
}

// jsonType names a Go type as the JSON value that decodes into it.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}

// valueKind names the JSON value an UnmarshalTypeError saw ("number 5"
// arrives as "number").
func valueKind(value string) string {
	if k, _, ok := strings.Cut(value, " "); ok {
		return k
	}
	return value
}

// jsonKindZH is a JSON kind (jsonType, valueKind) in Chinese.
func jsonKindZH(kind string) string {
	switch valueKind(kind) {
	case "string":
		return "字符串"
	case "bool":
		return "布尔值"
	case "number":
		return "数字"
	case "array":
		return "数组"
	case "object":
		return "对象"
	}
	return kind
}

// escapedNUL reports whether a JSON text holds the escape \u0000 (the only
// way JSON carries a NUL), not counting an escaped backslash followed by
// "u0000", which is text.
func escapedNUL(body []byte) bool {
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte(`\u0000`))
		if j < 0 {
			return false
		}
		j += i
		slashes := 0
		for k := j; k >= 0 && body[k] == '\\'; k-- {
			slashes++
		}
		if slashes%2 == 1 {
			return true
		}
		i = j + 1
	}
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// messageJSON is a message as the API shows it.
type messageJSON struct {
	ID         string                 `json:"id"`
	Seq        int64                  `json:"seq"`
	Role       conversation.Role      `json:"role"`
	Text       string                 `json:"text"`
	CreatedAt  time.Time              `json:"created_at"`
	Outcome    conversation.Outcome   `json:"outcome,omitempty"`
	Confidence *float64               `json:"confidence,omitempty"`
	Entry      *conversation.EntryRef `json:"entry,omitempty"`
	Choices    []conversation.Choice  `json:"choices,omitempty"`
	Locale     string                 `json:"locale,omitempty"`
	// Author names the agent of an agent message (the customer sees the
	// name only; the console's form adds the id).
	AuthorName *authorName `json:"author,omitempty"`
	// PII lists the kinds of personal data masked in Text (cn_id,
	// cn_mobile, bank_card, email): the desk may reveal the original.
	PII []string `json:"pii,omitempty"`
	// ClientID is the key the customer's client sent its message with:
	// the page matches its pending copy to the stored one by it.
	ClientID string `json:"client_id,omitempty"`
	// Generated marks a bot answer the language model wrote (llm), which
	// the chat labels as such.
	Generated bool `json:"generated,omitempty"`
}

type authorName struct {
	Name string `json:"name"`
}

func toJSON(m conversation.Message) messageJSON {
	out := messageJSON{ID: m.ID, Seq: m.Seq, Role: m.Role, Text: m.Text, CreatedAt: m.CreatedAt, Outcome: m.Outcome,
		Entry: m.Entry, Choices: m.Choices, Locale: m.Locale, PII: m.PII, ClientID: m.ClientID,
		Generated: m.Role == conversation.RoleBot && m.Intent == conversation.IntentGenerated}
	if m.Author != nil {
		out.AuthorName = &authorName{Name: m.Author.Name}
	}
	if m.Outcome != "" && m.Role == conversation.RoleBot {
		c := m.Confidence
		out.Confidence = &c
	}
	return out
}

func toJSONs(msgs []conversation.Message) []messageJSON {
	out := make([]messageJSON, len(msgs))
	for i, m := range msgs {
		out[i] = toJSON(m)
	}
	return out
}

type createRequest struct {
	Locale   string                `json:"locale"`
	Customer conversation.Customer `json:"customer"`
	Source   string                `json:"source"`
	// Identity is the customer's identity as the embedding site signed it
	// (security.identity_secret; docs/security.md).
	Identity string `json:"identity"`
}

// Identity outcomes of a new conversation, in its "identity" field.
const (
	identityVerified   = "verified"   // a valid token named the customer
	identityUnverified = "unverified" // no secret is configured: the customer fields were believed as sent
	identityAnonymous  = "anonymous"  // a secret is configured and no token came: the customer fields were dropped
	identityRejected   = "rejected"   // a token came and failed: the customer fields were dropped
)

// maxIdentityToken bounds the identity token a request may carry.
const maxIdentityToken = 4096

// identify decides who a new conversation's customer is. Without an
// identity secret the request's fields are believed, as before. With one,
// only a valid token names the customer, or, without a token, a staff
// credential sent as the bearer vouches for the fields as sent (a partner
// gateway's API key, the drill's token: they could sign a token anyway);
// anything else starts an anonymous conversation (the chat must keep
// working for a customer whose page held a stale token), says so in the
// answer, and is logged without the token. vouched is the source a valid
// token names ("" for none).
func (s *Server) identify(req createRequest, staff func() bool) (cust conversation.Customer, vouched, identity, why string) {
	if s.identities == nil {
		return req.Customer, "", identityUnverified, ""
	}
	if req.Identity == "" {
		if req.Customer != (conversation.Customer{}) && staff() {
			return req.Customer, "", identityVerified, ""
		}
		return conversation.Customer{}, "", identityAnonymous, ""
	}
	if len(req.Identity) > maxIdentityToken {
		return conversation.Customer{}, "", identityRejected, fmt.Sprintf("the identity token is longer than %d bytes", maxIdentityToken)
	}
	c, err := s.identities.Verify(req.Identity)
	if err != nil {
		return conversation.Customer{}, "", identityRejected, err.Error()
	}
	cust = conversation.Customer{ExternalID: c.ExternalID, Name: c.Name, VIP: c.VIP}
	if err := conversation.ValidCustomer(cust); err != nil {
		return conversation.Customer{}, "", identityRejected, "the identity token's " + errcode.Message(err)
	}
	if c.Source != "" {
		if err := conversation.ValidSource(c.Source); err != nil {
			return conversation.Customer{}, "", identityRejected, "the identity token's " + errcode.Message(err)
		}
	}
	return cust, c.Source, identityVerified, ""
}

// source decides a new conversation's traffic source. A source is what a
// flood is throttled by (docs/crisis.md), so with an identity secret a
// source other than the default is taken only from someone who can prove
// the right to it: a valid identity token that names it (it wins over the
// request's field), or a staff credential sent as the bearer (a partner
// gateway's API key, the drill's token). Anyone else's claim, which could
// get a partner's channel throttled by flooding under its name, counts as
// the default source, and why says so. Without a secret the field is
// believed as sent, as the customer fields are.
func (s *Server) source(asked, vouched string, staff func() bool) (src, why string) {
	if vouched != "" {
		return vouched, ""
	}
	if asked == "" || asked == conversation.DefaultSource || s.identities == nil {
		return asked, ""
	}
	if err := conversation.ValidSource(asked); err != nil {
		return asked, "" // refused as invalid by the engine, as always
	}
	if staff() {
		return asked, ""
	}
	return conversation.DefaultSource, fmt.Sprintf("the source %q needs an identity token that names it or a staff API key; "+
		"this conversation counts as %q", asked, conversation.DefaultSource)
}

// staffBearer reports whether r carries, as its bearer, a valid staff
// credential (an API key or a console session) of a user who may vouch for
// a customer (auth.IdentityVouch). Any staff credential did: an agent's or
// an auditor's login, which cannot sign an identity token, could then name
// any customer, VIP included, and any traffic source.
func (s *Server) staffBearer(r *http.Request) bool {
	tok := bearer(r)
	if tok == "" || s.auth == nil {
		return false
	}
	p, err := s.auth.FromBearer(r.Context(), tok)
	return err == nil && p.User.Can(auth.IdentityVouch)
}

type conversationJSON struct {
	ID       string                `json:"id"`
	Token    string                `json:"token,omitempty"`
	State    conversation.State    `json:"state"`
	Locale   string                `json:"locale"`
	Customer conversation.Customer `json:"customer"`
	Messages []messageJSON         `json:"messages"`
	Queue    *queueJSON            `json:"queue,omitempty"`
	Agent    *struct {
		Name string `json:"name"`
	} `json:"agent,omitempty"`
	Rating *ratingJSON `json:"rating,omitempty"`
	// Identity says how the customer was identified (on creation only):
	// verified, unverified, anonymous or rejected (with IdentityError).
	Identity      string `json:"identity,omitempty"`
	IdentityError string `json:"identity_error,omitempty"`
	// Notice tells the customer about a degraded service, while it lasts.
	Notice string `json:"notice,omitempty"`
	// Source is the conversation's traffic source (on creation only), and
	// SourceError why the one asked for was not taken.
	Source      string `json:"source,omitempty"`
	SourceError string `json:"source_error,omitempty"`
}

func (s *Server) createConversation(w http.ResponseWriter, r *http.Request) error {
	if err := s.limits.allowCreate(s.limits.clientKey(r)); err != nil {
		return err
	}
	var req createRequest
	// The body is optional: none, or an empty one of unknown length
	// (chunked), starts a conversation with the defaults.
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	// Whether the bearer is staff is asked at most once (a store read),
	// and only when the identity or the source needs it.
	staff := sync.OnceValue(func() bool { return s.staffBearer(r) })
	customer, vouched, identity, why := s.identify(req, staff)
	source, sourceWhy := s.source(req.Source, vouched, staff)
	c, token, greeting, err := s.engine.Start(r.Context(), conversation.StartRequest{Locale: req.Locale, Customer: customer,
		Source: source})
	if err != nil {
		return err
	}
	if why != "" {
		s.logger.Warn("a customer's identity token was refused; the conversation is anonymous", "conversation", c.ID, "reason", why)
	}
	if sourceWhy != "" {
		s.logger.Warn("a conversation's source was not taken", "conversation", c.ID, "asked", req.Source, "reason", sourceWhy)
	}
	w.Header().Set("Location", "/api/v1/conversations/"+c.ID)
	writeJSON(w, http.StatusCreated, conversationJSON{ID: c.ID, Token: token, State: c.State, Locale: c.Locale,
		Customer: c.Customer, Messages: toJSONs(greeting), Notice: s.noticeFor(c.Locale), Identity: identity, IdentityError: why,
		Source: c.Source, SourceError: sourceWhy})
	return nil
}

func (s *Server) getConversation(w http.ResponseWriter, r *http.Request) error {
	c, err := s.engine.Authorize(r.Context(), r.PathValue("id"), bearer(r))
	if err != nil {
		return err
	}
	msgs, err := s.engine.Transcript(r.Context(), c, 0)
	if err != nil {
		return err
	}
	out := conversationJSON{ID: c.ID, State: c.State, Locale: c.Locale, Customer: c.Customer, Messages: toJSONs(msgs),
		Agent: s.agentName(r, c), Notice: s.noticeFor(c.Locale)}
	if c.State == conversation.StateQueued {
		out.Queue = s.queuePosition(c.ID)
	}
	if s.quality != nil {
		if rt, err := s.quality.Rating(r.Context(), c.ID); err == nil {
			rj := toRatingJSON(rt)
			out.Rating = &rj
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type postMessageRequest struct {
	Text   *string `json:"text"`
	Choice string  `json:"choice"`
	// ClientID, if given, makes a retry safe: a message sent again with
	// the same key is answered with the turn already stored.
	ClientID string `json:"client_id"`
}

type turnJSON struct {
	State    conversation.State `json:"state"`
	Customer messageJSON        `json:"customer_message"`
	Messages []messageJSON      `json:"messages"`
	Notice   string             `json:"notice,omitempty"`
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) error {
	// Authorise before judging the body: a stranger learns nothing from
	// which of their bodies are malformed. The token is checked by the
	// turn itself, so a well-formed body costs no read of its own; a bad
	// one is answered 400 only to the conversation's customer.
	if bearer(r) == "" {
		return conversation.ErrNoToken
	}
	var req postMessageRequest
	err := decode(r, &req)
	if err == nil && req.Text == nil {
		err = errcode.Localized(errcode.Invalid, "text is required", "消息内容不能为空")
	}
	if err != nil {
		if _, aerr := s.engine.Authorize(r.Context(), r.PathValue("id"), bearer(r)); aerr != nil {
			return aerr
		}
		return err
	}
	convKey := conversationKey(r.PathValue("id"), bearer(r))
	if err := s.limits.allowMessage(convKey); err != nil {
		return err
	}
	res, err := s.engine.Handle(r.Context(), r.PathValue("id"), bearer(r),
		conversation.Input{Text: *req.Text, Choice: req.Choice, ClientID: req.ClientID})
	if err != nil {
		return err
	}
	if res.Refused {
		s.limits.refused(s.limits.clientKey(r), convKey)
	}
	writeJSON(w, http.StatusOK, turnJSON{State: res.Conversation.State, Customer: toJSON(res.Customer), Messages: toJSONs(res.Replies),
		Notice: s.noticeFor(res.Conversation.Locale)})
	return nil
}
