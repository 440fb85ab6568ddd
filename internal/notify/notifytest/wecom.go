package notifytest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
)

// WeComMessage is a message a WeCom robot accepted, decoded.
type WeComMessage struct {
	MsgType string `json:"msgtype"`
	Text    struct {
		Content             string   `json:"content"`
		MentionedList       []string `json:"mentioned_list"`
		MentionedMobileList []string `json:"mentioned_mobile_list"`
	} `json:"text"`
	Markdown struct {
		Content string `json:"content"`
	} `json:"markdown"`
}

// WeCom fakes a WeCom group robot at POST /cgi-bin/webhook/send?key=..
// It answers HTTP 200 with {"errcode":..,"errmsg":..}: 93000 for a wrong
// key, 40008 for an unknown msgtype, 40058 for a missing or too long
// content (Markdown at most 4096 bytes, text at most 2048), 44004 for an
// empty one and 45009 when rate limited.
type WeCom struct {
	*server
	key string

	mu   sync.Mutex
	msgs []WeComMessage
}

var _ Fake = (*WeCom)(nil)

// NewWeCom starts a robot with the webhook key.
func NewWeCom(key string) *WeCom {
	f := &WeCom{key: key}
	f.server = newServer(f.handle)
	return f
}

// URL is the robot's webhook, as WeCom shows it.
func (f *WeCom) URL() string { return f.BaseURL() + "/cgi-bin/webhook/send?key=" + f.key }

// Messages returns the messages accepted, oldest first.
func (f *WeCom) Messages() []WeComMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]WeComMessage(nil), f.msgs...)
}

// Count is how many messages the robot accepted.
func (f *WeCom) Count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.msgs) }

func (f *WeCom) handle(w http.ResponseWriter, r *http.Request) {
	answer := func(code int, msg string) {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": code, "errmsg": msg})
	}
	if r.URL.Path != "/cgi-bin/webhook/send" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost || r.URL.Query().Get("key") != f.key {
		answer(93000, "invalid webhook url, hint: [1700000000_1_abcdef], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=93000")
		return
	}
	if on, _ := f.limited(); on {
		answer(45009, "api freq out of limit, hint: [1700000000_1_abcdef]")
		return
	}
	body, err := readBody(r)
	var m WeComMessage
	if err == nil {
		err = json.Unmarshal(body, &m)
	}
	if err != nil {
		answer(40058, "invalid Request Parameter, hint: [1700000000_1_abcdef]")
		return
	}
	var content string
	limit := 0
	switch m.MsgType {
	case "markdown":
		content, limit = m.Markdown.Content, 4096
	case "text":
		content, limit = m.Text.Content, 2048
	default:
		answer(40008, "invalid message type, hint: [1700000000_1_abcdef]")
		return
	}
	switch {
	case content == "":
		answer(44004, "empty content, hint: [1700000000_1_abcdef]")
		return
	case len(content) > limit:
		answer(40058, m.MsgType+".content exceed max length "+strconv.Itoa(limit)+". invalid Request Parameter, hint: [1700000000_1_abcdef]")
		return
	}
	f.mu.Lock()
	f.msgs = append(f.msgs, m)
	f.mu.Unlock()
	answer(0, "ok")
}
