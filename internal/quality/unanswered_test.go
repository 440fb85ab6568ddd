package quality

import (
	"testing"
	"time"
)

func TestClusterQuestions(t *testing.T) {
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	ask := func(text, conv string, minutes int) Asked {
		return Asked{Text: text, Locale: "zh-CN", ConversationID: conv, At: at.Add(time.Duration(minutes) * time.Minute)}
	}
	got := ClusterQuestions([]Asked{
		ask("你们收不收二手手机壳", "c1", 0),
		ask("你们收不收二手手机壳？", "c2", 5),
		ask("你们收不收二手手机壳", "c2", 6),
		ask("请问你们收不收二手手机壳", "c3", 9),
		ask("Do you ship to Mars?", "c4", 1),
		ask("do you ship to mars", "c5", 2),
		ask("能开发票给个人吗", "c6", 3),
		ask("   ", "c7", 4),
	})
	if len(got) != 3 {
		t.Fatalf("%d clusters: %+v", len(got), got)
	}
	first := got[0]
	if first.Text != "你们收不收二手手机壳" || first.Count != 4 || first.Conversations != 3 ||
		len(first.Examples) != 1 || first.Examples[0] != "请问你们收不收二手手机壳" ||
		!first.FirstAt.Equal(at) || !first.LastAt.Equal(at.Add(9*time.Minute)) {
		t.Fatalf("first cluster %+v", first)
	}
	if got[1].Count != 2 || got[1].Conversations != 2 || got[2].Count != 1 {
		t.Fatalf("other clusters %+v", got[1:])
	}
}
