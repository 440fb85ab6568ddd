package knowledge

import "testing"

// allowed_phones written in the international form (how a number is often
// written down: "+86 ...") is compared digit for digit with the number the
// answer gives in the national form, and the gate refuses an answer that
// gives the very number on the allow-list: the country code is taken off
// the answer's number, never off the allow-list's.
func TestAnAllowedPhoneInInternationalFormIsAllowed(t *testing.T) {
	cases := []struct{ allowed, answer string }{
		{"+86 138 0013 8000", "如需帮助，请致电客服 138 0013 8000。"},
		{"+86 400-820-8820", "如需帮助，请致电客服热线 400-820-8820。"},
		{"0086 13800138000", "如需帮助，请致电客服 13800138000。"},
	}
	for _, tc := range cases {
		got := checkContent([]Entry{answerEntry("e", tc.answer, "")}, GateOptions{AllowedPhones: []string{tc.allowed}})
		for _, p := range got {
			if p.Check == CheckPhone {
				t.Errorf("allowed_phones [%q]: %q refused: %s", tc.allowed, tc.answer, p.Message)
			}
		}
	}
}

// The language check counts the letters of a link, and of a Chinese name
// or address, as the answer's language: a Chinese answer that gives an
// allowed help page, or an English one that gives the shop's Chinese return
// address, is refused as "not written in Chinese" / "not written in
// English", and so is every release that holds it.
func TestTheLanguageCheckReadsTheAnswerNotItsLinksOrAddresses(t *testing.T) {
	opts := GateOptions{AllowedDomains: []string{"shop.example.com"}}
	cases := []struct{ zh, en string }{
		{"退货政策请见 https://shop.example.com/help/returns-and-refunds-policy", ""},
		{"", "Please send the parcel to 上海市浦东新区张江路88号 and write your order number on it."},
	}
	for _, tc := range cases {
		for _, p := range checkContent([]Entry{answerEntry("e", tc.zh, tc.en)}, opts) {
			t.Errorf("%q%q refused: %s", tc.zh, tc.en, p.Message)
		}
	}
}
