package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/config"
	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/notify/dingtalk"
	"github.com/steward-cs/steward/internal/notify/email"
	"github.com/steward-cs/steward/internal/notify/feishu"
	"github.com/steward-cs/steward/internal/notify/notifytest"
	"github.com/steward-cs/steward/internal/notify/slack"
	"github.com/steward-cs/steward/internal/notify/webhook"
	"github.com/steward-cs/steward/internal/notify/wecom"
)

// loadChannels reads the channels from a YAML config file, as serve does.
func loadChannels(t *testing.T, yaml string) []config.Channel {
	t.Helper()
	path := filepath.Join(t.TempDir(), "steward.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Notify.Channels
}

func TestBuildChannelsMakesEveryType(t *testing.T) {
	fake := notifytest.NewWebhook("whsec-1")
	defer fake.Close()
	chans := loadChannels(t, `
notify:
  channels:
    - name: hook
      type: webhook
      min_level: info
      url: `+fake.URL()+`
      secret: whsec-1
      headers: {X-Team: ops}
    - name: ding
      type: dingtalk
      url: https://oapi.dingtalk.com/robot/send?access_token=abc
      secret: SEC123
      at_mobiles: ["13800000000"]
      at_all: true
    - name: wx
      type: wecom
      url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k
      mentioned_mobiles: ["@all"]
    - name: lark
      type: feishu
      url: https://open.feishu.cn/open-apis/bot/v2/hook/0a1b
      secret: s
    - name: sl
      type: slack
      url: https://hooks.slack.com/services/T0/B0/x
      channel: "#ops"
      username: steward
    - name: mail
      type: email
      host: smtp.example.com
      port: 465
      username: alerts
      password: pw
      from: Steward <alerts@example.com>
      to: [oncall@example.com]
      start_tls: always
      subject_prefix: "[Prod]"
    - name: minimal
      type: webhook
      url: https://hooks.example.com/x
`)
	got, err := buildChannels(chans, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]func(notify.Channel) bool{
		"hook":    func(c notify.Channel) bool { _, ok := c.(*webhook.Channel); return ok },
		"ding":    func(c notify.Channel) bool { _, ok := c.(*dingtalk.Channel); return ok },
		"wx":      func(c notify.Channel) bool { _, ok := c.(*wecom.Channel); return ok },
		"lark":    func(c notify.Channel) bool { _, ok := c.(*feishu.Channel); return ok },
		"sl":      func(c notify.Channel) bool { _, ok := c.(*slack.Channel); return ok },
		"mail":    func(c notify.Channel) bool { _, ok := c.(*email.Channel); return ok },
		"minimal": func(c notify.Channel) bool { _, ok := c.(*webhook.Channel); return ok },
	}
	if len(got) != len(want) {
		t.Fatalf("got %d channels, want %d", len(got), len(want))
	}
	for name, isType := range want {
		if !isType(got[name]) {
			t.Errorf("channel %q is %T", name, got[name])
		}
	}
	if subject := got["mail"].(*email.Channel).Subject(notify.Notice{Title: "t"}); !strings.HasPrefix(subject, "[Prod] ") {
		t.Errorf("subject_prefix not decoded: %q", subject)
	}

	// The decoded secret and headers are the ones the receiver checks.
	n := notify.Notice{ID: "n1", Level: notify.LevelWarning, Status: notify.StatusFiring, Title: "t"}
	if err := got["hook"].Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	ds := fake.Deliveries()
	if len(ds) != 1 || !ds[0].Signed || ds[0].Header.Get("X-Team") != "ops" {
		t.Fatalf("deliveries = %+v", ds)
	}
}

func TestBuildChannelsRejects(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
		want       string
		hidden     string
	}{
		{"unknown type", "{name: ops, type: sms, url: https://x.example}",
			`notify channel "ops": unknown type "sms" (want one of dingtalk, email, feishu, slack, webhook, wecom)`, ""},
		{"unknown field", "{name: ops, type: webhook, url: https://x.example, secert: abc}",
			`notify channel "ops": field secert not found in type webhook.Config`, ""},
		{"missing url", "{name: ops, type: dingtalk}", `notify channel "ops": url is required`, ""},
		{"bad scheme", "{name: ops, type: feishu, url: 'ftp://open.feishu.cn/open-apis/bot/v2/hook/tok-99'}",
			`notify channel "ops": url must be an https:// URL`, "tok-99"},
		{"missing to", "{name: mail, type: email, host: smtp.example.com, from: a@example.com}",
			`notify channel "mail": to needs at least one address`, ""},
		{"wrong type of value", "{name: ops, type: email, host: smtp.example.com, port: hunter2, from: a@example.com, to: [b@example.com]}",
			`notify channel "ops": port: cannot unmarshal text into int`, "hunter2"},
		{"duplicate name", "{name: ops, type: slack, url: https://hooks.slack.com/services/T/B/x}\n    - {name: ops, type: slack, url: https://hooks.slack.com/services/T/B/y}",
			`notify channel "ops": the name is used twice`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			chans := loadChannels(t, "notify:\n  channels:\n    - "+c.yaml+"\n")
			got, err := buildChannels(chans, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
			if c.hidden != "" && strings.Contains(err.Error(), c.hidden) {
				t.Fatalf("err reveals %q: %v", c.hidden, err)
			}
			if got != nil {
				t.Fatalf("channels = %v alongside an error", got)
			}
		})
	}
}

func TestBuildChannelsEmpty(t *testing.T) {
	got, err := buildChannels(nil, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v", got, err)
	}
}
