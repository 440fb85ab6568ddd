package conversation

import (
	"testing"

	"github.com/steward-cs/steward/internal/llm"
)

// drawsOn files a generated answer under the source it uses: not the
// longest source (which holds the most common words), and not another
// source on the strength of a word or two every answer has.
func TestDrawsOn(t *testing.T) {
	shipping := llm.Source{Title: "Shipping times", Answer: "Orders ship within 48 hours of payment. Standard delivery " +
		"takes 3 to 5 days in mainland China and you will get a tracking number by text message as soon as the " +
		"parcel leaves our warehouse; remote areas can take a few days more, and you can check the status of your " +
		"order at any time in the app under My orders."}
	refunds := llm.Source{Title: "Refund to card", Answer: "Refunds go back to the card you paid with within 30 days."}
	coupons := llm.Source{Title: "Coupons", Answer: "Coupons are applied at checkout and cannot be combined."}
	for _, tc := range []struct {
		name    string
		answer  string
		sources []llm.Source
		want    int
	}{
		{"the short source it repeats, not the long one", "Sure! You can get your money back: send the items back " +
			"within 30 days and the refund goes to the card you paid with.", []llm.Source{shipping, refunds, coupons}, 1},
		{"the first guess when it is used", "Your order ships within 48 hours and you will get a tracking number.",
			[]llm.Source{shipping, refunds, coupons}, 0},
		{"the first guess when nothing clearly wins", "Sure, happy to help with that.", []llm.Source{shipping, refunds, coupons}, 0},
		{"Chinese", "您好，退款会在7个工作日内原路退回到您的银行卡。", []llm.Source{
			{Title: "发货时间", Answer: "付款后48小时内发货，默认顺丰快递。"},
			{Title: "退款到账时间", Answer: "退款审核通过后，7个工作日内原路退回银行卡。"},
		}, 1},
		{"one source", "anything", []llm.Source{refunds}, 0},
	} {
		if got := drawsOn(tc.answer, tc.sources); got != tc.want {
			t.Errorf("%s: source %d, want %d", tc.name, got, tc.want)
		}
	}
}
