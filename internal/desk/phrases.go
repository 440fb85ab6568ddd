package desk

import "fmt"

// phrase keys: the desk's lines in the transcript, in both locales.
const (
	phraseJoined      = "joined"
	phraseTransferred = "transferred"
	phraseClosed      = "closed"
	phraseRate        = "rate"
	phraseTicket      = "ticket"
	phraseRequeued    = "requeued"
	// For an agent without a name: customers never see the email address
	// that stands in for it in the console.
	phraseJoinedNameless      = "joined-nameless"
	phraseTransferredNameless = "transferred-nameless"
)

var phrases = map[string]map[string]string{
	phraseJoined: {
		"zh-CN": "人工客服 %s 已接入，将为您服务。",
		"en":    "%s has joined and will help you from here.",
	},
	phraseTransferred: {
		"zh-CN": "会话已转接给客服 %s，之前的记录对方都能看到。",
		"en":    "You've been transferred to %s, who can see everything so far.",
	},
	phraseJoinedNameless: {
		"zh-CN": "人工客服已接入，将为您服务。",
		"en":    "An agent has joined and will help you from here.",
	},
	phraseTransferredNameless: {
		"zh-CN": "会话已转接给其他客服，之前的记录对方都能看到。",
		"en":    "You've been transferred to another agent, who can see everything so far.",
	},
	phraseClosed: {
		"zh-CN": "客服已结束本次会话。如还有其他问题，欢迎随时再次咨询。",
		"en":    "The agent has closed this conversation. If you need anything else, just start a new one.",
	},
	phraseRate: {
		"zh-CN": "客服已结束本次会话。请为本次服务打分，您的反馈会帮助我们做得更好。",
		"en":    "The agent has closed this conversation. Please rate how we did — your feedback helps us improve.",
	},
	phraseRequeued: {
		"zh-CN": "刚才为您服务的客服暂时离开了，正在为您转接其他客服，请稍候。之前的记录都会保留。",
		"en":    "The agent who was helping you had to leave. We're connecting you with another agent; everything so far is kept.",
	},
	phraseTicket: {
		"zh-CN": "您的留言已收到，客服会尽快与您联系。",
		"en":    "Thanks, we've received your message; an agent will get back to you as soon as possible.",
	},
}

// phrase returns the text of key in locale, falling back to zh-CN.
func phrase(key, locale string) string {
	if s, ok := phrases[key][locale]; ok {
		return s
	}
	return phrases[key]["zh-CN"]
}

// summaryCounts is the handoff summary's clause on how much was said: how
// many messages the customer sent and how the bot fared, in words rather
// than "message(s)", leaving out what did not happen.
func summaryCounts(lang string, messages, answers, fallbacks int) string {
	if lang == "en" {
		noun := "messages"
		if messages == 1 {
			noun = "message"
		}
		var bot string
		switch {
		case answers > 0 && fallbacks > 0:
			bot = "The bot answered " + times(answers) + " and did not understand " + times(fallbacks) + "."
		case answers > 0:
			bot = "The bot answered " + times(answers) + "."
		case fallbacks > 0:
			bot = "The bot did not understand " + times(fallbacks) + "."
		default:
			bot = "The bot did not answer."
		}
		return fmt.Sprintf(" in %d %s. %s", messages, noun, bot)
	}
	var bot string
	switch {
	case answers > 0 && fallbacks > 0:
		bot = fmt.Sprintf("机器人回答了 %d 次，%d 次未能理解。", answers, fallbacks)
	case answers > 0:
		bot = fmt.Sprintf("机器人回答了 %d 次。", answers)
	case fallbacks > 0:
		bot = fmt.Sprintf("机器人 %d 次未能理解。", fallbacks)
	default:
		bot = "机器人未作回答。"
	}
	return fmt.Sprintf("，共 %d 条消息；%s", messages, bot)
}

// times says how often in English: once, twice, 3 times.
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}
