package llm

import "testing"

func TestRefuses(t *testing.T) {
	for text, want := range map[string]bool{
		"I'm sorry, but I don't have information about that. Please contact customer support.": true,
		"I’m sorry, I can’t answer that question.":                                             true,
		"抱歉，我没有相关信息。请联系人工客服。":                                                                  true,
		"很抱歉，我无法回答这个问题":                                                                        true,
		"Sorry for the wait. Your refund goes back to the card within 3 to 5 working days.":    false,
		"Sorry, I don't have your order details, but refunds take 3 to 5 working days.":        false,
		"抱歉，我没有关于您订单的信息，但退款一般3到5个工作日到账。":                                                       false,
		"如果您不知道订单号，可以在“我的订单”中查看。":                                                              false,
		"Refunds take 3 to 5 days. I don't have information about your bank's own processing.": false,
	} {
		if got := refuses(text); got != want {
			t.Errorf("%q: %v, want %v", text, got, want)
		}
	}
}
