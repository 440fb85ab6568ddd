package wecom

import (
	"context"
	"strings"
	"testing"
	"time"
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
		TextZH: strings.Repeat("数据库连接池耗尽。", 400), Text: strings.Repeat("pool exhausted. ", 400),
		At: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), URL: "https://steward.example.com/console/incidents#i1"}
	if err := ch.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	ms := fake.Messages()
	if len(ms) != 1 || !strings.Contains(ms[0].Markdown.Content, `<font color="info">重要 Warning · 已恢复 Resolved</font>`) {
		t.Fatalf("messages = %+v", ms)
	}
	// The long texts are clipped, not the end: the time and the link to
	// the whole text arrive (they were cut off).
	got := ms[0].Markdown.Content
	if len(got) > MaxContent || !strings.Contains(got, "2026-11-23 10:00:00") ||
		!strings.Contains(got, "(https://steward.example.com/console/incidents#i1)") || !strings.Contains(got, "…") {
		t.Fatalf("content (%d bytes) lost its time or link:\n%s", len(got), got[max(0, len(got)-300):])
	}
}
