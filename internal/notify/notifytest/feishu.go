package notifytest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FeishuMessage is a message a Feishu bot accepted, decoded.
type FeishuMessage struct {
	Timestamp string `json:"timestamp"`
	Sign      string `json:"sign"`
	MsgType   string `json:"msg_type"`
	Content   struct {
		Text string `json:"text"`
	} `json:"content"`
	Card *FeishuCard `json:"card"`
	// Signed reports that the request carried a timestamp and sign that
	// checked out.
	Signed bool `json:"-"`
}

// FeishuCard is an interactive card as sent to a bot.
type FeishuCard struct {
	Header struct {
		Template string `json:"template"`
		Title    struct {
			Tag     string `json:"tag"`
			Content string `json:"content"`
		} `json:"title"`
	} `json:"header"`
	Elements []FeishuElement `json:"elements"`
}

// FeishuElement is one element of a card: markdown, div, hr, action, ...
type FeishuElement struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

// Feishu fakes a Feishu custom bot at POST /open-apis/bot/v2/hook/TOKEN,
// checking the token and, when the bot has a secret, the body's timestamp
// and sign as Feishu does. It answers as Feishu does: HTTP 200 with
// {"code":0,"msg":"success",...} (with the older StatusCode fields too),
// code 19001 for a wrong token, 19021 for a bad sign, 11232 when rate
// limited, and HTTP 400 with code 9499 for a body it cannot read.
type Feishu struct {
	*server
	token, secret string

	mu   sync.Mutex
	msgs []FeishuMessage
}

var _ Fake = (*Feishu)(nil)

// NewFeishu starts a bot with the webhook token and the 签名校验 secret
// ("" for a bot that does not sign).
func NewFeishu(token, secret string) *Feishu {
	f := &Feishu{token: token, secret: secret}
	f.server = newServer(f.handle)
	return f
}

// URL is the bot's webhook, as Feishu shows it.
func (f *Feishu) URL() string { return f.BaseURL() + "/open-apis/bot/v2/hook/" + f.token }

// Messages returns the messages accepted, oldest first.
func (f *Feishu) Messages() []FeishuMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FeishuMessage(nil), f.msgs...)
}

// Count is how many messages the bot accepted.
func (f *Feishu) Count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.msgs) }

func (f *Feishu) handle(w http.ResponseWriter, r *http.Request) {
	answer := func(status, code int, msg string) {
		writeJSON(w, status, map[string]any{"code": code, "msg": msg, "data": map[string]any{}})
	}
	token, ok := strings.CutPrefix(r.URL.Path, "/open-apis/bot/v2/hook/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		answer(http.StatusBadRequest, 9499, "Bad Request")
		return
	}
	body, err := readBody(r)
	var m FeishuMessage
	if err == nil {
		err = json.Unmarshal(body, &m)
	}
	if err != nil {
		answer(http.StatusBadRequest, 9499, "Bad Request")
		return
	}
	if token != f.token {
		answer(http.StatusOK, 19001, "param invalid: incoming webhook access token invalid")
		return
	}
	if f.secret != "" {
		const bad = "sign match fail or timestamp is not within one hour from current time"
		sec, err := strconv.ParseInt(m.Timestamp, 10, 64)
		if err != nil || m.Sign == "" {
			answer(http.StatusOK, 19021, bad)
			return
		}
		if d := time.Since(time.Unix(sec, 0)); d > time.Hour || d < -time.Hour {
			answer(http.StatusOK, 19021, bad)
			return
		}
		mac := hmac.New(sha256.New, []byte(m.Timestamp+"\n"+f.secret))
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(m.Sign), []byte(want)) {
			answer(http.StatusOK, 19021, bad)
			return
		}
		m.Signed = true
	}
	if on, _ := f.limited(); on {
		answer(http.StatusOK, 11232, "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]")
		return
	}
	valid := m.MsgType == "text" && m.Content.Text != "" ||
		m.MsgType == "interactive" && m.Card != nil && len(m.Card.Elements) > 0
	if !valid {
		answer(http.StatusBadRequest, 9499, "Bad Request")
		return
	}
	f.mu.Lock()
	f.msgs = append(f.msgs, m)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": map[string]any{}, "msg": "success"})
}
