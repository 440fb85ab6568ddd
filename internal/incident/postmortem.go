package incident

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/steward-cs/steward/internal/monitor"
)

// PostmortemSpan is how much history before and after an incident a
// postmortem compares with.
const PostmortemSpan = 15 * time.Minute

// Impact is the numbers of a postmortem, from the stored rollups. The
// spans are whole minutes: "during" runs from the minute the incident
// started through the minute it was resolved.
type Impact struct {
	Before, During, After monitor.Counts
	// Minutes is the per-minute history from Before to After, for the chart.
	Minutes []monitor.Rollup
	// ConversationsAffected had a customer message during the incident.
	ConversationsAffected int
	// Interruptions are the turns during the incident that did not get the
	// bot's normal service: failed, or diverted by the posture.
	Interruptions int
	// InterruptionRate is Interruptions over every turn during it.
	InterruptionRate float64
	// HandoffsCaused are the turns the posture sent to a person or the
	// offline form (diverted), and those handed on beyond the rate before
	// the incident (excessHandoffs).
	HandoffsCaused int
	// Spooled are the customer writes that waited in the local spool.
	Spooled int
}

// Measure computes an incident's impact from the rollups.
func (c *Controller) Measure(ctx context.Context, inc *Incident) (*Impact, error) {
	if c.opts.History == nil {
		return &Impact{}, nil
	}
	c.opts.History.Flush(ctx)
	start := inc.StartedAt.Truncate(time.Minute)
	end := inc.ResolvedAt
	if end.IsZero() {
		end = c.opts.Now()
	}
	end = end.Truncate(time.Minute).Add(time.Minute)
	rows, err := c.opts.History.History(ctx, start.Add(-PostmortemSpan), end.Add(PostmortemSpan))
	if err != nil {
		return nil, fmt.Errorf("read rollups: %w", err)
	}
	im := &Impact{Minutes: rows}
	for i := range rows {
		r := &rows[i]
		switch {
		case r.Minute.Before(start):
			im.Before.Add(&r.Counts)
		case r.Minute.Before(end):
			im.During.Add(&r.Counts)
		default:
			im.After.Add(&r.Counts)
		}
	}
	d := im.During.All
	im.Interruptions = d.Errors + d.Diverted
	if total := d.Turns + d.Diverted; total > 0 {
		im.InterruptionRate = float64(im.Interruptions) / float64(total)
	}
	// A diverted turn is a handoff when it went to a person or the
	// offline form; level 1's fallback flow only told the customer.
	im.HandoffsCaused = d.Diverted - d.DivertedNotice + excessHandoffs(im.Before.All, d)
	im.Spooled = im.During.Spooled
	if im.ConversationsAffected, err = c.opts.Store.ConversationsActive(ctx, start, end); err != nil {
		return nil, err
	}
	return im, nil
}

// excessHandoffs are the turns during an incident handed to a person or
// the offline form beyond the rate before it: customers ask for people
// every day, and those are not the incident's doing. A failed turn that
// was not handed on is an interruption, not a handoff.
func excessHandoffs(before, during monitor.Group) int {
	got := during.Handoff + during.Offline
	expected := 0.0
	if before.Turns > 0 {
		expected = float64(before.Handoff+before.Offline) / float64(before.Turns) * float64(during.Turns)
	}
	return max(0, got-int(math.Round(expected)))
}

// Postmortem writes the incident's postmortem in Markdown, with numbers
// from the rollups and the timeline, and a 5-Whys template and action
// items for people to fill in.
func (c *Controller) Postmortem(ctx context.Context, inc *Incident) (string, error) {
	im, err := c.Measure(ctx, inc)
	if err != nil {
		return "", err
	}
	events, err := c.opts.Store.Events(ctx, inc.ID)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Postmortem 复盘报告: %s\n\n", inc.Title)
	if inc.TitleZH != "" && inc.TitleZH != inc.Title {
		w("%s\n\n", inc.TitleZH)
	}
	w("Incident 事件 `%s` · severity 级别: %s %s · 发起人 opened by %s\n\n", inc.ID, monitor.LevelNames[inc.Severity], inc.Severity, openedBy(inc))
	w("## Timing 时间\n\n| | at 时间 (UTC) | after start 距开始 |\n|---|---|---|\n")
	row := func(name string, t time.Time) {
		if t.IsZero() {
			w("| %s | — | — |\n", name)
			return
		}
		w("| %s | %s | %s |\n", name, t.UTC().Format("2006-01-02 15:04:05"), seconds(t.Sub(inc.StartedAt)))
	}
	row("Customers first affected 开始影响", inc.StartedAt)
	row("Detected 发现", inc.DetectedAt)
	row("Mitigated 止损", inc.MitigatedAt)
	row("Resolved 恢复", inc.ResolvedAt)
	w("\n- Time to detect 发现耗时: %s\n", span(inc.StartedAt, inc.DetectedAt))
	w("- Time to mitigate 止损耗时: %s\n", span(inc.StartedAt, inc.MitigatedAt))
	w("- Time to resolve 恢复耗时: %s\n", span(inc.StartedAt, inc.ResolvedAt))
	w("- Highest posture level 最高降级级别: %d\n\n", inc.MaxLevel)

	d := im.During
	w("## Impact 影响\n\n")
	w("- Conversations affected 受影响会话: %d\n", im.ConversationsAffected)
	w("- Bot turns during the incident 期间消息: %d (%d answered by the bot as usual, %d diverted by the posture, %d failed)"+
		"（机器人照常回答 %d，被降级分流 %d，失败 %d）\n",
		d.All.Turns+d.All.Diverted, d.All.Answered, d.All.Diverted, d.All.Errors, d.All.Answered, d.All.Diverted, d.All.Errors)
	w("- Session interruption rate 会话中断率: %.1f%% (%d of %d turns)（%[3]d 条消息中 %[2]d 条）\n", im.InterruptionRate*100,
		im.Interruptions, d.All.Turns+d.All.Diverted)
	w("- Handoffs caused 引发转人工/留言: %d\n", im.HandoffsCaused)
	w("- Customer messages held in the local spool 暂存消息: %d\n\n", im.Spooled)

	w("## Before / during / after 前后对比\n\n")
	w("| | before 之前 (%s) | during 期间 | after 之后 (%s) |\n|---|---|---|---|\n", PostmortemSpan, PostmortemSpan)
	cmp := func(name string, f func(c *monitor.Counts) string) {
		w("| %s | %s | %s | %s |\n", name, f(&im.Before), f(&im.During), f(&im.After))
	}
	cmp("Bot turns 消息数", func(c *monitor.Counts) string { return fmt.Sprint(c.All.Turns + c.All.Diverted) })
	cmp("Answer rate 回答率", func(c *monitor.Counts) string { return percent(c.All.Answered, c.All.Turns) })
	// The answer rate leaves out the turns the posture diverted (to a person, a form, the
	// minimal release): it measures the bot where it answered as usual. What customers met is
	// the share of every turn the bot answered, which an outage drives down much further.
	cmp("Answered of all turns 回答占全部消息", func(c *monitor.Counts) string { return percent(c.All.Answered, c.All.Turns+c.All.Diverted) })
	cmp("Mean confidence 平均置信度", func(c *monitor.Counts) string {
		if c.All.ConfN == 0 {
			return "—"
		}
		return fmt.Sprintf("%.2f", c.All.MeanConfidence())
	})
	cmp("Fallbacks 未能回答", func(c *monitor.Counts) string { return fmt.Sprint(c.All.Fallback) })
	cmp("Handoffs 转人工", func(c *monitor.Counts) string { return fmt.Sprint(c.All.Handoff + c.All.Offline) })
	cmp("Failed turns 失败", func(c *monitor.Counts) string { return fmt.Sprint(c.All.Errors) })
	cmp("Ratings 评价 (mean ★)", func(c *monitor.Counts) string {
		if c.All.Ratings == 0 {
			return "0"
		}
		return fmt.Sprintf("%d (%.2f★)", c.All.Ratings, c.All.MeanStars())
	})
	cmp("Low ratings 低分", func(c *monitor.Counts) string { return fmt.Sprint(c.All.LowRating) })
	cmp("Wrong-answer flags 错误标记", func(c *monitor.Counts) string { return fmt.Sprint(c.All.Flags) })
	w("\nThe answer rate leaves out the turns the posture diverted; \"answered of all turns\" counts them. " +
		"回答率不含被降级分流的消息；“回答占全部消息”包含它们。\n")
	w("\n### Answered of all turns, by minute (UTC) 每分钟回答占全部消息（UTC 时间）\n\n")
	w("```\n")
	for _, r := range im.Minutes {
		mark := " "
		if !r.Minute.Before(inc.StartedAt.Truncate(time.Minute)) && (inc.ResolvedAt.IsZero() || !r.Minute.After(inc.ResolvedAt)) {
			mark = "*"
		}
		rate := 0.0
		if all := r.Counts.All.Turns + r.Counts.All.Diverted; all > 0 {
			rate = float64(r.Counts.All.Answered) / float64(all)
		}
		w("%s %s %-20s %5.1f%%  turns 消息 %d, ratings 评价 %d\n", mark, r.Minute.UTC().Format("15:04"), strings.Repeat("█", int(rate*20+0.5)),
			rate*100, r.Counts.All.Turns+r.Counts.All.Diverted, r.Counts.All.Ratings)
	}
	w("```\n(* = during the incident 事件期间)\n\n")

	w("## Timeline (UTC) 时间线（UTC 时间）\n\n")
	for _, e := range events {
		text := e.Text
		if e.TextZH != "" && e.TextZH != e.Text {
			text += " · " + e.TextZH
		}
		w("- %s `%s` %s\n", e.At.UTC().Format("15:04:05"), e.Kind, text)
	}
	w("\n## Five whys 五问\n\n")
	for i := 1; i <= 5; i++ {
		w("%d. Why? 为什么？\n   - \n", i)
	}
	w("\n## What went well / badly 做得好的 / 需改进的\n\n- \n\n")
	w("## Action items 改进项\n\n| action 改进项 | owner 负责人 | due 截止 | status 状态 |\n|---|---|---|---|\n| | | | open |\n")
	return b.String(), nil
}

// openedBy names who opened the incident: the name recorded then, Steward
// for the controller, and the user id only for a record from before names
// were kept.
func openedBy(inc *Incident) string {
	switch {
	case inc.OpenedByName != "":
		return inc.OpenedByName
	case inc.OpenedBy == steward.ID:
		return steward.Name
	}
	return inc.OpenedBy
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.0fs", d.Seconds()) }

func span(from, to time.Time) string {
	if to.IsZero() || from.IsZero() {
		return "—"
	}
	return seconds(to.Sub(from))
}

func percent(a, b int) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", float64(a)*100/float64(b))
}
