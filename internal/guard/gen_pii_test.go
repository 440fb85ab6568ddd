package guard

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// The PII development set (testdata/pii_dev.jsonl) is synthetic: customer
// messages written from templates, with personal data in the forms people
// use and look-alike numbers (orders, tracking, timestamps, prices) that
// must stay. Regenerate with
//
//	go test ./internal/guard -run TestGeneratePIIDev -gen-pii
var genPII = flag.Bool("gen-pii", false, "rewrite testdata/pii_dev.jsonl")

type genSpan struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Type  string `json:"type"`
}

type genExample struct {
	Text  string    `json:"text"`
	Spans []genSpan `json:"spans"`
}

// A template's {m} {id} {card} {email} are personal data; {order} {track}
// {ts} {price} {date} {n11} are look-alikes.
var piiTemplates = []string{
	"你好，我的手机号是{m}，订单一直没到",
	"麻烦回电{m}，谢谢",
	"手机{m} 身份证{id}",
	"我换了号码，新号是{m}，旧的不用了",
	"联系方式：{m}（微信同号）",
	"收货人张三 {m} 北京市朝阳区建国路88号",
	"身份证号码{id}，帮我查一下实名信息",
	"实名认证失败，证件号{id}",
	"退款打到这张卡：{card}",
	"银行卡号 {card} 开户行招商银行",
	"我的邮箱是{email}，发票请发这里",
	"请把电子发票发到 {email}",
	"订单号{order}，手机{m}，还没发货",
	"快递单号{track}一直没有更新",
	"运单号 {track}，联系电话 {m}",
	"订单{order}付款{price}元，什么时候退款",
	"我在{date}下的单，订单编号{order}",
	"时间戳{ts}的那笔交易失败了",
	"优惠券码{n11}用不了",
	"会员卡积分还有12800分，订单号{order}",
	"Hi, my phone number is {m} and my order {order} is late",
	"Please call me back at {m}",
	"You can reach me on {m} or {email}",
	"Refund to my card {card} please",
	"My card number is {card}, expiry 09/28",
	"My email address is {email}",
	"Send the invoice to {email}, order number {order}",
	"Tracking number {track} has not moved since {date}",
	"I paid {price} for order {order} and got nothing",
	"My ID number is {id}, why is verification failing?",
	"The transaction at {ts} was charged twice",
	"order #{order} was delivered to the wrong address",
	"contact: {m}; backup contact {m}",
	"card {card} was charged twice, order {order}",
	"手机号{m}，邮箱{email}，身份证{id}，卡号{card}",
	"我的快递{track}到了但是少了东西",
	"客服电话400-820-8820打不通",
	"工单编号{n11}，请尽快处理",
	"麻烦帮我改一下地址，电话不变还是{m}",
	"验证码是{code}，为什么提示错误",
}

func genDigits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

func genMobile(r *rand.Rand) string {
	d := "1" + string(byte('3'+r.IntN(7))) + genDigits(r, 9)
	switch r.IntN(8) {
	case 0:
		return "+86 " + d
	case 1:
		return "0086" + d
	case 2:
		return d[:3] + "-" + d[3:7] + "-" + d[7:]
	case 3:
		return d[:3] + " " + d[3:7] + " " + d[7:]
	case 4:
		return fullWidth(d)
	case 5:
		return "+86-" + d[:3] + "-" + d[3:7] + "-" + d[7:]
	}
	return d
}

func fullWidth(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			c = c - '0' + '０'
		}
		b.WriteRune(c)
	}
	return b.String()
}

func genID(r *rand.Rand) string {
	provs := []string{"11", "31", "32", "44", "51", "62", "33", "42"}
	for {
		y := 1950 + r.IntN(60)
		m := 1 + r.IntN(12)
		d := 1 + r.IntN(28)
		if r.IntN(6) == 0 { // the 15-digit form
			return provs[r.IntN(len(provs))] + genDigits(r, 4) + fmt.Sprintf("%02d%02d%02d", y%100, m, d) + genDigits(r, 3)
		}
		body := provs[r.IntN(len(provs))] + genDigits(r, 4) + fmt.Sprintf("%04d%02d%02d", y, m, d) + genDigits(r, 3)
		w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
		sum := 0
		for i := 0; i < 17; i++ {
			sum += int(body[i]-'0') * w[i]
		}
		id := body + string("10X98765432"[sum%11])
		if r.IntN(5) == 0 {
			return fullWidth(id)
		}
		return id
	}
}

func genCard(r *rand.Rand) string {
	prefixes := []string{"6222", "6228", "6217", "6212", "4367", "4111", "5187", "6259"}
	n := 16 + r.IntN(4)
	if r.IntN(2) == 0 {
		n = 16
	}
	body := prefixes[r.IntN(len(prefixes))] + genDigits(r, n-5)
	// Luhn check digit
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		v := int(body[i] - '0')
		if (len(body)-i)%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	d := body + string(byte('0'+(10-sum%10)%10))
	if r.IntN(3) == 0 {
		var b strings.Builder
		for i := 0; i < len(d); i += 4 {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(d[i:min(i+4, len(d))])
		}
		return b.String()
	}
	return d
}

func genEmail(r *rand.Rand) string {
	users := []string{"zhangsan", "li.si", "wang_wu88", "chen+shop", "a", "support.team", "Xiao.Ming2019"}
	domains := []string{"qq.com", "163.com", "example.com", "mail.example.com.cn", "gmail.com", "foxmail.com"}
	return users[r.IntN(len(users))] + "@" + domains[r.IntN(len(domains))]
}

func TestGeneratePIIDev(t *testing.T) {
	if !*genPII {
		t.Skip("run with -gen-pii to rewrite testdata/pii_dev.jsonl")
	}
	r := rand.New(rand.NewPCG(7, 11))
	var out strings.Builder
	for i := 0; i < 1200; i++ {
		tpl := piiTemplates[r.IntN(len(piiTemplates))]
		var text strings.Builder
		var spans []genSpan
		for tpl != "" {
			open := strings.IndexByte(tpl, '{')
			if open < 0 {
				text.WriteString(tpl)
				break
			}
			text.WriteString(tpl[:open])
			end := strings.IndexByte(tpl, '}')
			name := tpl[open+1 : end]
			tpl = tpl[end+1:]
			var v, typ string
			switch name {
			case "m":
				v, typ = genMobile(r), "cn_mobile"
			case "id":
				v, typ = genID(r), "cn_id"
			case "card":
				v, typ = genCard(r), "bank_card"
			case "email":
				v, typ = genEmail(r), "email"
			case "order":
				v = genDigits(r, 1) + genDigits(r, 11+r.IntN(8))
				if v[0] == '0' {
					v = "2" + v[1:]
				}
			case "track":
				v = []string{"SF", "YT", "JD", "ZTO", ""}[r.IntN(5)] + "7" + genDigits(r, 12)
			case "ts":
				v = []string{"17" + genDigits(r, 8), "17" + genDigits(r, 11), "2026" + genDigits(r, 10)}[r.IntN(3)]
			case "price":
				v = fmt.Sprintf("%d.%02d", 10+r.IntN(20000), r.IntN(100))
			case "date":
				v = fmt.Sprintf("2026-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28))
			case "n11":
				v = genDigits(r, 11)
			case "code":
				v = genDigits(r, 6)
			}
			start := utf8.RuneCountInString(text.String())
			text.WriteString(v)
			if typ != "" {
				spans = append(spans, genSpan{Start: start, End: start + utf8.RuneCountInString(v), Type: typ})
			}
		}
		if spans == nil {
			spans = []genSpan{}
		}
		line, _ := json.Marshal(genExample{Text: text.String(), Spans: spans})
		out.Write(line)
		out.WriteByte('\n')
	}
	if err := os.WriteFile("testdata/pii_dev.jsonl", []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
