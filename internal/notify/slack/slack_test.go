package slack

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/steward-cs/steward/internal/notify"
)

func TestSectionEscapesMrkdwn(t *testing.T) {
	n := notify.Notice{Text: "p95 > 2s & <rising>", URL: "https://x.example/a?b=1&c=2"}
	got := section(n)
	if !strings.Contains(got, "p95 &gt; 2s &amp; &lt;rising&gt;") || !strings.Contains(got, "<https://x.example/a?b=1&amp;c=2|") {
		t.Fatalf("section = %q", got)
	}
}

func TestCut(t *testing.T) {
	s := notify.Clip(strings.Repeat("警", 200), maxHeader)
	if utf8.RuneCountInString(s) != maxHeader || !strings.HasSuffix(s, "…") {
		t.Fatalf("cut to %d runes: %q", utf8.RuneCountInString(s), s)
	}
}

// A long text is clipped so that the section keeps its link (a cut at 3,000
// characters dropped it, or left half of its markup).
func TestALongSectionKeepsItsLink(t *testing.T) {
	n := notify.Notice{TextZH: strings.Repeat("数据库连接池耗尽。", 400), Text: strings.Repeat("pool exhausted. ", 400),
		URL: "https://steward.example.com/console/incidents#i1"}
	got := notify.Clip(section(n), maxSection)
	if !strings.HasSuffix(got, "<https://steward.example.com/console/incidents#i1|查看详情 View details>") {
		t.Fatalf("section ends %q", got[max(0, len(got)-120):])
	}
}
