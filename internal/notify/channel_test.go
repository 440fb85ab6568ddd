package notify_test

import (
	"context"
	"errors"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/notify/dingtalk"
	"github.com/steward-cs/steward/internal/notify/email"
	"github.com/steward-cs/steward/internal/notify/feishu"
	"github.com/steward-cs/steward/internal/notify/notifytest"
	"github.com/steward-cs/steward/internal/notify/slack"
	"github.com/steward-cs/steward/internal/notify/webhook"
	"github.com/steward-cs/steward/internal/notify/wecom"
)

// The conformance suite: every notify.Channel runs the same scenarios
// against a loopback fake of its service (litestream's
// RunWithReplicaClient, STYLE.md rule 12).

// testNotice is the notice every scenario sends: firing, critical, in
// both languages, with labels and a link.
func testNotice() notify.Notice {
	return notify.Notice{
		ID: "ntc-20250501-0001", Level: notify.LevelCritical, Status: notify.StatusFiring,
		Title: "Database pool exhausted", TitleZH: "数据库连接池耗尽",
		Text: "All 20 connections have been busy for 5 minutes.", TextZH: "20 个连接已连续 5 分钟全部占用。",
		Labels: map[string]string{"env": "prod", "component": "store"},
		URL:    "https://steward.example.com/console/alerts/42",
		At:     time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC),
	}
}

// target is one channel under test, connected to a fresh fake.
type target struct {
	fake notifytest.Fake
	// channel is configured correctly.
	channel notify.Channel
	// wrongSecret signs with the wrong secret; nil when the service does
	// not sign requests.
	wrongSecret notify.Channel
	// badToken uses a token (or password) the service does not know.
	badToken notify.Channel
	// rejected returns a channel whose messages the service refuses for
	// what they ask (unknown channel, refused recipient, ...); nil when
	// the provider cannot send such a message.
	rejected func(t *testing.T) notify.Channel
	// secrets must never appear in an error.
	secrets []string
	// rateLimitPause is what a rate-limited send asks to wait; 0 when the
	// service has no way to ask (it is then a plain retryable error).
	rateLimitPause time.Duration
	// checkDelivered asserts what the fake decoded from sending n once.
	checkDelivered func(t *testing.T, n notify.Notice)
	// checkRedelivered asserts that two sends of n are recognisably one
	// notice; nil when the service has no notion of it.
	checkRedelivered func(t *testing.T, n notify.Notice)
}

// provider builds targets for one channel type.
type provider struct {
	name  string
	start func(t *testing.T) *target
	// invalid configurations: New must refuse them with an error
	// containing want (and none of the secrets in the settings).
	invalid []invalidConfig
}

type invalidConfig struct {
	name  string
	build func() error
	want  string
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

var providers = []provider{
	{
		name: "webhook",
		start: func(t *testing.T) *target {
			const secret, wrong = "whsec-0f9a8b7c6d5e4f3a", "whsec-not-the-secret"
			fake := notifytest.NewWebhook(secret)
			t.Cleanup(fake.Close)
			newCh := func(cfg webhook.Config) notify.Channel { return must[*webhook.Channel](t)(webhook.New(cfg, nil)) }
			headers := map[string]string{"X-Team": "ops"}
			return &target{
				fake:        fake,
				channel:     newCh(webhook.Config{URL: fake.URL(), Secret: secret, Headers: headers}),
				wrongSecret: newCh(webhook.Config{URL: fake.URL(), Secret: wrong}),
				badToken:    newCh(webhook.Config{URL: fake.BaseURL() + "/hooks/elsewhere?token=tok-webhook-77", Secret: secret}),
				rejected: func(t *testing.T) notify.Channel {
					fake.RequireHeader("Authorization", "Bearer tok-webhook-auth")
					return newCh(webhook.Config{URL: fake.URL(), Secret: secret})
				},
				secrets:        []string{secret, wrong, "tok-webhook-77", "tok-webhook-auth"},
				rateLimitPause: 7 * time.Second,
				checkDelivered: func(t *testing.T, n notify.Notice) {
					ds := fake.Deliveries()
					if len(ds) != 1 {
						t.Fatalf("deliveries = %d, want 1", len(ds))
					}
					d := ds[0]
					if !d.Signed || d.Delivery != n.ID || d.Header.Get("X-Steward-Event") != "alert" || d.Header.Get("X-Team") != "ops" {
						t.Fatalf("signed %v, delivery %q, headers %v", d.Signed, d.Delivery, d.Header)
					}
					got, want := d.Notice, n
					if !got.At.Equal(want.At) {
						t.Fatalf("at = %v, want %v", got.At, want.At)
					}
					got.At, want.At = time.Time{}, time.Time{}
					if got.ID != want.ID || got.Title != want.Title || got.TextZH != want.TextZH || got.Labels["env"] != "prod" ||
						got.URL != want.URL || got.Level != want.Level || got.Status != want.Status {
						t.Fatalf("notice = %+v\nwant %+v", got, want)
					}
				},
				checkRedelivered: func(t *testing.T, n notify.Notice) {
					if fake.Count() != 2 || fake.UniqueDeliveries() != 1 {
						t.Fatalf("count %d, unique deliveries %d; want 2 and 1", fake.Count(), fake.UniqueDeliveries())
					}
				},
			}
		},
		invalid: []invalidConfig{
			{"no url", func() error { _, err := webhook.New(webhook.Config{}, nil); return err }, "url is required"},
			{"bad scheme", func() error {
				_, err := webhook.New(webhook.Config{URL: "ftp://hooks.example.com/x?token=tok-in-url"}, nil)
				return err
			}, "url must be an https:// URL"},
			{"no host", func() error { _, err := webhook.New(webhook.Config{URL: "https:///x"}, nil); return err }, "url has no host"},
			{"reserved header", func() error {
				_, err := webhook.New(webhook.Config{URL: "https://h.example.com/x", Headers: map[string]string{"X-Steward-Signature": "x"}}, nil)
				return err
			}, "cannot be overridden"},
		},
	},
	{
		name: "dingtalk",
		start: func(t *testing.T) *target {
			const token, secret = "dt-token-3c5e7a9b1d", "SECdt0123456789abcdef"
			fake := notifytest.NewDingTalk(token, secret)
			t.Cleanup(fake.Close)
			newCh := func(cfg dingtalk.Config) notify.Channel { return must[*dingtalk.Channel](t)(dingtalk.New(cfg, nil)) }
			return &target{
				fake:           fake,
				channel:        newCh(dingtalk.Config{URL: fake.URL(), Secret: secret, AtMobiles: []string{"13800000000"}}),
				wrongSecret:    newCh(dingtalk.Config{URL: fake.URL(), Secret: "SECwrong-wrong-wrong"}),
				badToken:       newCh(dingtalk.Config{URL: strings.Replace(fake.URL(), token, "dt-stale-token-55", 1), Secret: secret}),
				secrets:        []string{token, secret, "SECwrong-wrong-wrong", "dt-stale-token-55"},
				rateLimitPause: dingtalk.RateLimitPause,
				checkDelivered: func(t *testing.T, n notify.Notice) {
					ms := fake.Messages()
					if len(ms) != 1 {
						t.Fatalf("messages = %d, want 1", len(ms))
					}
					m := ms[0]
					if m.MsgType != "markdown" || !m.Signed || !slices.Equal(m.At.AtMobiles, []string{"13800000000"}) || m.At.IsAtAll {
						t.Fatalf("message = %+v", m)
					}
					containsInOrder(t, "title", m.Markdown.Title, "紧急 Critical", "告警 Firing", n.TitleZH, n.Title)
					containsInOrder(t, "text", m.Markdown.Text, "紧急 Critical", n.TitleZH, n.Title, n.TextZH, n.Text,
						"component=store, env=prod", "("+n.URL+")", "@13800000000")
				},
			}
		},
		invalid: []invalidConfig{
			{"no url", func() error { _, err := dingtalk.New(dingtalk.Config{}, nil); return err }, "url is required"},
			{"no token", func() error {
				_, err := dingtalk.New(dingtalk.Config{URL: "https://oapi.dingtalk.com/robot/send"}, nil)
				return err
			}, "access_token"},
			{"bad secret", func() error {
				_, err := dingtalk.New(dingtalk.Config{URL: "https://oapi.dingtalk.com/robot/send?access_token=x", Secret: "plain-secret-1"}, nil)
				return err
			}, "secret must"},
			{"bad mobile", func() error {
				_, err := dingtalk.New(dingtalk.Config{URL: "https://oapi.dingtalk.com/robot/send?access_token=x", AtMobiles: []string{"ops"}}, nil)
				return err
			}, "at_mobiles[0]"},
		},
	},
	{
		name: "wecom",
		start: func(t *testing.T) *target {
			const key = "wc-key-693f0d2e-8b1a"
			fake := notifytest.NewWeCom(key)
			t.Cleanup(fake.Close)
			newCh := func(cfg wecom.Config) notify.Channel { return must[*wecom.Channel](t)(wecom.New(cfg, nil)) }
			return &target{
				fake:           fake,
				channel:        newCh(wecom.Config{URL: fake.URL(), MentionedMobiles: []string{"13800000000"}}),
				badToken:       newCh(wecom.Config{URL: strings.Replace(fake.URL(), key, "wc-removed-key-9", 1)}),
				secrets:        []string{key, "wc-removed-key-9"},
				rateLimitPause: wecom.RateLimitPause,
				checkDelivered: func(t *testing.T, n notify.Notice) {
					ms := fake.Messages()
					if len(ms) != 2 || ms[0].MsgType != "markdown" || ms[1].MsgType != "text" {
						t.Fatalf("messages = %+v, want a markdown message then a text mention", ms)
					}
					containsInOrder(t, "content", ms[0].Markdown.Content, `<font color="warning">紧急 Critical · 告警 Firing</font>`,
						n.TitleZH, n.Title, n.TextZH, n.Text, "component=store, env=prod", "("+n.URL+")")
					if !slices.Equal(ms[1].Text.MentionedMobileList, []string{"13800000000"}) || !strings.Contains(ms[1].Text.Content, n.TitleZH) {
						t.Fatalf("mention = %+v", ms[1].Text)
					}
				},
			}
		},
		invalid: []invalidConfig{
			{"no url", func() error { _, err := wecom.New(wecom.Config{}, nil); return err }, "url is required"},
			{"no key", func() error {
				_, err := wecom.New(wecom.Config{URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"}, nil)
				return err
			}, "key"},
			{"bad scheme", func() error {
				_, err := wecom.New(wecom.Config{URL: "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wc-key-in-url"}, nil)
				return err
			}, "https://"},
			{"bad mobile", func() error {
				_, err := wecom.New(wecom.Config{URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", MentionedMobiles: []string{"ops"}}, nil)
				return err
			}, "mentioned_mobiles[0]"},
		},
	},
	{
		name: "feishu",
		start: func(t *testing.T) *target {
			const token, secret = "fs-hook-0a1b2c3d-4e5f", "fs-secret-Qw8Er7Ty"
			fake := notifytest.NewFeishu(token, secret)
			t.Cleanup(fake.Close)
			newCh := func(cfg feishu.Config) notify.Channel { return must[*feishu.Channel](t)(feishu.New(cfg, nil)) }
			return &target{
				fake:        fake,
				channel:     newCh(feishu.Config{URL: fake.URL(), Secret: secret}),
				wrongSecret: newCh(feishu.Config{URL: fake.URL(), Secret: "fs-wrong-secret"}),
				badToken:    newCh(feishu.Config{URL: strings.Replace(fake.URL(), token, "fs-deleted-hook-1", 1), Secret: secret}),
				secrets:     []string{token, secret, "fs-wrong-secret", "fs-deleted-hook-1"},
				// Feishu sends no Retry-After: the default pause.
				rateLimitPause: 30 * time.Second,
				checkDelivered: func(t *testing.T, n notify.Notice) {
					ms := fake.Messages()
					if len(ms) != 1 {
						t.Fatalf("messages = %d, want 1", len(ms))
					}
					m := ms[0]
					if m.MsgType != "interactive" || !m.Signed || m.Card == nil || m.Card.Header.Template != "red" ||
						m.Card.Header.Title.Tag != "plain_text" || len(m.Card.Elements) != 1 || m.Card.Elements[0].Tag != "markdown" {
						t.Fatalf("message = %+v, card %+v", m, m.Card)
					}
					containsInOrder(t, "header", m.Card.Header.Title.Content, "紧急 Critical", "告警 Firing", n.TitleZH, n.Title)
					containsInOrder(t, "markdown", m.Card.Elements[0].Content, n.TextZH, n.Text, "component=store, env=prod", "("+n.URL+")")
				},
			}
		},
		invalid: []invalidConfig{
			{"no url", func() error { _, err := feishu.New(feishu.Config{}, nil); return err }, "url is required"},
			{"not a hook", func() error {
				_, err := feishu.New(feishu.Config{URL: "https://open.feishu.cn/open-apis/bot/v2/"}, nil)
				return err
			}, "url must be the bot's webhook"},
			{"bad scheme", func() error {
				_, err := feishu.New(feishu.Config{URL: "javascript:alert('fs-token-in-url')"}, nil)
				return err
			}, "https://"},
		},
	},
	{
		name: "slack",
		start: func(t *testing.T) *target {
			const token = "slk-Xy12Ab34Cd56Ef78"
			fake := notifytest.NewSlack(token)
			t.Cleanup(fake.Close)
			newCh := func(cfg slack.Config) notify.Channel { return must[*slack.Channel](t)(slack.New(cfg, nil)) }
			return &target{
				fake:     fake,
				channel:  newCh(slack.Config{URL: fake.URL(), Channel: "#ops", Username: "steward"}),
				badToken: newCh(slack.Config{URL: strings.Replace(fake.URL(), token, "slk-revoked-000", 1)}),
				rejected: func(t *testing.T) notify.Channel {
					return newCh(slack.Config{URL: fake.URL(), Channel: "#nowhere"})
				},
				secrets:        []string{token, "slk-revoked-000"},
				rateLimitPause: 7 * time.Second,
				checkDelivered: func(t *testing.T, n notify.Notice) {
					ms := fake.Messages()
					if len(ms) != 1 {
						t.Fatalf("messages = %d, want 1", len(ms))
					}
					m := ms[0]
					var types []string
					for _, b := range m.Blocks {
						types = append(types, b.Type)
					}
					if !slices.Equal(types, []string{"header", "section", "context"}) || m.Channel != "#ops" || m.Username != "steward" {
						t.Fatalf("message = %+v", m)
					}
					containsInOrder(t, "fallback", m.Text, "紧急 Critical", n.TitleZH, n.Title)
					containsInOrder(t, "header", m.Blocks[0].Text.Text, "紧急 Critical", "告警 Firing", n.TitleZH, n.Title)
					if m.Blocks[1].Text.Type != "mrkdwn" {
						t.Fatalf("section type %q", m.Blocks[1].Text.Type)
					}
					containsInOrder(t, "section", m.Blocks[1].Text.Text, n.TextZH, n.Text, "component=store, env=prod", "<"+n.URL+"|")
					containsInOrder(t, "context", m.Blocks[2].Elements[0].Text, "紧急 Critical", "告警 Firing", "2025-05-01 10:00:00")
				},
			}
		},
		invalid: []invalidConfig{
			{"no url", func() error { _, err := slack.New(slack.Config{}, nil); return err }, "url is required"},
			{"bad scheme", func() error {
				_, err := slack.New(slack.Config{URL: "hooks.slack.com/services/T/B/slk-token-in-url"}, nil)
				return err
			}, "https://"},
			{"bad channel", func() error {
				_, err := slack.New(slack.Config{URL: "https://hooks.slack.com/services/T/B/x", Channel: "#o p s"}, nil)
				return err
			}, "channel must"},
		},
	},
	{
		name: "email",
		start: func(t *testing.T) *target {
			const user, password = "alerts", "smtp-pw-Zq81Lm0"
			fake := notifytest.NewSMTP(user, password)
			t.Cleanup(fake.Close)
			cfg := email.Config{Host: fake.Host(), Port: fake.Port(), Username: user, Password: password,
				From: "Steward 告警 <alerts@steward.example.com>", To: []string{"oncall@example.com", "Ops <ops@example.com>"}}
			newCh := func(cfg email.Config) notify.Channel { return must[*email.Channel](t)(email.New(cfg)) }
			bad := cfg
			bad.Password = "smtp-pw-wrong-1"
			return &target{
				fake:     fake,
				channel:  newCh(cfg),
				badToken: newCh(bad),
				rejected: func(t *testing.T) notify.Channel {
					fake.SetReject(550)
					return newCh(cfg)
				},
				secrets: []string{password, "smtp-pw-wrong-1"},
				checkDelivered: func(t *testing.T, n notify.Notice) {
					ms := fake.Messages()
					if len(ms) != 1 {
						t.Fatalf("messages = %d, want 1", len(ms))
					}
					m := ms[0]
					if want := "[Steward] " + notify.Headline(n); m.Subject != want {
						t.Fatalf("subject = %q, want %q", m.Subject, want)
					}
					if !strings.HasPrefix(m.Header.Get("Subject"), "=?UTF-8?b?") {
						t.Fatalf("raw subject %q is not RFC 2047 encoded", m.Header.Get("Subject"))
					}
					if m.User != user || m.From != "alerts@steward.example.com" || !slices.Equal(m.To, []string{"oncall@example.com", "ops@example.com"}) {
						t.Fatalf("envelope: user %q from %q to %v", m.User, m.From, m.To)
					}
					from, err := mail.ParseAddress(m.Header.Get("From"))
					if err != nil || from.Name != "Steward 告警" {
						t.Fatalf("from header %q: %v %v", m.Header.Get("From"), from, err)
					}
					if m.Header.Get("Content-Type") != "text/plain; charset=UTF-8" || m.Header.Get("MIME-Version") != "1.0" ||
						!strings.Contains(m.Header.Get("Message-ID"), n.ID) {
						t.Fatalf("headers = %v", m.Header)
					}
					containsInOrder(t, "body", m.Body, "紧急 Critical", n.TitleZH, n.Title, n.TextZH, n.Text, "component=store, env=prod", n.URL)
				},
				checkRedelivered: func(t *testing.T, n notify.Notice) {
					ms := fake.Messages()
					if len(ms) != 2 || ms[0].Header.Get("Message-ID") != ms[1].Header.Get("Message-ID") {
						t.Fatalf("a retry must keep the Message-ID: %d messages", len(ms))
					}
				},
			}
		},
		invalid: []invalidConfig{
			{"no host", func() error {
				_, err := email.New(email.Config{From: "a@example.com", To: []string{"b@example.com"}})
				return err
			}, "host is required"},
			{"no to", func() error {
				_, err := email.New(email.Config{Host: "smtp.example.com", From: "a@example.com"})
				return err
			}, "to needs at least one address"},
			{"bad to", func() error {
				_, err := email.New(email.Config{Host: "smtp.example.com", From: "a@example.com", To: []string{"ops"}})
				return err
			}, "to[0]"},
			{"bad from", func() error {
				_, err := email.New(email.Config{Host: "smtp.example.com", From: "steward", To: []string{"b@example.com"}})
				return err
			}, "from is not an email address"},
			{"bad start_tls", func() error {
				_, err := email.New(email.Config{Host: "smtp.example.com", From: "a@example.com", To: []string{"b@example.com"}, StartTLS: "sometimes"})
				return err
			}, "start_tls"},
			{"password without username", func() error {
				_, err := email.New(email.Config{Host: "smtp.example.com", From: "a@example.com", To: []string{"b@example.com"}, Password: "pw-alone-7"})
				return err
			}, "username is empty"},
		},
	},
}

// runWithChannel runs one scenario against each provider's fresh target.
func runWithChannel(t *testing.T, name string, fn func(t *testing.T, tg *target)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		for _, p := range providers {
			t.Run(p.name, func(t *testing.T) {
				t.Parallel()
				fn(t, p.start(t))
			})
		}
	})
}

func TestChannel_Delivers(t *testing.T) {
	runWithChannel(t, "FiringCritical", func(t *testing.T, tg *target) {
		n := testNotice()
		if err := tg.channel.Send(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		tg.checkDelivered(t, n)
	})
	runWithChannel(t, "RedeliveryKeepsIdentity", func(t *testing.T, tg *target) {
		if tg.checkRedelivered == nil {
			t.Skip("the service cannot tell a retry from a new message")
		}
		n := testNotice()
		for range 2 {
			if err := tg.channel.Send(context.Background(), n); err != nil {
				t.Fatal(err)
			}
		}
		tg.checkRedelivered(t, n)
	})
	runWithChannel(t, "ResolvedMinimal", func(t *testing.T, tg *target) {
		n := notify.Notice{ID: "ntc-2", Level: notify.LevelInfo, Status: notify.StatusResolved, Title: "Queue back to normal"}
		if err := tg.channel.Send(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		if tg.fake.Count() == 0 {
			t.Fatal("nothing delivered")
		}
	})
}

func TestChannel_Signature(t *testing.T) {
	runWithChannel(t, "WrongSecretIsPermanent", func(t *testing.T, tg *target) {
		if tg.wrongSecret == nil {
			t.Skip("the service does not sign requests")
		}
		err := tg.wrongSecret.Send(context.Background(), testNotice())
		if !notify.IsPermanent(err) {
			t.Fatalf("err = %v, want permanent", err)
		}
		if tg.fake.Count() != 0 {
			t.Fatal("the fake accepted a badly signed message")
		}
		checkNoSecrets(t, err, tg.secrets)
	})
}

func TestChannel_Failures(t *testing.T) {
	runWithChannel(t, "ReceiverDownIsRetryable", func(t *testing.T, tg *target) {
		tg.fake.SetDown(true)
		err := tg.channel.Send(context.Background(), testNotice())
		if err == nil || notify.IsPermanent(err) {
			t.Fatalf("err = %v, want a retryable error", err)
		}
		checkNoSecrets(t, err, tg.secrets)
		tg.fake.SetDown(false)
		if err := tg.channel.Send(context.Background(), testNotice()); err != nil {
			t.Fatalf("after recovery: %v", err)
		}
	})
	runWithChannel(t, "RateLimitedAsksToWait", func(t *testing.T, tg *target) {
		tg.fake.SetRateLimited(true, "7")
		err := tg.channel.Send(context.Background(), testNotice())
		if err == nil || notify.IsPermanent(err) {
			t.Fatalf("err = %v, want a retryable error", err)
		}
		after, ok := notify.RetryAfter(err)
		if tg.rateLimitPause == 0 {
			if ok {
				t.Fatalf("pause %v asked for by a service that cannot ask", after)
			}
		} else if !ok || after != tg.rateLimitPause {
			t.Fatalf("err = %v: pause %v (%v), want %v", err, after, ok, tg.rateLimitPause)
		}
		checkNoSecrets(t, err, tg.secrets)
	})
	runWithChannel(t, "BadTokenIsPermanent", func(t *testing.T, tg *target) {
		err := tg.badToken.Send(context.Background(), testNotice())
		if !notify.IsPermanent(err) {
			t.Fatalf("err = %v, want permanent", err)
		}
		if tg.fake.Count() != 0 {
			t.Fatal("the fake accepted a message with a bad token")
		}
		checkNoSecrets(t, err, tg.secrets)
	})
	runWithChannel(t, "RejectedMessageIsPermanent", func(t *testing.T, tg *target) {
		if tg.rejected == nil {
			t.Skip("the channel cannot send a message its service refuses")
		}
		err := tg.rejected(t).Send(context.Background(), testNotice())
		if !notify.IsPermanent(err) {
			t.Fatalf("err = %v, want permanent", err)
		}
		checkNoSecrets(t, err, tg.secrets)
	})
}

func TestChannel_Context(t *testing.T) {
	runWithChannel(t, "TimeoutHonoured", func(t *testing.T, tg *target) {
		tg.fake.SetHang(true)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := tg.channel.Send(ctx, testNotice())
		if took := time.Since(start); took > 3*time.Second {
			t.Fatalf("Send took %v after a 200ms deadline", took)
		}
		if !errors.Is(err, context.DeadlineExceeded) || notify.IsPermanent(err) {
			t.Fatalf("err = %v, want a retryable deadline error", err)
		}
		checkNoSecrets(t, err, tg.secrets)
	})
	runWithChannel(t, "CancelHonoured", func(t *testing.T, tg *target) {
		tg.fake.SetHang(true)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		err := tg.channel.Send(ctx, testNotice())
		if !errors.Is(err, context.Canceled) || notify.IsPermanent(err) {
			t.Fatalf("err = %v, want a retryable cancellation", err)
		}
		checkNoSecrets(t, err, tg.secrets)
	})
	runWithChannel(t, "CancelledBeforeSend", func(t *testing.T, tg *target) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := tg.channel.Send(ctx, testNotice())
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if tg.fake.Count() != 0 {
			t.Fatal("delivered despite a cancelled context")
		}
	})
}

func TestChannel_ValidateRejects(t *testing.T) {
	for _, p := range providers {
		for _, c := range p.invalid {
			t.Run(p.name+"/"+c.name, func(t *testing.T) {
				err := c.build()
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("err = %v, want one containing %q", err, c.want)
				}
				checkNoSecrets(t, err, []string{"tok-in-url", "token-in-url", "key-in-url", "plain-secret-1", "pw-alone-7"})
			})
		}
	}
}

// containsInOrder fails unless s holds each part, each after the one
// before.
func containsInOrder(t *testing.T, what, s string, parts ...string) {
	t.Helper()
	rest := s
	for _, p := range parts {
		i := strings.Index(rest, p)
		if i < 0 {
			t.Fatalf("%s lacks %q (in this order):\n%s", what, p, s)
		}
		rest = rest[i+len(p):]
	}
}

func checkNoSecrets(t *testing.T, err error, secrets []string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error reveals a secret %q: %v", s, err)
		}
	}
}

// Every notice states its time in UTC, whatever zone stamped it: an
// incident's updates came in the server's zone ("CST") beside alerts in UTC.
func TestNoticeTimesAreUTC(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	n := notify.Notice{Title: "t", At: time.Date(2026, 11, 23, 18, 30, 0, 0, shanghai)}
	for name, text := range map[string]string{"markdown": notify.Markdown(n), "plain": notify.PlainText(n)} {
		if !strings.Contains(text, "2026-11-23 10:30:00 UTC") || strings.Contains(text, "CST") {
			t.Errorf("%s: %q", name, text)
		}
	}
}
