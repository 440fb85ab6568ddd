// Package wecom sends notices to a WeCom (企业微信) group robot as
// Markdown.
//
// Wire format (https://developer.work.weixin.qq.com/document/path/91770):
// POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY with
// {"msgtype":"markdown","markdown":{"content":..}} (content at most 4096
// bytes of UTF-8); the answer is HTTP 200 with {"errcode":0,"errmsg":"ok"}
// or another code. Markdown messages cannot mention by phone number, so
// mentions follow as a short text message with mentioned_mobile_list.
package wecom

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/notify/internal/hook"
)

// Error codes WeCom answers with, as far as Send tells them apart.
const (
	CodeOK             = 0
	CodeInvalidURL     = 93000 // invalid webhook url: the key is wrong or the robot was removed
	CodeInvalidMsgType = 40008 // invalid message type
	CodeInvalidParam   = 40058 // a field is missing or too long
	CodeRateLimited    = 45009 // api freq out of limit (20 messages a minute per robot)
)

// MaxContent is the most bytes a Markdown message's content may hold.
const MaxContent = 4096

// RateLimitPause is how long to wait after WeCom's rate limit answer.
const RateLimitPause = 60 * time.Second

// Config is a WeCom channel's settings.
type Config struct {
	// URL is the robot's webhook, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...
	URL string `yaml:"url"`
	// MentionedMobiles are the phone numbers of members to @ ("@all" for
	// everyone).
	MentionedMobiles []string `yaml:"mentioned_mobiles"`
}

// Validate reports the first problem, naming its setting.
func (c Config) Validate() error {
	u, err := hook.CheckURL("url", c.URL)
	if err != nil {
		return err
	}
	if u.Query().Get("key") == "" {
		return fmt.Errorf("url must carry the robot's key (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...)")
	}
	for i, m := range c.MentionedMobiles {
		if m != "@all" && (m == "" || strings.Trim(m, "+-0123456789") != "") {
			return fmt.Errorf("mentioned_mobiles[%d] must be a phone number or @all", i)
		}
	}
	return nil
}

// Channel sends notices to one WeCom robot.
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

type markdownMessage struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Content string `json:"content"`
	} `json:"markdown"`
}

type textMessage struct {
	MsgType string `json:"msgtype"`
	Text    struct {
		Content             string   `json:"content"`
		MentionedMobileList []string `json:"mentioned_mobile_list"`
	} `json:"text"`
}

type reply struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// Send posts n as a Markdown message, then, when members are to be
// mentioned, a text message mentioning them. If the mention fails the
// error is returned, and a retry repeats the Markdown message: a
// duplicate is better than an alert nobody was called to.
func (c *Channel) Send(ctx context.Context, n notify.Notice) error {
	var md markdownMessage
	md.MsgType = "markdown"
	md.Markdown.Content = truncate(content(n), MaxContent)
	if err := c.post(ctx, md); err != nil {
		return err
	}
	if len(c.cfg.MentionedMobiles) == 0 {
		return nil
	}
	var txt textMessage
	txt.MsgType = "text"
	txt.Text.Content = notify.Headline(n)
	txt.Text.MentionedMobileList = c.cfg.MentionedMobiles
	if err := c.post(ctx, txt); err != nil {
		return fmt.Errorf("mention members: %w", err)
	}
	return nil
}

func (c *Channel) post(ctx context.Context, msg any) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return notify.Permanent(fmt.Errorf("wecom: encode message: %w", err))
	}
	r, err := hook.Post(ctx, c.client, c.cfg.URL, body, nil)
	if err != nil {
		return fmt.Errorf("wecom: %w", err)
	}
	var rep reply
	jerr := json.Unmarshal(r.Body, &rep)
	if !r.OK() {
		if jerr == nil && rep.ErrCode != nil && *rep.ErrCode != CodeOK && r.Status != http.StatusTooManyRequests {
			return replyError(rep)
		}
		return hook.StatusError("wecom", r)
	}
	if jerr != nil || rep.ErrCode == nil {
		return fmt.Errorf("wecom answered %d without an errcode: %s", r.Status, hook.Snippet(r.Body))
	}
	return replyError(rep)
}

func replyError(r reply) error {
	code := *r.ErrCode
	if code == CodeOK {
		return nil
	}
	err := fmt.Errorf("wecom answered errcode %d: %s", code, hook.Snippet([]byte(r.ErrMsg)))
	switch code {
	case CodeRateLimited:
		return &notify.RetryAfterError{After: RateLimitPause, Err: err}
	case CodeInvalidURL:
		return notify.Permanent(fmt.Errorf("%w (check the key in the url)", err))
	case CodeInvalidMsgType, CodeInvalidParam:
		return notify.Permanent(err)
	}
	return err
}

// content renders n in WeCom's Markdown, which colours text with
// <font color="info|comment|warning">: green when resolved, orange for
// warning and critical, grey for info.
func content(n notify.Notice) string {
	color := "comment"
	switch {
	case n.Status == notify.StatusResolved:
		color = "info"
	case notify.LevelRank(n.Level) >= notify.LevelRank(notify.LevelWarning):
		color = "warning"
	}
	return `### <font color="` + color + `">` + notify.LevelName(n.Level) + " · " + notify.StatusName(n.Status) + "</font>\n\n" +
		notify.MarkdownTitles(n) + notify.MarkdownBody(n)
}

// truncated ends content cut to fit.
const truncated = "\n\n…（已截断 truncated）"

// truncate cuts s to at most max bytes of whole runes, preferring a line
// break in the last quarter, and marks the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len(truncated)
	if cut <= 0 {
		cut = max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return s[:cut]
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if nl := strings.LastIndexByte(s[:cut], '\n'); nl >= cut*3/4 {
		cut = nl
	}
	return strings.TrimRight(s[:cut], "\n ") + truncated
}
