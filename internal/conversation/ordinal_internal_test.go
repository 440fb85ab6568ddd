package conversation

import "testing"

func TestOrdinal(t *testing.T) {
	for norm, want := range map[string]int{
		"2": 2, "第二个": 2, "第2个": 2, "第2": 2, "第三项": 3, "选2": 2, "选第一个": 1, "我选1": 1, "选择3": 3, "我要第二个": 2,
		"2号": 2, "二": 2, "第一个问题": 1, "option 2": 2, "number 3": 3, "no 1": 1, "the second one": 2, "second": 2,
		"the first": 1, "3rd": 3, "the 2nd one": 2, "choice 1": 1,
		// Not a choice: counts, and everything else.
		"2个": 0, "一个": 0, "我要2个": 0, "要一个": 0, "2条": 0, "20": 0, "两个": 0, "one": 0, "second hand": 0, "退款": 0, "": 0,
	} {
		got, ok := ordinal(norm)
		if !ok {
			got = 0
		}
		if got != want {
			t.Errorf("%q: %d, want %d", norm, got, want)
		}
	}
}
