package guard

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"
)

// An order mentioned earlier, or not introducing the number, does not make
// a mobile or a card an order number: orders are what customers write
// about most, and these were stored in the clear. An order number
// introduced as one is still left alone.
func TestAnOrderWordMustIntroduceTheNumber(t *testing.T) {
	for _, tc := range []struct{ in, secret string }{
		{"我的订单怎么还没发货？回电13812345678", "13812345678"},
		{"订单还没到，我的号码是13812345678", "13812345678"},
		{"订单退款到6222021234567890128", "6222021234567890128"},
		{"my order refund to 4111 1111 1111 1111", "4111 1111 1111 1111"},
	} {
		if got := MaskString(tc.in); strings.Contains(got, tc.secret) {
			t.Errorf("Mask(%q) = %q: the personal number is in the clear", tc.in, got)
		}
	}
	for _, in := range []string{"订单号：13812345678", "订单号码是 13812345678", "order no. 13812345678", "快递单号 6222021234567890128"} {
		if got := MaskString(in); got != in {
			t.Errorf("Mask(%q) = %q: a number introduced as an order's was masked", in, got)
		}
	}
}

// A price, a decimal, a date or a unit beside a number no longer keeps the
// numbers grouped with it (by spaces) from being masked: only the chunk it
// touches is not personal data.
func TestAPriceBesideANumberDoesNotHideIt(t *testing.T) {
	for _, tc := range []struct{ in, secret string }{
		{"手机 13812345678 12.50元", "13812345678"},
		{"卡号 6222021234567890128 2.5", "6222021234567890128"},
		{"call 13812345678 3pm tomorrow", "13812345678"},
		{"手机 13812345678 2kg", "13812345678"},
		{"¥99 13812345678", "13812345678"},
		{"2024.11.22 13812345678", "13812345678"},
	} {
		if got := MaskString(tc.in); strings.Contains(got, tc.secret) {
			t.Errorf("Mask(%q) = %q: the personal number is in the clear", tc.in, got)
		}
	}
	for _, in := range []string{"version 1.13812345678", "价格 12.50 元", "1,234,567 元"} {
		if got := MaskString(in); got != in {
			t.Errorf("Mask(%q) = %q, want it unchanged", in, got)
		}
	}
}

// Numbers listed with commas (a full-width one too) are numbers, not one
// decimal: both were left in the clear.
func TestCommaSeparatedNumbersAreMasked(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"手机13812345678，13998765432", "手机138****5678，139****5432"},
		{"phones 13812345678,13998765432", "phones 138****5678,139****5432"},
		{"卡号6222021234567890128，手机13812345678", "卡号622202*********0128，手机138****5678"},
		{"卡号6222021234567890128，13812345678", "卡号622202*********0128，138****5678"},
	} {
		if got := MaskString(tc.in); got != tc.want {
			t.Errorf("Mask(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// memVault is a VaultStore in memory.
type memVault struct{ recs map[string]VaultRecord }

func (m *memVault) PutVault(_ context.Context, recs ...VaultRecord) error {
	for _, r := range recs {
		m.recs[r.Ref] = r
	}
	return nil
}
func (m *memVault) VaultRecord(_ context.Context, ref string) (*VaultRecord, error) {
	r, ok := m.recs[ref]
	if !ok {
		return nil, ErrErased
	}
	return &r, nil
}
func (m *memVault) VaultBatch(context.Context, string, string, int) ([]VaultRecord, error) {
	return nil, nil
}
func (m *memVault) ResealVault(context.Context, string, string, Sealed) error { return nil }
func (m *memVault) EraseVault(context.Context, time.Time) (int64, error)      { return 0, nil }
func (m *memVault) VaultKeyCounts(context.Context) (map[string]int64, error) {
	return nil, nil
}

// The offline form's contact is masked whole when it also holds a mobile
// number: handed to Keep, only the mobile was masked, and the WeChat id or
// the landline beside it was listed to every agent.
func TestAContactWithAMobileIsMaskedWhole(t *testing.T) {
	k := NewKey(time.Now())
	ring, err := NewKeyring([]Key{k}, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	v := NewVault(&memVault{recs: map[string]VaultRecord{}}, ring, time.Hour, nil)
	for _, tc := range []struct{ contact, secret, want string }{
		{"wechat: zhang_san88", "zhang_san88", ""},
		{"13812345678 wechat: zhang_san88", "zhang_san88", "138****5678 ******* ***********"},
		{"座机 021-62345678 或 13812345678", "021-62345678", "** ************ * 138****5678"},
	} {
		p, err := v.KeepWhole(context.Background(), "c1", "ticket:t1:contact", tc.contact, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(p.Text, tc.secret) || (tc.want != "" && p.Text != tc.want) || p.Sealed == nil {
			t.Errorf("KeepWhole(%q) = %q (sealed: %v), want %q with %q masked", tc.contact, p.Text, p.Sealed != nil, tc.want, tc.secret)
		}
	}
}

// Logging a typed nil (an error, a Stringer) prints <nil>, as slog does:
// the masking handler called its method and panicked, taking down the
// goroutine that logged.
func TestTheLogHandlerTakesANilStringer(t *testing.T) {
	var out bytes.Buffer
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("logging a nil *url.URL through LogHandler panicked: %v", r)
		}
	}()
	slog.New(LogHandler(slog.NewTextHandler(&out, nil))).Info("webhook", "url", (*url.URL)(nil), "err", error(nil),
		"phone", &url.URL{Path: "13812345678"})
	if s := out.String(); !strings.Contains(s, "url=<nil>") || strings.Contains(s, "13812345678") {
		t.Fatalf("logged %q; want url=<nil> and the phone masked", s)
	}
}

// A mobile written with its prefix in brackets, or typed with spaces into a
// QQ address, is masked whole: "+86 (138) 1234 5678" was found nowhere,
// and "138 1234 5678@qq.com" left seven of its eleven digits in the clear
// (the address began at 5678).
func TestABracketedOrAddressedMobileIsMaskedWhole(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"My number: +86 (138) 1234 5678", "My number: 138****5678"},
		{"电话 (138) 1234-5678 谢谢", "电话 138****5678 谢谢"},
		{"0086 (139) 8765 4321", "139****4321"},
		{"邮箱 138 1234 5678@qq.com", "邮箱 1***@qq.com"},
		{"mail 6222 0212 3456 7890 128@x.com", "mail 6***@x.com"},
	} {
		if got := MaskString(tc.in); got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Brackets around other numbers change nothing.
	for _, in := range []string{"(2024) 1234 5678", "共 (12) 件 1234 5678", "ticket (138) 1234 5678 9"} {
		if got := MaskString(in); got != in {
			t.Errorf("Mask(%q) = %q, want it unchanged", in, got)
		}
	}
}

// An original past retention is not revealed, whether or not the hourly
// sweep has erased it yet (or has been failing).
func TestRevealRefusesAnOriginalPastRetention(t *testing.T) {
	k := NewKey(time.Now())
	ring, err := NewKeyring([]Key{k}, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	store := &memVault{recs: map[string]VaultRecord{}}
	v := NewVault(store, ring, time.Hour, nil)
	ctx := context.Background()
	if _, err := v.Keep(ctx, "c1", "m-old", "call me at 13812345678", time.Now().Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Keep(ctx, "c1", "m-new", "call me at 13998765432", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := v.Reveal(ctx, "c1", "m-old"); !errors.Is(err, ErrErased) {
		t.Errorf("an original sealed 2 h ago under a 1 h retention: %v, want ErrErased", err)
	}
	if text, _, err := v.Reveal(ctx, "c1", "m-new"); err != nil || !strings.Contains(text, "13998765432") {
		t.Errorf("a fresh original: %q, %v", text, err)
	}
}
