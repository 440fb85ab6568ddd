package notifytest

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"
)

// SlackMessage is a message a Slack incoming webhook accepted, decoded.
type SlackMessage struct {
	Text     string       `json:"text"`
	Blocks   []SlackBlock `json:"blocks"`
	Channel  string       `json:"channel"`
	Username string       `json:"username"`
}

// SlackBlock is one Block Kit block.
type SlackBlock struct {
	Type     string      `json:"type"`
	Text     *SlackText  `json:"text"`
	Elements []SlackText `json:"elements"`
}

// SlackText is a Block Kit text object.
type SlackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Slack fakes an incoming webhook at POST /services/T../B../TOKEN. It
// answers as Slack does, in text: 200 "ok"; 403 "invalid_token" for a
// wrong token, 404 "no_service" for an unknown path, 400
// "invalid_payload", "no_text" or "invalid_blocks" for a body it rejects,
// 404 "channel_not_found" for an unknown channel override, and 429
// "rate_limited" with Retry-After when rate limited.
type Slack struct {
	*server
	token string

	mu       sync.Mutex
	msgs     []SlackMessage
	channels map[string]bool
}

var _ Fake = (*Slack)(nil)

const slackPath = "/services/T0STEWARD/B0STEWARD/"

// NewSlack starts a webhook with the token (the last part of its path).
// It accepts channel overrides to #general and #ops.
func NewSlack(token string) *Slack {
	f := &Slack{token: token, channels: map[string]bool{"#general": true, "#ops": true}}
	f.server = newServer(f.handle)
	return f
}

// URL is the webhook, as Slack shows it.
func (f *Slack) URL() string { return f.BaseURL() + slackPath + f.token }

// Messages returns the messages accepted, oldest first.
func (f *Slack) Messages() []SlackMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]SlackMessage(nil), f.msgs...)
}

// Count is how many messages the webhook accepted.
func (f *Slack) Count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.msgs) }

func (f *Slack) handle(w http.ResponseWriter, r *http.Request) {
	answer := func(status int, body string) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}
	token, ok := strings.CutPrefix(r.URL.Path, slackPath)
	if !ok || r.Method != http.MethodPost {
		answer(http.StatusNotFound, "no_service")
		return
	}
	if token != f.token {
		answer(http.StatusForbidden, "invalid_token")
		return
	}
	if on, after := f.limited(); on {
		if after != "" {
			w.Header().Set("Retry-After", after)
		}
		answer(http.StatusTooManyRequests, "rate_limited")
		return
	}
	body, err := readBody(r)
	var m SlackMessage
	if err == nil {
		err = json.Unmarshal(body, &m)
	}
	switch {
	case err != nil:
		answer(http.StatusBadRequest, "invalid_payload")
		return
	case m.Text == "" && len(m.Blocks) == 0:
		answer(http.StatusBadRequest, "no_text")
		return
	case !validBlocks(m.Blocks):
		answer(http.StatusBadRequest, "invalid_blocks")
		return
	}
	f.mu.Lock()
	known := m.Channel == "" || f.channels[m.Channel]
	if known {
		f.msgs = append(f.msgs, m)
	}
	f.mu.Unlock()
	if !known {
		answer(http.StatusNotFound, "channel_not_found")
		return
	}
	answer(http.StatusOK, "ok")
}

// validBlocks applies the Block Kit rules the fake knows: header text is
// plain_text of at most 150 characters, section text at most 3000,
// context elements are text objects.
func validBlocks(blocks []SlackBlock) bool {
	for _, b := range blocks {
		switch b.Type {
		case "header":
			if b.Text == nil || b.Text.Type != "plain_text" || b.Text.Text == "" || utf8.RuneCountInString(b.Text.Text) > 150 {
				return false
			}
		case "section":
			if b.Text == nil || (b.Text.Type != "mrkdwn" && b.Text.Type != "plain_text") || b.Text.Text == "" ||
				utf8.RuneCountInString(b.Text.Text) > 3000 {
				return false
			}
		case "context":
			if len(b.Elements) == 0 {
				return false
			}
			for _, e := range b.Elements {
				if (e.Type != "mrkdwn" && e.Type != "plain_text") || e.Text == "" {
					return false
				}
			}
		case "divider":
		default:
			return false
		}
	}
	return true
}
