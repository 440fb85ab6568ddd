package incident

import "testing"

// What the public status page says of a posture names no intent ids and no
// throttled sources, in both languages.
func TestPublicDescribe(t *testing.T) {
	for _, tc := range []struct {
		p      Posture
		en, zh string
	}{
		{Posture{Level: Level1, Intents: []string{"refund.status"}, Human: true}, "level 1: some questions handed to humans", "一级：部分问题转人工处理"},
		{Posture{Level: Level1, Categories: []string{"shipping"}, Intents: []string{"refund.status"}, Human: true}, "level 1: shipping handed to humans", "一级：「shipping」转人工处理"},
		{Posture{Throttle: map[string]float64{"acme-partner": 2}}, "traffic from some sources limited", "部分来源的流量受限"},
	} {
		if en, zh := tc.p.PublicDescribe(); en != tc.en || zh != tc.zh {
			t.Errorf("%+v: %q / %q, want %q / %q", tc.p, en, zh, tc.en, tc.zh)
		}
	}
}
