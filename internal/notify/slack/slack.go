// Package slack sends notices to a Slack channel through an incoming
// webhook, as Block Kit blocks with a plain-text fallback.
//
// Wire format (https://api.slack.com/messaging/webhooks): POST
// https://hooks.slack.com/services/T../B../TOKEN with
// {"text":..,"blocks":[..]}; Slack answers 200 "ok", or a 4xx with a text
// body such as invalid_payload, no_service or channel_not_found, 429 with
// Retry-After, or 5xx.
package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/notify/internal/hook"
)

// Block Kit limits.
const (
	maxHeader  = 150  // characters of a header block's text
	maxSection = 3000 // characters of a section block's text
)

// Config is a Slack channel's settings.
type Config struct {
	// URL is the incoming webhook, https://hooks.slack.com/services/...
	URL string `yaml:"url"`
	// Channel overrides the webhook's channel, e.g. "#ops", where the
	// webhook allows it.
	Channel string `yaml:"channel"`
	// Username overrides the webhook's display name, where allowed.
	Username string `yaml:"username"`
}

// Validate reports the first problem, naming its setting.
func (c Config) Validate() error {
	if _, err := hook.CheckURL("url", c.URL); err != nil {
		return err
	}
	if strings.ContainsAny(c.Channel, " \t\r\n") {
		return fmt.Errorf("channel must be a channel name such as #ops, without spaces")
	}
	if strings.ContainsAny(c.Username, "\r\n") {
		return fmt.Errorf("username must be one line")
	}
	return nil
}

// Channel sends notices to one Slack webhook.
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
	Text     string  `json:"text"`
	Blocks   []block `json:"blocks"`
	Channel  string  `json:"channel,omitempty"`
	Username string  `json:"username,omitempty"`
}

type block struct {
	Type     string     `json:"type"`
	Text     *textObj   `json:"text,omitempty"`
	Elements []*textObj `json:"elements,omitempty"`
}

type textObj struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// Send posts n as a header, a mrkdwn section with the texts, labels and
// link, and a context line with level, status and time.
func (c *Channel) Send(ctx context.Context, n notify.Notice) error {
	msg := message{
		Text: notify.Headline(n),
		Blocks: []block{
			{Type: "header", Text: &textObj{Type: "plain_text", Text: notify.Clip(notify.Headline(n), maxHeader), Emoji: true}},
			{Type: "section", Text: &textObj{Type: "mrkdwn", Text: notify.Clip(section(n), maxSection)}},
			{Type: "context", Elements: []*textObj{{Type: "mrkdwn", Text: contextLine(n)}}},
		},
		Channel:  c.cfg.Channel,
		Username: c.cfg.Username,
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return notify.Permanent(fmt.Errorf("slack: encode message: %w", err))
	}
	r, err := hook.Post(ctx, c.client, c.cfg.URL, body, nil)
	if err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	if !r.OK() {
		return hook.StatusError("slack", r)
	}
	return nil
}

// section renders n's texts, labels and link in Slack's mrkdwn.
func section(n notify.Notice) string {
	var ps []string
	zh, en := notify.ChatTexts(n)
	if zh != "" {
		ps = append(ps, escape(zh))
	}
	if en != "" {
		ps = append(ps, escape(en))
	}
	if labels := notify.SortedLabels(n); len(labels) > 0 {
		ps = append(ps, "*标签 Labels*: "+escape(strings.Join(labels, ", ")))
	}
	if link := notify.Link(n); link != "" {
		ps = append(ps, "<"+escape(link)+"|查看详情 View details>")
	}
	if len(ps) == 0 {
		return escape(n.DisplayTitle())
	}
	return strings.Join(ps, "\n\n")
}

func contextLine(n notify.Notice) string {
	parts := []string{"*" + notify.LevelName(n.Level) + "*", notify.StatusName(n.Status)}
	if !n.At.IsZero() {
		parts = append(parts, notify.FormatTime(n.At))
	}
	return escape(strings.Join(parts, " · "))
}

// escape escapes the three characters mrkdwn reserves.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
