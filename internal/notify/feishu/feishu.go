// Package feishu sends notices to a Feishu (飞书) or Lark group through a
// custom bot, as an interactive card, signing each request when the bot
// has a secret (签名校验).
//
// Wire format (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot):
// POST https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN with
// {"msg_type":"interactive","card":{..},"timestamp":"<unix s>","sign":".."}
// where sign is base64(HMAC-SHA256(key=timestamp+"\n"+secret, msg=empty));
// the answer is {"code":0,"msg":"success"} (older bots: {"StatusCode":0})
// or another code.
package feishu

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/notify/internal/hook"
)

// Error codes Feishu answers with, as far as Send tells them apart.
const (
	CodeOK           = 0
	CodeBadRequest   = 9499  // Bad Request: the payload was not understood
	CodeTokenInvalid = 19001 // param invalid: incoming webhook access token invalid
	CodeSignMismatch = 19021 // sign match fail or timestamp is not within one hour from current time
	CodeIPNotAllowed = 19022 // ip not allowed
	CodeKeywords     = 19024 // Key Words Not Found
	CodeRateLimited  = 11232 // frequency limited
)

// Config is a Feishu channel's settings.
type Config struct {
	// URL is the bot's webhook, https://open.feishu.cn/open-apis/bot/v2/hook/...
	// (or open.larksuite.com for Lark).
	URL string `yaml:"url"`
	// Secret is the bot's 签名校验 secret, when it has one.
	Secret string `yaml:"secret"`
}

// Validate reports the first problem, naming its setting.
func (c Config) Validate() error {
	u, err := hook.CheckURL("url", c.URL)
	if err != nil {
		return err
	}
	if _, token, ok := strings.Cut(u.Path, "/hook/"); !ok || strings.Trim(token, "/") == "" {
		return fmt.Errorf("url must be the bot's webhook (https://open.feishu.cn/open-apis/bot/v2/hook/...)")
	}
	return nil
}

// Channel sends notices to one Feishu bot.
type Channel struct {
	cfg    Config
	client *http.Client
}

var _ notify.Channel = (*Channel)(nil)

// New validates cfg and makes the channel; a nil client means a default
// one with a 10 s timeout.
func New(cfg Config, client *http.Client) (*Channel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Channel{cfg: cfg, client: hook.Client(client)}, nil
}

type message struct {
	Timestamp string `json:"timestamp,omitempty"`
	Sign      string `json:"sign,omitempty"`
	MsgType   string `json:"msg_type"`
	Card      card   `json:"card"`
}

type card struct {
	Config struct {
		WideScreenMode bool `json:"wide_screen_mode"`
	} `json:"config"`
	Header struct {
		Template string `json:"template"`
		Title    text   `json:"title"`
	} `json:"header"`
	Elements []element `json:"elements"`
}

type text struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

type element struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

type reply struct {
	Code          *int   `json:"code"`
	Msg           string `json:"msg"`
	StatusCode    *int   `json:"StatusCode"`
	StatusMessage string `json:"StatusMessage"`
}

// Send posts n as an interactive card: a header coloured by level (blue,
// orange, red; green once resolved) over a Markdown element.
func (c *Channel) Send(ctx context.Context, n notify.Notice) error {
	msg := message{MsgType: "interactive"}
	msg.Card.Config.WideScreenMode = true
	msg.Card.Header.Template = Template(n)
	msg.Card.Header.Title = text{Tag: "plain_text", Content: notify.Headline(n)}
	msg.Card.Elements = []element{{Tag: "markdown", Content: notify.MarkdownBody(n)}}
	if c.cfg.Secret != "" {
		msg.Timestamp = strconv.FormatInt(time.Now().Unix(), 10)
		msg.Sign = Sign(c.cfg.Secret, msg.Timestamp)
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return notify.Permanent(fmt.Errorf("feishu: encode message: %w", err))
	}
	r, err := hook.Post(ctx, c.client, c.cfg.URL, body, nil)
	if err != nil {
		return fmt.Errorf("feishu: %w", err)
	}
	var rep reply
	jerr := json.Unmarshal(r.Body, &rep)
	code, msgText := rep.code()
	if !r.OK() {
		if jerr == nil && code != nil && *code != CodeOK && r.Status != http.StatusTooManyRequests {
			return replyError(*code, msgText, r)
		}
		return hook.StatusError("feishu", r)
	}
	if jerr != nil || code == nil {
		return fmt.Errorf("feishu answered %d without a code: %s", r.Status, hook.Snippet(r.Body))
	}
	return replyError(*code, msgText, r)
}

// code returns the answer's code, in the current or the older form.
func (r reply) code() (*int, string) {
	if r.Code != nil {
		return r.Code, r.Msg
	}
	return r.StatusCode, r.StatusMessage
}

func replyError(code int, msg string, r *hook.Reply) error {
	if code == CodeOK {
		return nil
	}
	err := fmt.Errorf("feishu answered code %d: %s", code, hook.Snippet([]byte(msg)))
	switch code {
	case CodeRateLimited:
		return &notify.RetryAfterError{After: hook.RetryAfter(r.Header.Get("Retry-After"), time.Now(), hook.DefaultRetryAfter), Err: err}
	case CodeSignMismatch, CodeIPNotAllowed, CodeKeywords:
		return notify.Permanent(fmt.Errorf("%w (check the secret, the keywords and the IP allow-list in the bot's security settings)", err))
	case CodeTokenInvalid:
		return notify.Permanent(fmt.Errorf("%w (check the url)", err))
	case CodeBadRequest:
		return notify.Permanent(err)
	}
	return err
}

// Template is the card header's colour for n: green once resolved, else
// blue, orange or red by level.
func Template(n notify.Notice) string {
	if n.Status == notify.StatusResolved {
		return "green"
	}
	switch n.Level {
	case notify.LevelCritical:
		return "red"
	case notify.LevelWarning:
		return "orange"
	}
	return "blue"
}

// Sign is Feishu's signature for timestamp (unix seconds):
// base64(HMAC-SHA256(key=timestamp+"\n"+secret, msg=empty)).
func Sign(secret, timestamp string) string {
	mac := hmac.New(sha256.New, []byte(timestamp+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
