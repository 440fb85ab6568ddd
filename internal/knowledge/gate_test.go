package knowledge

import (
	"strings"
	"testing"
)

func answerEntry(id, zh, en string) Entry {
	e := Entry{ID: id, Category: "c", Title: id, Locales: map[string]Content{}}
	if zh != "" {
		e.Locales[LocaleZH] = Content{Questions: []string{"问题"}, Answer: zh}
	}
	if en != "" {
		e.Locales[LocaleEN] = Content{Questions: []string{"question"}, Answer: en}
	}
	return e
}

func TestContentChecks(t *testing.T) {
	opts := GateOptions{AllowedDomains: []string{"shop.example.com"}, AllowedPhones: []string{"400-800-1234"}}
	cases := []struct {
		name, zh, en string
		want         []string // checks, in order
	}{
		{"clean", "满¥99包邮，¥1,000以上送积分，1-3个工作日到账，订单号 202311211234567890 可在订单详情查看。",
			"Orders of ¥99 ship free; refunds take 1-3 business days. Order 202311211234567890 placed 2026-11-21 10:00.", nil},
		{"allowed link and phone", "详见 https://help.shop.example.com/returns 或致电 400-800-1234。",
			"See https://shop.example.com/returns or call 400 800 1234.", nil},
		{"phishing link", "请访问 http://refund-fast.top/login 退款。", "", []string{CheckLink}},
		{"bare domain", "", "Claim your prize at free-gifts.xyz now, it only takes a minute.", []string{CheckLink}},
		{"mobile number", "加客服微信 138 1234 5678 处理退款。", "", []string{CheckPhone}},
		{"mobile with country code", "", "Call +86 13812345678 for a refund today.", []string{CheckPhone}},
		{"landline", "请致电 021-61234567 咨询。", "", []string{CheckPhone}},
		{"wrong language zh", "Please contact us for a refund within seven days.", "", []string{CheckWrongLanguage}},
		{"wrong language en", "", "请在七天内联系我们办理退款手续。", []string{CheckWrongLanguage}},
		{"no words", "。。。", "", []string{CheckEmptyAnswer}},
		// Chinese runs on after a link without a space; the link ends there.
		{"allowed link before Chinese text", "请登录shop.example.com查看订单状态，或访问 https://shop.example.com！查看详情。", "", nil},
		// A number right after another, one separator between them.
		{"a mobile right after the allowed number", "请致电 400-800-1234或13812345678 处理退款。", "", []string{CheckPhone}},
		{"two mobiles with a slash", "加微信 13812345678/13987654321 处理。", "", []string{CheckPhone, CheckPhone}},
		{"a longer run of digits is no phone", "订单号 138123456789012 已发货。", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := checkContent([]Entry{answerEntry("e", tc.zh, tc.en)}, opts)
			var checks []string
			for _, p := range got {
				checks = append(checks, p.Check)
				if p.Message == "" || p.MessageZH == "" || p.Entry != "e" {
					t.Errorf("problem without messages or entry: %+v", p)
				}
			}
			if strings.Join(checks, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("checks %v, want %v (%+v)", checks, tc.want, got)
			}
		})
	}
	dup := checkContent([]Entry{answerEntry("a", "七天无理由退货。", ""), answerEntry("b", "七天无理由退货！", "")}, opts)
	if len(dup) != 1 || dup[0].Check != CheckDuplicate || dup[0].Entry != "b" || dup[0].Detail != "a" {
		t.Fatalf("duplicate answers: %+v", dup)
	}
}

func TestDemoPassesTheContentChecks(t *testing.T) {
	demo, err := DemoEntries()
	if err != nil {
		t.Fatal(err)
	}
	if problems := checkContent(demo, GateOptions{}); len(problems) != 0 {
		t.Fatalf("the demo knowledge base fails the gate's content checks: %+v", problems)
	}
}

func TestCrossValidation(t *testing.T) {
	entries := []Entry{
		{ID: "ship", Category: "c", Title: "shipping fee", Locales: map[string]Content{LocaleEN: {Answer: "x y",
			Questions: []string{"how much is shipping", "shipping cost", "delivery fee", "what does shipping cost"}}}},
		{ID: "refund", Category: "c", Title: "refund", Locales: map[string]Content{LocaleEN: {Answer: "x y",
			Questions: []string{"I want a refund", "refund my money", "how do refunds work", "money back please"}}}},
	}
	o := GateOptions{}
	o.defaults()
	o.Folds = 2
	acc, n, _, err := crossValidate(t.Context(), entries, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	if n != 8 || acc < 0.5 {
		t.Fatalf("accuracy %.2f on %d held-out questions", acc, n)
	}
	o.MaxHeldOut = 4
	if _, n, _, _ := crossValidate(t.Context(), entries, nil, o); n == 0 || n > 8 {
		t.Fatalf("sampled %d held-out questions", n)
	}
}
