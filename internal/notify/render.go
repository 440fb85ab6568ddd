package notify

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// LevelName names a level in Chinese and English, e.g. "紧急 Critical";
// an unknown level is returned as it is.
func LevelName(level string) string {
	switch level {
	case LevelInfo:
		return "一般 Info"
	case LevelWarning:
		return "重要 Warning"
	case LevelCritical:
		return "紧急 Critical"
	}
	return level
}

// StatusName names a status in Chinese and English, e.g. "告警 Firing";
// an unknown status is returned as it is.
func StatusName(status string) string {
	switch status {
	case StatusFiring:
		return "告警 Firing"
	case StatusResolved:
		return "已恢复 Resolved"
	}
	return status
}

// DisplayTitle is the Chinese title, then the English one, joined by " / "
// when both are set and differ.
func (n Notice) DisplayTitle() string {
	zh, en := oneLine(n.TitleZH), oneLine(n.Title)
	switch {
	case zh == "" || zh == en:
		return en
	case en == "":
		return zh
	}
	return zh + " / " + en
}

// Headline is one line naming the level, the status and the title, for
// subjects, card headers and chat previews:
// "[紧急 Critical · 告警 Firing] 数据库连接池耗尽 / Database pool exhausted".
func Headline(n Notice) string {
	var tags []string
	if n.Level != "" {
		tags = append(tags, LevelName(n.Level))
	}
	if n.Status != "" {
		tags = append(tags, StatusName(n.Status))
	}
	if len(tags) == 0 {
		return n.DisplayTitle()
	}
	return "[" + strings.Join(tags, " · ") + "] " + n.DisplayTitle()
}

// Markdown renders n for chat apps that read Markdown (DingTalk, WeCom,
// Feishu): a heading with level and status, the titles in bold, the
// Chinese text, then the English, the labels, the time and the link.
// Paragraphs are separated by blank lines, which every one of them honours.
func Markdown(n Notice) string {
	return "### " + LevelName(n.Level) + " · " + StatusName(n.Status) + "\n\n" + MarkdownTitles(n) + MarkdownBody(n)
}

// MarkdownTitles is the Chinese title, then the English one, each in bold
// and followed by a blank line; "" when n has no title.
func MarkdownTitles(n Notice) string {
	var b strings.Builder
	if zh := oneLine(n.TitleZH); zh != "" && zh != oneLine(n.Title) {
		b.WriteString("**" + zh + "**\n\n")
	}
	if en := oneLine(n.Title); en != "" {
		b.WriteString("**" + en + "**\n\n")
	}
	return b.String()
}

// MarkdownBody is Markdown without the heading and titles, for providers
// that show those in a header of their own (Feishu's card).
func MarkdownBody(n Notice) string {
	var b strings.Builder
	for _, p := range bodyParagraphs(n, true) {
		b.WriteString(p.markdown() + "\n\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// PlainText renders n as plain text, for email and other text-only
// receivers.
func PlainText(n Notice) string {
	var b strings.Builder
	b.WriteString(LevelName(n.Level) + " · " + StatusName(n.Status) + "\n")
	if zh := oneLine(n.TitleZH); zh != "" && zh != oneLine(n.Title) {
		b.WriteString(zh + "\n")
	}
	if en := oneLine(n.Title); en != "" {
		b.WriteString(en + "\n")
	}
	b.WriteString("\n")
	for _, p := range bodyParagraphs(n, false) {
		b.WriteString(p.plain() + "\n\n")
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// Link returns n.URL when it is an absolute http(s) URL, else "": a
// notice never carries a javascript: or relative link to a chat app.
func Link(n Notice) string {
	u, err := url.Parse(n.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// SortedLabels returns n's labels as "key=value" in key order.
func SortedLabels(n Notice) []string {
	keys := slices.Sorted(maps.Keys(n.Labels))
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + oneLine(n.Labels[k])
	}
	return out
}

// paragraph is one part of a notice's body, rendered per format.
type paragraph struct {
	label string // "标签 Labels", or "" for free text
	text  string
	link  string
}

func (p paragraph) markdown() string {
	switch {
	case p.link != "":
		return "[" + p.text + "](" + p.link + ")"
	case p.label != "":
		return "**" + p.label + "**: " + p.text
	}
	return p.text
}

func (p paragraph) plain() string {
	switch {
	case p.link != "":
		return p.text + ": " + p.link
	case p.label != "":
		return p.label + ": " + p.text
	}
	return p.text
}

// Chat apps bound a message (WeCom 4,096 bytes of Markdown, a Slack
// section 3,000 characters, Feishu's card about 30 KB): a long text is
// clipped to these many characters, Chinese and English each, so that the
// labels, the time and the link after it always arrive. The link leads to
// the whole text.
const (
	MaxChatTextZH = 500
	MaxChatTextEN = 1000
)

// ChatTexts are n's Chinese and English texts, trimmed, clipped for a chat
// app (MaxChatTextZH, MaxChatTextEN), and the Chinese left out when it is
// the English.
func ChatTexts(n Notice) (zh, en string) {
	zh, en = strings.TrimSpace(n.TextZH), strings.TrimSpace(n.Text)
	if zh == en {
		zh = ""
	}
	return Clip(zh, MaxChatTextZH), Clip(en, MaxChatTextEN)
}

// Clip shortens s to at most max characters, marking the cut with "…".
func Clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return strings.TrimRight(string([]rune(s)[:max-1]), " \n") + "…"
}

func bodyParagraphs(n Notice, chat bool) []paragraph {
	var ps []paragraph
	zh, en := strings.TrimSpace(n.TextZH), strings.TrimSpace(n.Text)
	if chat {
		zh, en = ChatTexts(n)
	}
	if zh != "" && zh != en {
		ps = append(ps, paragraph{text: zh})
	}
	if en != "" {
		ps = append(ps, paragraph{text: en})
	}
	if labels := SortedLabels(n); len(labels) > 0 {
		ps = append(ps, paragraph{label: "标签 Labels", text: strings.Join(labels, ", ")})
	}
	if !n.At.IsZero() {
		ps = append(ps, paragraph{label: "时间 Time", text: FormatTime(n.At)})
	}
	if link := Link(n); link != "" {
		ps = append(ps, paragraph{text: "查看详情 View details", link: link})
	}
	return ps
}

// FormatTime is how a notice states a time: in UTC, said so. Alerts were
// stamped in UTC and incident updates in the server's zone, so one group
// chat mixed "UTC" and "CST" (China's or the US's?).
func FormatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// oneLine trims s and folds its line breaks into spaces, for titles and
// label values that must stay on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.TrimSpace(s)), " ")
}
