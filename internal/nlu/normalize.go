// Package nlu understands customer messages: normalisation, language
// detection, Chinese and English features, an intent model with calibrated
// confidence and out-of-scope detection, and a negative-emotion score. It is
// pure: no I/O, no network, deterministic for a given seed.
package nlu

import (
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// tradToSimp maps common traditional characters to simplified ones: the
// characters customers of a shop actually type, not a full conversion table.
var tradToSimp = func() map[rune]rune {
	const pairs = "訂订單单貨货運运費费錢钱帳账賬账號号碼码發发優优問问題题麼么時时間间謝谢嗎吗請请會会還还沒没來来過过這这個个為为們们說说説说買买賣卖換换遞递郵邮電电話话機机戶户錄录開开關关實实際际國国點点幾几裡里裏里誰谁對对與与從从動动態态狀状處处務务聯联繫系係系給给讓让認认識识證证驗验條条專专業业頁页車车東东貴贵價价錯错誤误壞坏損损傷伤憤愤氣气應应該该須须讀读寫写聽听見见覺觉歡欢樂乐難难隨随邊边遠远進进選选擇择額额頭头員员線线網网紅红綠绿藍蓝黃黄長长門门閱阅後后飛飞馬马魚鱼鳥鸟麵面雙双錶表鐘钟鍵键盤盘節节約约紀纪級级終终結结統统經经續续總总積积稅税種种稱称現现環环產产當当盡尽監监歷历歸归漢汉無无熱热確确禮礼離离簽签範范簡简練练縮缩績绩繳缴繼继罰罚聲声職职腦脑舊旧華华葉叶萬万蘭兰補补裝装複复規规視视親亲覽览觀观計计訊讯記记設设許许評评詢询試试詳详語语誠诚調调論论諾诺護护讚赞質质購购贈赠趕赶軟软較较載载輔辅輸输轉转辦办遲迟適适醫医釋释鎖锁閉闭陸陆陽阳隊队險险雜杂電电靈灵順顺預预領领顏颜願愿類类顯显風风飯饭館馆體体鬧闹齊齐龍龙儲储億亿備备傳传債债兩两冊册劃划勞劳勝胜區区協协參参團团圍围園园圖图執执報报場场塊块壓压學学寶宝將将導导層层屬属帶带幣币幫帮廣广廠厂張张強强彈弹匯汇復复徵征惡恶愛爱慣惯慮虑憑凭戲戏戰战掃扫掛挂搶抢擔担據据擴扩數数斷断於于書书極极構构標标樣样檢检櫃柜權权歲岁準准減减溫温滿满漲涨濟济燈灯營营爭争獎奖畫画異异療疗筆笔紙纸組组細细絡络維维緊紧編编緩缓習习聞闻興兴舉举虛虚衛卫製制訂订訴诉詞词誌志課课變变貝贝負负財财責责貼贴資资賠赔賺赚蹤踪軍军輕轻農农達达違违遺遗鋪铺鏈链鐵铁闆板隱隐雖虽雲云靜静響响頂顶項项頻频餘余鬆松齡龄庫库寄寄"
	rs := []rune(pairs)
	m := make(map[rune]rune, len(rs)/2)
	for i := 0; i+1 < len(rs); i += 2 {
		m[rs[i]] = rs[i+1]
	}
	return m
}()

// Normalize folds a message into the form the model sees: full-width to
// half-width, lower case, common traditional characters to simplified,
// punctuation and symbols to spaces, runs of space collapsed.
func Normalize(s string) string {
	s = width.Fold.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := true
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if t, ok := tradToSimp[r]; ok {
				r = t
			}
			b.WriteRune(unicode.ToLower(r))
			space = false
		case r == '\'' || r == '’':
			// "don't" → "dont", "it's" → "its": keep the word whole.
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// Fold is Normalize without its word breaking: full-width to half-width,
// lower case, common traditional characters to simplified, punctuation and
// spacing kept. Searches compare folded text, so that "vip" finds "ＶＩＰ"
// and "订单" finds "訂單".
func Fold(s string) string {
	s = width.Fold.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if t, ok := tradToSimp[r]; ok {
			r = t
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Text is a message prepared once for every model that reads it.
type Text struct {
	Raw  string // as the customer wrote it: emotion reads its "!!!" and capitals
	Norm string // Normalize(Raw)
	Lang Lang   // DetectLanguage(Raw)
}

// Prepare normalises a message and detects its language.
func Prepare(raw string) Text {
	return Text{Raw: raw, Norm: Normalize(raw), Lang: DetectLanguage(raw)}
}

// Lang is the language of a message.
type Lang string

// The languages DetectLanguage tells apart.
const (
	LangUnknown Lang = ""
	LangZH      Lang = "zh"
	LangEN      Lang = "en"
	LangMixed   Lang = "mixed"
)

// DetectLanguage tells Chinese from English by counting Han characters
// against Latin letters (a Chinese character carries about as much as a short
// English word, so each counts for three letters).
func DetectLanguage(s string) Lang {
	han, latin := 0, 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			han++
		case r < unicode.MaxASCII && unicode.IsLetter(r), r >= 0xFF21 && r <= 0xFF3A, r >= 0xFF41 && r <= 0xFF5A:
			// Full-width letters, not the punctuation between their two
			// cases (［＼］＾＿｀), which Chinese input methods type.
			latin++
		}
	}
	hanW := 3 * han
	switch {
	case han == 0 && latin == 0:
		return LangUnknown
	case han == 0:
		return LangEN
	case latin == 0:
		return LangZH
	case hanW >= 4*latin:
		return LangZH
	case latin >= 4*hanW:
		return LangEN
	default:
		return LangMixed
	}
}

// isHan reports whether r is a CJK ideograph.
func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }
