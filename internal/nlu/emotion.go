package nlu

import (
	"maps"
	"math"
	"slices"
	"strings"
	"unicode"
)

// Emotion lexicons: weights of words and phrases that signal a customer's
// anger or distress. A first version by hand; the NLU-quality work replaces
// the score with a trained model.
var (
	angerZH = map[string]float64{
		"投诉": 1.2, "垃圾": 1.4, "骗子": 1.6, "骗人": 1.4, "欺骗": 1.4, "气死": 1.6, "愤怒": 1.5, "生气": 1.0,
		"太差": 1.1, "坑人": 1.4, "滚": 1.2, "差评": 1.0, "无语": 0.7, "忍无可忍": 1.8, "恶心": 1.2, "退钱": 1.0,
		"12315": 1.6, "曝光": 1.3, "报警": 1.5, "起诉": 1.5, "律师": 1.2, "傻逼": 2.0, "sb": 1.6, "他妈": 1.8,
		"妈的": 1.6, "操你": 2.0, "tmd": 1.6, "什么玩意": 1.3, "破玩意": 1.4, "烂": 0.8, "太过分": 1.3, "过分": 0.9,
		"离谱": 1.0, "不要脸": 1.6, "黑心": 1.5, "强烈不满": 1.6, "非常不满": 1.4, "不满": 0.8, "失望": 0.7,
		"火大": 1.4, "崩溃": 1.0, "受够": 1.4, "耍我": 1.5, "糊弄": 1.2, "敷衍": 1.1, "磨磨唧唧": 0.8, "赶紧": 0.5,
		"到底": 0.5, "一直没人": 0.9, "没人管": 1.1, "骗": 0.9, "坑": 0.8, "怒": 1.0, "差劲": 1.1, "废物": 1.6,
	}
	angerEN = map[string]float64{
		"angry": 1.2, "furious": 1.6, "ridiculous": 1.2, "scam": 1.5, "scammer": 1.6, "terrible": 1.0, "worst": 1.2,
		"useless": 1.2, "unacceptable": 1.4, "pathetic": 1.4, "fraud": 1.5, "wtf": 1.5, "damn": 1.0, "sue": 1.4,
		"lawyer": 1.2, "disgusting": 1.4, "awful": 1.0, "horrible": 1.1, "hate": 1.1, "shit": 1.5,
		"fuck": 1.8, "fucking": 1.8, "bullshit": 1.7, "crap": 1.1, "rip": 0.6, "ripoff": 1.4, "liar": 1.4,
		"lied": 1.1, "cheat": 1.3, "cheated": 1.3, "stolen": 1.0, "complaint": 0.9, "complain": 0.8, "disappointed": 0.7,
		"fed up": 1.4, "sick of": 1.3, "joke": 0.4, "incompetent": 1.5, "outrageous": 1.4, "report you": 1.4,
		"never again": 1.0, "waste of time": 1.1, "rubbish": 1.2, "garbage": 1.3, "stupid": 1.2, "idiot": 1.6,
	}
	// angerZHWords is angerZH's words in order: the weights are added up
	// in one order every time, or the same message scored a last bit
	// differently from call to call (a map's order changes on each range).
	angerZHWords   = slices.Sorted(maps.Keys(angerZH))
	intensifiersZH = []string{"太", "非常", "特别", "真的", "简直", "极其", "超级"}
	intensifiersEN = map[string]bool{"so": true, "very": true, "really": true, "extremely": true, "absolutely": true, "totally": true}
)

// NegativeEmotion scores how angry or distressed a message reads, from 0
// (calm) to 1 (furious): lexicon hits, intensifiers, repeated exclamation
// marks and shouting in capitals add up and saturate.
func NegativeEmotion(t Text) float64 {
	text, norm := t.Raw, " "+t.Norm+" "
	score := 0.0
	for _, w := range angerZHWords {
		if containsWord(norm, w) {
			score += angerZH[w]
		}
	}
	words := strings.Fields(norm)
	intense := 0.0
	for i, w := range words {
		if v, ok := angerEN[w]; ok {
			score += v
		}
		if i+1 < len(words) {
			if v, ok := angerEN[w+" "+words[i+1]]; ok {
				score += v
			}
		}
		if intensifiersEN[w] {
			intense += 0.3
		}
	}
	for _, w := range intensifiersZH {
		if strings.Contains(norm, w) {
			intense += 0.3
		}
	}
	if score > 0 {
		score += min(intense, 0.9)
	}
	bangs := strings.Count(text, "!") + strings.Count(text, "！")
	if bangs >= 2 {
		score += min(float64(bangs)*0.25, 1.0)
	}
	if shouting(text) {
		score += 0.8
	}
	return 1 - math.Exp(-score*0.8)
}

// containsWord reports whether norm holds w. A Chinese word matches
// anywhere; a word of Latin letters or digits ("sb", "12315") only where
// no letter or digit adjoins it, so that "husband", "usb" and an order
// number holding 12315 are not abuse.
func containsWord(norm, w string) bool {
	if w == "" || !isASCIIWordByte(w[0]) {
		return strings.Contains(norm, w)
	}
	for i := 0; ; {
		j := strings.Index(norm[i:], w)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(w)
		if (j == 0 || !isASCIIWordByte(norm[j-1])) && (end == len(norm) || !isASCIIWordByte(norm[end])) {
			return true
		}
		i = j + 1
	}
}

func isASCIIWordByte(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// shouting reports a message of several words written mostly in capitals.
func shouting(text string) bool {
	upper, letters := 0, 0
	for _, r := range text {
		if r < unicode.MaxASCII && unicode.IsLetter(r) {
			letters++
			if unicode.IsUpper(r) {
				upper++
			}
		}
	}
	return letters >= 12 && upper*10 >= letters*8
}
