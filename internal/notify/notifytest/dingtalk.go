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

// DingTalkMessage is a message a DingTalk robot accepted, decoded.
type DingTalkMessage struct {
	MsgType string `json:"msgtype"`
	Text    struct {
		Content string `json:"content"`
	} `json:"text"`
	Markdown struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	} `json:"markdown"`
	At struct {
		AtMobiles []string `json:"atMobiles"`
		AtUserIDs []string `json:"atUserIds"`
		IsAtAll   bool     `json:"isAtAll"`
	} `json:"at"`
	// Signed reports that the request carried a timestamp and sign that
	// checked out.
	Signed bool `json:"-"`
}

// DingTalk fakes a DingTalk custom robot at POST /robot/send?access_token=..,
// checking the token and, when the robot has a secret, the timestamp and
// sign query parameters as DingTalk does. It answers HTTP 200 with
// {"errcode":..,"errmsg":..}: 300001 for a wrong token, 310000 for a bad
// sign, 43004 for a wrong Content-Type, 40035 for a malformed body and
// 130101 when rate limited.
type DingTalk struct {
	*server
	token, secret string

	mu   sync.Mutex
	msgs []DingTalkMessage
}

var _ Fake = (*DingTalk)(nil)

// NewDingTalk starts a robot with the access token and the 加签 secret
// ("" for a robot that does not sign).
func NewDingTalk(token, secret string) *DingTalk {
	f := &DingTalk{token: token, secret: secret}
	f.server = newServer(f.handle)
	return f
}

// URL is the robot's webhook, as DingTalk shows it.
func (f *DingTalk) URL() string { return f.BaseURL() + "/robot/send?access_token=" + f.token }

// Messages returns the messages accepted, oldest first.
func (f *DingTalk) Messages() []DingTalkMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]DingTalkMessage(nil), f.msgs...)
}

// Count is how many messages the robot accepted.
func (f *DingTalk) Count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.msgs) }

func (f *DingTalk) handle(w http.ResponseWriter, r *http.Request) {
	answer := func(code int, msg string) {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": code, "errmsg": msg})
	}
	if r.URL.Path != "/robot/send" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		answer(43002, "需要POST请求")
		return
	}
	q := r.URL.Query()
	if q.Get("access_token") != f.token {
		answer(300001, "token is not exist")
		return
	}
	signed := false
	if f.secret != "" {
		ts, sign := q.Get("timestamp"), q.Get("sign")
		ms, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || sign == "" {
			answer(310000, "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]")
			return
		}
		if d := time.Since(time.UnixMilli(ms)); d > time.Hour || d < -time.Hour {
			answer(310000, "invalid timestamp")
			return
		}
		mac := hmac.New(sha256.New, []byte(f.secret))
		mac.Write([]byte(ts + "\n" + f.secret))
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(sign), []byte(want)) {
			answer(310000, "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]")
			return
		}
		signed = true
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		answer(43004, "无效的HTTP HEADER Content-Type")
		return
	}
	if on, _ := f.limited(); on {
		answer(130101, "send too fast, exceed 20 times per minute")
		return
	}
	body, err := readBody(r)
	var m DingTalkMessage
	if err == nil {
		err = json.Unmarshal(body, &m)
	}
	valid := err == nil && (m.MsgType == "text" && m.Text.Content != "" ||
		m.MsgType == "markdown" && m.Markdown.Title != "" && m.Markdown.Text != "")
	if !valid {
		answer(40035, "缺少参数 json")
		return
	}
	m.Signed = signed
	f.mu.Lock()
	f.msgs = append(f.msgs, m)
	f.mu.Unlock()
	answer(0, "ok")
}
