package guard

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMask(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		// mobiles, in the ways people write them
		{"我的手机13812345678，谢谢", "我的手机138****5678，谢谢"},
		{"call me on +86 138-1234-5678 please", "call me on 138****5678 please"},
		{"电话 0086 13812345678", "电话 138****5678"},
		{"(+86) 138 1234 5678", "138****5678"},
		{"手机：１３８１２３４５６７８", "手机：138****5678"},
		{"两个号码 13812345678 13998765432", "两个号码 138****5678 139****5432"},
		// ID numbers: check digit, birth date, the 15-digit form, the X
		{"身份证号11010519491231002X", "身份证号**************002X"},
		{"ID 110105194912310021 ok", "ID 110105194912310021 ok"}, // wrong check digit
		{"身份证 110105491231002", "身份证 ***********1002"},
		{"证件号 440524198001010013", "证件号 **************0013"},
		// cards: Luhn, UnionPay 62 without Luhn, groups of four
		{"卡号 6222 0212 3456 7890 128", "卡号 622202*********0128"},
		{"card 4111 1111 1111 1111", "card 411111******1111"},
		{"my card is 4111111111111112", "my card is 4111111111111112"}, // Luhn fails, not UnionPay
		{"卡号6228480402564890018", "卡号622848*********0018"},
		// email
		{"邮箱 zhang.san+cs@example.com.cn。", "邮箱 z***@example.com.cn。"},
		{"write to a@b.co", "write to a***@b.co"},
		// "no." and "#" say nothing of what a number is: a phone no. is
		// personal, an order no. is not (they once made every labelled
		// number look like an order's)
		{"phone no. 13812345678", "phone no. 138****5678"},
		{"Mobile #: 13812345678", "Mobile #: 138****5678"},
		{"Bank card No. 6222 0212 3456 7890 128", "Bank card No. 622202*********0128"},
		{"ID no. 110105491231002", "ID no. ***********1002"},
		{"order no. 13812345678", "order no. 13812345678"},
		{"Order #13812345678", "Order #13812345678"},
		// what only looks similar stays
		{"订单号 13812345678 还没发货", "订单号 13812345678 还没发货"},
		{"tracking number 6222021234567890128", "tracking number 6222021234567890128"},
		{"运单SF1381234567890", "运单SF1381234567890"},
		{"TEL13812345678 或 ID11010519491231002X", "TEL138****5678 或 ID**************002X"},
		{"价格 ¥13812345678.00", "价格 ¥13812345678.00"},
		{"时间戳 1732252800000 和 20261122153000", "时间戳 1732252800000 和 20261122153000"},
		{"订单号 1234567890123456 金额 199.00", "订单号 1234567890123456 金额 199.00"},
		{"version 1.13812345678", "version 1.13812345678"},
		{"I prefer you call 13812345678", "I prefer you call 138****5678"},
		{"订单号2023112212345，手机13812345678", "订单号2023112212345，手机138****5678"},
		{"price 12345678901 yuan? no: 23456789012", "price 12345678901 yuan? no: 23456789012"},
	} {
		got, _ := Mask(tc.in)
		if got != tc.want {
			t.Errorf("Mask(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
		if again, _ := Mask(got); again != got {
			t.Errorf("Mask is not idempotent on %q: %q", got, again)
		}
	}
}

func TestFindSpansAreRuneOffsets(t *testing.T) {
	text := "您好，手机１３８１２３４５６７８，邮箱 a@b.cn"
	spans := Find(text)
	if len(spans) != 2 {
		t.Fatalf("Find = %v, want 2 spans", spans)
	}
	rs := []rune(text)
	if got := string(rs[spans[0].Start:spans[0].End]); got != "１３８１２３４５６７８" || spans[0].Kind != KindMobile {
		t.Errorf("first span %q %s", got, spans[0].Kind)
	}
	if got := string(rs[spans[1].Start:spans[1].End]); got != "a@b.cn" || spans[1].Kind != KindEmail {
		t.Errorf("second span %q %s", got, spans[1].Kind)
	}
}

func TestCheckDigits(t *testing.T) {
	if !validID18("11010519491231002X") || validID18("110105194912310021") {
		t.Error("GB 11643 check digit")
	}
	if validID18("110105194902300024") { // 30 February
		t.Error("birth date not checked")
	}
	if !luhn([]byte("4111111111111111")) || luhn([]byte("4111111111111112")) {
		t.Error("Luhn")
	}
}

func FuzzMask(f *testing.F) {
	for _, s := range []string{"手机13812345678", "+86 138-1234-5678", "11010519491231002X", "a@b.co",
		"6222 0212 3456 7890 128", "１３８１２３４５６７８", "订单号 13812345678", "@@..", "8613812345678x",
		// A spaced number running into an email address: the number's span
		// grew across the address's, and Mask panicked.
		"138 1234 5678@qq.com", "mail 6222 0212 3456 7890 128@x.com", "+86 (138) 1234 5678", "(138) 1 2@a.co"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		masked, spans := Mask(s)
		n := utf8.RuneCountInString(s)
		last := 0
		for _, sp := range spans {
			if sp.Start < last || sp.End <= sp.Start || sp.End > n {
				t.Fatalf("bad span %+v in %q (%d runes)", sp, s, n)
			}
			last = sp.End
		}
		if again, _ := Mask(masked); again != masked {
			t.Fatalf("not idempotent: %q → %q → %q", s, masked, again)
		}
		if len(spans) == 0 && masked != s {
			t.Fatalf("changed without spans: %q → %q", s, masked)
		}
		if strings.Count(masked, "\ufffd") > strings.Count(s, "\ufffd") && utf8.ValidString(s) {
			t.Fatalf("mask broke UTF-8: %q", masked)
		}
	})
}

// MaskExcept leaves the values it is told to keep, however they are
// written, and masks the rest.
func TestMaskExceptKeepsOnlyWhatItIsTold(t *testing.T) {
	keep := map[string]bool{}
	for _, v := range Values("write to Support@Shop.example or call +86 138-1234-5678") {
		keep[v] = true
	}
	got := MaskExcept("Call 13812345678 or write to support@shop.example; your number 13900001111 is on file.", keep)
	want := "Call 13812345678 or write to support@shop.example; your number 139****1111 is on file."
	if got != want {
		t.Fatalf("MaskExcept = %q\nwant            %q", got, want)
	}
}
