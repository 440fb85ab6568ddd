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
	s := cut(strings.Repeat("警", 200), maxHeader)
	if utf8.RuneCountInString(s) != maxHeader || !strings.HasSuffix(s, "…") {
		t.Fatalf("cut to %d runes: %q", utf8.RuneCountInString(s), s)
	}
}
