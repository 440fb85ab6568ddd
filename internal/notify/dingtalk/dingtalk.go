// Package dingtalk sends notices to a DingTalk (钉钉) group through a custom
// robot, as Markdown, signing each request when the robot has a secret
// (加签).
//
// Wire format (https://open.dingtalk.com/document/robots/custom-robot-access):
// POST <url>&timestamp=<ms>&sign=<urlencode(base64(HMAC-SHA256(secret, timestamp+"\n"+secret)))>
// with {"msgtype":"markdown","markdown":{"title":..,"text":..},"at":{..}};
// the answer is HTTP 200 with {"errcode":0,"errmsg":"ok"} or another code.
package dingtalk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/notify/internal/hook"
)

// Error codes DingTalk answers with, as far as Send tells them apart.
const (
	CodeOK           = 0
	CodeTooFast      = 130101 // send too fast, exceed 20 times per minute
	CodeTokenInvalid = 300001 // token is not exist
	CodeSecurity     = 310000 // sign not match, keywords not in content, or ip not allowed
	CodeMissingParam = 40035  // 缺少参数 json: the payload was not understood
)

// RateLimitPause is how long to wait after DingTalk's "send too fast": the
// limit is 20 messages a minute per robot.
const RateLimitPause = 60 * time.Second

// Config is a DingTalk channel's settings.
type Config struct {
	// URL is the robot's webhook, https://oapi.dingtalk.com/robot/send?access_token=...
	URL string `yaml:"url"`
	// Secret is the robot's 加签 secret ("SEC..."), when it has one.
	Secret string `yaml:"secret"`
	// AtMobiles are the phone numbers of members to @ in the group.
	AtMobiles []string `yaml:"at_mobiles"`
	// AtAll @s everyone in the group.
	AtAll bool `yaml:"at_all"`
}

// Validate reports the first problem, naming its setting.
func (c Config) Validate() error {
	u, err := hook.CheckURL("url", c.URL)
	if err != nil {
		return err
	}
	if u.Query().Get("access_token") == "" {
		return fmt.Errorf("url must carry the robot's access_token (https://oapi.dingtalk.com/robot/send?access_token=...)")
	}
	if c.Secret != "" && !strings.HasPrefix(c.Secret, "SEC") {
		return fmt.Errorf("secret must be the robot's 加签 secret, which starts with SEC")
	}
	for i, m := range c.AtMobiles {
		if m == "" || strings.Trim(m, "+-0123456789") != "" {
			return fmt.Errorf("at_mobiles[%d] must be a phone number", i)
		}
	}
	return nil
}

// Channel sends notices to one DingTalk robot.
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

// message is the body DingTalk's robot takes for a Markdown message.
type message struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Title string `json:"title"` // shown in the chat list
		Text  string `json:"text"`
	} `json:"markdown"`
	At struct {
		AtMobiles []string `json:"atMobiles"`
		IsAtAll   bool     `json:"isAtAll"`
	} `json:"at"`
}

// reply is DingTalk's answer.
type reply struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// Send posts n as a Markdown message.
func (c *Channel) Send(ctx context.Context, n notify.Notice) error {
	text := notify.Markdown(n)
	if len(c.cfg.AtMobiles) > 0 {
		// DingTalk only notifies the mentioned members whose @ is in the text.
		text += "\n\n@" + strings.Join(c.cfg.AtMobiles, " @")
	}
	msg := message{MsgType: "markdown"}
	msg.Markdown.Title, msg.Markdown.Text = notify.Headline(n), text
	msg.At.AtMobiles, msg.At.IsAtAll = c.cfg.AtMobiles, c.cfg.AtAll
	if msg.At.AtMobiles == nil {
		msg.At.AtMobiles = []string{}
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return notify.Permanent(fmt.Errorf("dingtalk: encode message: %w", err))
	}
	target := c.cfg.URL
	if c.cfg.Secret != "" {
		target = signedURL(c.cfg.URL, c.cfg.Secret, time.Now())
	}
	r, err := hook.Post(ctx, c.client, target, body, nil)
	if err != nil {
		return fmt.Errorf("dingtalk: %w", err)
	}
	var rep reply
	jerr := json.Unmarshal(r.Body, &rep)
	if !r.OK() {
		if jerr == nil && rep.ErrCode != nil && *rep.ErrCode != CodeOK && r.Status != http.StatusTooManyRequests {
			return replyError(rep)
		}
		return hook.StatusError("dingtalk", r)
	}
	if jerr != nil || rep.ErrCode == nil {
		return fmt.Errorf("dingtalk answered %d without an errcode: %s", r.Status, hook.Snippet(r.Body))
	}
	return replyError(rep)
}

// replyError maps DingTalk's errcode to nil, a pause, a permanent failure
// or a retryable one.
func replyError(r reply) error {
	code := *r.ErrCode
	if code == CodeOK {
		return nil
	}
	err := fmt.Errorf("dingtalk answered errcode %d: %s", code, hook.Snippet([]byte(r.ErrMsg)))
	switch {
	case code == CodeTooFast:
		return &notify.RetryAfterError{After: RateLimitPause, Err: err}
	case code == CodeSecurity:
		return notify.Permanent(fmt.Errorf("%w (check the secret, the keywords and the IP allow-list in the robot's security settings)", err))
	case code == CodeTokenInvalid, code == 300005, code >= 400000 && code < 500000:
		return notify.Permanent(fmt.Errorf("%w (check the access_token in the url)", err))
	case code == CodeMissingParam:
		return notify.Permanent(err)
	}
	return err
}

// signedURL adds DingTalk's timestamp and sign parameters to rawURL.
func signedURL(rawURL, secret string, now time.Time) string {
	u, err := url.Parse(rawURL)
	if err != nil { // Validate has parsed it already
		return rawURL
	}
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	q := u.Query()
	q.Set("timestamp", ts)
	q.Set("sign", Sign(secret, ts))
	u.RawQuery = q.Encode()
	return u.String()
}

// Sign is DingTalk's signature for timestamp (unix milliseconds):
// base64(HMAC-SHA256(key=secret, timestamp+"\n"+secret)), before URL
// escaping.
func Sign(secret, timestamp string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
