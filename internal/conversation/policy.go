package conversation

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/steward-cs/steward/internal/nlu"
)

// Policy holds the thresholds of the bot's decisions.
type Policy struct {
	// AnswerConfidence is the confidence below which the bot does not answer.
	AnswerConfidence float64
	// ClarifyBelow: a best candidate under this confidence, with a runner-up
	// close to it, is offered as a choice rather than answered.
	ClarifyBelow float64
	// ClarifyRatio: the runner-up is close when its confidence is at least
	// this fraction of the best one's.
	ClarifyRatio float64
	// AngerThreshold is the negative-emotion score that hands off at once.
	AngerThreshold float64
	// MaxUnresolved is how many consecutive unresolved turns hand off.
	MaxUnresolved int
}

// DefaultPolicy returns the thresholds used unless configured otherwise.
func DefaultPolicy() Policy {
	return Policy{AnswerConfidence: 0.3, ClarifyBelow: 0.45, ClarifyRatio: 0.6, AngerThreshold: 0.8, MaxUnresolved: 2}
}

// humanPhrases are the ways customers ask for a person. A message that
// contains one of the long forms, or consists of a short one, is a request.
var (
	humanContains = []string{
		// "真人" and "real person" alone are not here: "你是真人吗" and "are
		// you a real person?" ask what the bot is, and its answer says how
		// to reach a person. Nor is "客服人员" alone ("客服人员几点上班").
		"转人工", "人工客服", "人工服务", "找人工", "要人工", "接人工", "叫人工", "人工坐席", "人工 客服",
		"真人客服", "真人服务", "找真人", "要真人", "转真人", "接真人", "让真人", "跟真人", "和真人", "有没有真人",
		"转客服", "找客服", "联系客服", "接客服", "客服在吗", "客服在不在", "找客服人员", "要客服人员",
		"有没有人工", "联系人工", "要求人工", "connect me to a human", "chat with a human", "get me an agent",
		"talk to a real human", "speak to a real human", "connect me to a person",
		"talk to a human", "speak to a human", "talk with a human", "speak with a human", "need a human", "get me a human",
		"want a human", "talk to a person", "speak to a person", "talk with a person", "speak with a person",
		"talk to a real person", "speak to a real person", "speak with a real person", "want a real person",
		"need a real person", "human agent", "live agent", "live person", "customer service agent", "talk to an agent",
		"speak to an agent", "speak with an agent", "talk with an agent", "talk to someone", "speak to someone",
		"representative", "connect me to an agent", "transfer to agent", "transfer me to an agent",
		"transfer me to a human", "transfer me to a person", "human please", "human pls", "agent please", "agent pls",
		"human being", "talk to customer service", "speak to customer service", "contact customer service",
	}
	humanExact = map[string]bool{
		"人工": true, "人工人工": true, "人工呢": true, "客服": true, "human": true, "agent": true, "operator": true, "a human": true,
		"an agent": true, "person": true, "staff": true, "i want a human": true, "i want an agent": true,
	}
)

// wantsHuman reports whether a message asks for a human. A phrase that
// declines one ("不用转人工", "I don't want to talk to a human, just tell
// me the fee") is no request: it used to hand the customer to the desk
// they had just said they did not want.
func wantsHuman(t nlu.Text) bool {
	if humanExact[t.Norm] {
		return true
	}
	contains := func(p string) bool { return strings.Contains(t.Norm, p) }
	phrased := slices.ContainsFunc(humanContains, contains)
	if !phrased && !slices.ContainsFunc(humanExactList, contains) {
		return false // most messages: nothing more to look at
	}
	// Clause by clause, since normalising drops the punctuation that
	// ends a negation's reach: "不用了，转人工" asks, "不用转人工" does not;
	// and "算了，人工" asks as "人工" alone does.
	for _, clause := range strings.FieldsFunc(t.Raw, clauseBreak) {
		norm := nlu.Normalize(clause)
		if humanExact[norm] {
			return true
		}
		if !phrased {
			continue
		}
		for _, m := range humanMatches(norm) {
			// "不要人工客服": the phrase "要人工" begins inside the
			// negation "不要".
			if !declines(norm[:m.start]) && !declines(norm[:m.start+m.first]) && !(m.nouns && (asksHours(norm) || asksWhat(norm))) {
				return true
			}
		}
	}
	return false
}

// humanMatch is a run of a clause covered by phrases of humanContains that
// overlap or touch: "转人工客服" is "转人工" and "人工客服", one request, and
// one decline before it ("不用转人工客服") declines all of it. Judged
// phrase by phrase, "人工客服" had "不用转" before it, no decline, and the
// customer who said no was handed over.
type humanMatch struct {
	start, end int
	first      int  // the byte length of the run's first character
	nouns      bool // every phrase of the run only names the people (humanNouns)
}

// humanMatches returns the runs of norm covered by humanContains, in order.
func humanMatches(norm string) []humanMatch {
	var ms []humanMatch
	for _, p := range humanContains {
		for off := 0; ; {
			i := strings.Index(norm[off:], p)
			if i < 0 {
				break
			}
			i += off
			_, first := utf8.DecodeRuneInString(p)
			ms = append(ms, humanMatch{start: i, end: i + len(p), first: first, nouns: humanNouns[p]})
			off = i + len(p)
		}
	}
	slices.SortFunc(ms, func(a, b humanMatch) int { return cmp.Or(a.start-b.start, b.end-a.end) })
	var out []humanMatch
	for _, m := range ms {
		if n := len(out); n > 0 && m.start <= out[n-1].end+1 { // overlapping, or apart by a space at most
			last := &out[n-1]
			last.end = max(last.end, m.end)
			last.nouns = last.nouns && m.nouns
			continue
		}
		out = append(out, m)
	}
	return out
}

// humanExactList is humanExact's phrases, for a quick look whether a
// message holds one of them at all.
var humanExactList = slices.Collect(maps.Keys(humanExact))

func clauseBreak(r rune) bool { return strings.ContainsRune(",，.。!！?？;；、:：\n…~～", r) }

var (
	// zhDecline end the text before a phrase that declines a person:
	// right before it, or with a few filler characters between
	// ("不用帮我转人工"). Not 不 alone: "为什么不转人工" asks.
	zhDecline = []string{"不用", "不要", "不需要", "不必", "无需", "甭", "没必要", "用不着", "别", "勿", "不想"}
	zhFiller  = "帮我给再去你替把们了"
	// enDecline are the words that decline what follows them, past a few
	// fillers ("I don't want to talk to a human", "no need for an agent").
	enDecline = map[string]bool{"dont": true, "not": true, "never": true, "without": true, "doesnt": true, "wont": true}
	enFiller  = map[string]bool{"want": true, "need": true, "wanna": true, "to": true, "for": true, "a": true, "an": true,
		"the": true, "me": true, "you": true, "i": true, "really": true, "have": true, "any": true, "ever": true, "be": true,
		"put": true, "through": true, "transferred": true, "connected": true}
)

// humanNouns are the phrases of humanContains that name the people without
// asking for them: "人工客服几点上班" asks when they work (the knowledge base
// answers, with how to reach them), "转人工" asks for them whatever follows.
var humanNouns = map[string]bool{
	"人工客服": true, "人工服务": true, "人工坐席": true, "真人客服": true, "真人服务": true, "人工 客服": true,
	"human agent": true, "live agent": true, "live person": true, "customer service agent": true, "representative": true,
	"human being": true,
}

// hoursCues ask when the people work. Not "hours" or "when" alone: "I've
// been waiting 2 hours for a live agent" and "when is a live agent going to
// answer" ask for one.
var hoursCues = []string{
	"几点上班", "几点下班", "几点开始", "几点结束", "上班时间", "下班时间", "工作时间", "服务时间", "营业时间", "什么时候上班",
	"什么时候下班", "几点到几点", "your hours", "opening hours", "working hours", "business hours", "office hours",
	"service hours", "agent hours", "what time do", "what time does", "what time are", "start work",
}

// whatCues ask what the bot is: "你是人工客服吗", "are you a human being?",
// "is this a live person or a bot?" are questions its small talk answers
// (with how to reach a person), not requests. Not "can I", "let me".
var whatCues = []string{"你是", "您是", "你们是", "are you", "am i talking to", "am i chatting with", "is this a", "is this"}

// asksWhat reports whether a normalised clause asks what the bot is.
func asksWhat(norm string) bool {
	return slices.ContainsFunc(whatCues, func(c string) bool { return strings.HasPrefix(norm, c) })
}

// asksHours reports whether a normalised clause asks about working hours.
func asksHours(norm string) bool {
	return slices.ContainsFunc(hoursCues, func(c string) bool { return strings.Contains(norm, c) })
}

// declines reports whether the normalised text before a phrase asking for
// a person turns it down.
func declines(before string) bool {
	before = strings.TrimRight(before, " ")
	if before == "" {
		return false
	}
	stripped, fillers := before, 0
	for fillers < 2 {
		r, size := utf8.DecodeLastRuneInString(stripped)
		if !strings.ContainsRune(zhFiller, r) {
			break
		}
		stripped, fillers = stripped[:len(stripped)-size], fillers+1
	}
	for _, cue := range zhDecline {
		// 不想 and 别 only right before the phrase: "我不想等了转人工"
		// and "别让我等了转人工" ask.
		if strings.HasSuffix(before, cue) || cue != "不想" && cue != "别" && strings.HasSuffix(stripped, cue) {
			return true
		}
	}
	// Past fillers however many ("I don't want to be transferred to a
	// human agent": seven words back), within reason.
	words := strings.Fields(before)
	for i := len(words) - 1; i >= 0 && i >= len(words)-10; i-- {
		w := words[i]
		switch {
		case enDecline[w]:
			return true
		case w == "no" && i+1 < len(words) && words[i+1] == "need":
			return true
		case !enFiller[w]:
			return false
		}
	}
	return false
}

// clarifyCandidates returns the entry candidates worth offering, or nil if
// the prediction is clear enough to answer.
func (p Policy) clarifyCandidates(pred nlu.Prediction) []nlu.Candidate {
	if len(pred.Candidates) < 2 || pred.Confidence >= p.ClarifyBelow {
		return nil
	}
	var out []nlu.Candidate
	for _, c := range pred.Candidates {
		if strings.HasPrefix(c.Label, "builtin.") {
			continue
		}
		if c.Confidence >= pred.Confidence*p.ClarifyRatio {
			out = append(out, c)
		}
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// WantsHuman reports whether a customer's message asks for a person.
func WantsHuman(text string) bool { return wantsHuman(nlu.Prepare(text)) }

// englishEnough reports whether a message with no Chinese in it is English
// enough to switch a Chinese conversation to English: while the bot serves
// it, two words of letters or one of four letters or more ("refund",
// "hello"); once it is with the desk (queued or with an agent), where the
// locale decides which agents may take it, a sentence of three words, two of
// them of two letters or more ("thanks a lot"), so
// that a product ("MacBook Air") or a romanised address ("Chaoyang Road
// 88") sends nobody to look for an English-speaking agent. A tracking
// number ("SF1234567890"), "ok" or a model ("K3") never switches it: a
// Chinese customer who types one would get English answers.
func englishEnough(raw string, withBot bool) bool {
	words, all, longest := 0, 0, 0
	for _, w := range strings.FieldsFunc(raw, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '@' || r == '.' || r == '\'')
	}) {
		w = strings.Trim(w, ".'")
		letters := 0
		for _, r := range w {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '\'' {
				letters++
			}
		}
		if letters == 0 || letters != len(w) { // digits, an address, a code
			continue
		}
		all++ // "a", "I" count towards a sentence
		if letters < 2 {
			continue
		}
		words++
		longest = max(longest, letters)
	}
	if !withBot {
		return words >= 2 && all >= 3
	}
	return words >= 2 || longest >= 4
}

// chineseEnough reports whether a mostly Chinese message (nlu.LangZH) is
// Chinese enough to switch an English conversation to Chinese: while the
// bot serves it, any such message; once it is with the desk, where the
// locale decides which agents may take it, a sentence, as englishEnough
// asks of English: five Chinese characters or more, one of them a word
// that sentences have and names and addresses do not (我, 的, 了, 吗…). An
// English-speaking customer who pastes their Chinese address
// ("上海市浦东新区世纪大道100号") or name ("张伟") for the agent was moved
// to the Chinese-speaking agents.
func chineseEnough(raw string, withBot bool) bool {
	if withBot {
		return true
	}
	han, sentence := 0, false
	for _, r := range raw {
		if unicode.Is(unicode.Han, r) {
			han++
			sentence = sentence || strings.ContainsRune(sentenceHan, r)
		}
	}
	return han >= 5 && sentence
}

// sentenceHan are characters common in Chinese sentences and rare in
// names and addresses: pronouns, particles, negations, modal verbs and
// question words.
const sentenceHan = "我你您他她它的了吗呢吧啊呀是不没要想能会可请怎么什哪谁为还就在有给帮"

// acknowledgements are the replies, normalised (nlu.Normalize), that only
// take note of what the bot said: "好的", "ok", "got it". The intent model
// took them for questions it did not know and the bot said it had not
// understood, counting them towards the handoff for being unresolved. A
// small exact list rather than a new intent: the model and its
// evaluations stay as they are. Thanks and goodbyes ("好的谢谢", "ok bye")
// are the small-talk intents' and are not here.
var acknowledgements = map[string]bool{
	"好的": true, "好": true, "好滴": true, "好哒": true, "好嘞": true, "好吧": true, "好的呢": true, "嗯": true, "嗯嗯": true,
	"嗯呢": true, "哦": true, "哦哦": true, "噢": true, "可以": true, "可以了": true, "行": true, "行吧": true, "对": true,
	"对的": true, "是的": true, "是": true, "明白": true, "明白了": true, "知道了": true, "了解": true, "了解了": true,
	"懂了": true, "收到": true,
	"ok": true, "okay": true, "k": true, "kk": true, "yes": true, "yeah": true, "yep": true, "sure": true,
	"got it": true, "i see": true, "alright": true, "all right": true, "cool": true, "fine": true,
	"understood": true, "noted": true, "ok cool": true, "great": true,
}

// symbolsOnly reports whether s holds symbols and nothing else ("👍",
// "🙏🙏"): an acknowledgement, like "ok". It was out of scope and counted
// towards the handoff for being unresolved. Not punctuation: "?" alone is
// a customer still stuck.
func symbolsOnly(s string) bool {
	seen := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || r == 0x200d || r == 0xfe0f: // spaces, emoji joiners and presentation selectors
		case unicode.IsSymbol(r):
			seen = true
		default:
			return false
		}
	}
	return seen
}
