package knowledge_test

import (
	"testing"

	"github.com/steward-cs/steward/internal/knowledge"
)

func TestUngroundedContact(t *testing.T) {
	sources := []string{"退款会原路退回，详情见 https://help.shop.example.com/refund 或致电 400-800-1234。",
		"Call +86 138 0013 8000 for returns."}
	allowed := knowledge.Contacts{Domains: []string{"example.org"}, Phones: []string{"021-61234567"}}
	for _, tc := range []struct{ name, text, want string }{
		{"none", "Your refund goes back to the card you paid with.", ""},
		{"a source's link, another path", "See https://help.shop.example.com/refund/status.", ""},
		{"a source's number, written otherwise", "请致电4008001234或 13800138000。", ""},
		{"an allowed domain's subdomain", "See www.example.org/help and 021-61234567.", ""},
		{"an invented link", "See https://refund-status.example.net/claim.", "https://refund-status.example.net/claim."},
		{"an invented bare host in Chinese text", "请登录refund-help.com查看", "refund-help.com"},
		{"an invented hotline", "请致电 400-820-1234 查询", "400-820-1234"},
		{"an invented landline", "Call 010-88886666.", "010-88886666"},
	} {
		if got := knowledge.UngroundedContact(tc.text, sources, allowed); got != tc.want {
			t.Errorf("%s: %q → %q, want %q", tc.name, tc.text, got, tc.want)
		}
	}
}

func TestWrongLanguage(t *testing.T) {
	for _, tc := range []struct {
		text, locale string
		want         bool
	}{
		{"退款会在 3-5 个工作日内原路退回。", "zh-CN", false},
		{"请在 https://help.example.com/en/refund/status 查看退款进度。", "zh-CN", false},
		{"Your refund goes back to the card within 3 to 5 working days.", "zh-CN", true},
		{"Your parcel is addressed to 张伟 and arrives tomorrow morning.", "en", false},
		{"您的包裹明天送达。", "en", true},
	} {
		if got := knowledge.WrongLanguage(tc.text, tc.locale); got != tc.want {
			t.Errorf("%s %q: %v, want %v", tc.locale, tc.text, got, tc.want)
		}
	}
}
