package wecom

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/steward-cs/steward/internal/notify"
	"github.com/steward-cs/steward/internal/notify/notifytest"
)

func TestTruncateOnARuneBoundary(t *testing.T) {
	for _, s := range []string{strings.Repeat("告警", 3000), strings.Repeat("a", 5000), strings.Repeat("行\n", 2000)} {
		got := truncate(s, MaxContent)
		if len(got) > MaxContent || !utf8.ValidString(got) || !strings.HasSuffix(got, truncated) {
			t.Fatalf("len %d, valid %v, suffix %q", len(got), utf8.ValidString(got), got[len(got)-20:])
		}
	}
	if got := truncate("短", MaxContent); got != "短" {
		t.Fatalf("short content changed: %q", got)
	}
}

func TestSendsALongNoticeWithinTheLimit(t *testing.T) {
	fake := notifytest.NewWeCom("k1")
	defer fake.Close()
	ch, err := New(Config{URL: fake.URL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := notify.Notice{ID: "n", Level: notify.LevelWarning, Status: notify.StatusResolved, Title: "t",
		TextZH: strings.Repeat("数据库连接池耗尽。", 400), Text: strings.Repeat("pool exhausted. ", 400)}
	if err := ch.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	ms := fake.Messages()
	if len(ms) != 1 || !strings.Contains(ms[0].Markdown.Content, `<font color="info">重要 Warning · 已恢复 Resolved</font>`) {
		t.Fatalf("messages = %+v", ms)
	}
}
