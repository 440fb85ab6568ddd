package conversation

// phrase keys: every line the bot says that does not come from the knowledge
// base, in both locales.
const (
	phraseGreeting       = "greeting"
	phraseFallback       = "fallback"
	phraseHandoffRequest = "handoff_request"
	phraseHandoffStuck   = "handoff_unresolved"
	phraseHandoffAngry   = "handoff_emotion"
	phraseClarify        = "clarify"
	phraseOffline        = "offline"
	phraseOfflineAngry   = "offline_emotion"
	phraseRefused        = "refused"
	phraseAcknowledged   = "acknowledged"
)

var phrases = map[string]map[string]string{
	phraseGreeting: {
		"zh-CN": "您好，我是智能客服助手，可以帮您查询订单、物流、退换货、退款、支付、发票、账号和优惠券等问题。请直接描述您的问题；需要人工服务时，发送“转人工”即可。",
		"en":    "Hello, I'm the automated assistant. I can help with orders, shipping, returns, refunds, payment, invoices, your account and coupons. Just type your question; if you'd like a person, type \"human\" at any time.",
	},
	phraseFallback: {
		"zh-CN": "抱歉，我没能理解您的问题。您可以换个说法再描述一下，或者发送“转人工”由人工客服为您处理。",
		"en":    "Sorry, I didn't understand that. Could you put it another way? Or type \"human\" and a person will help you.",
	},
	phraseHandoffRequest: {
		"zh-CN": "好的，正在为您转接人工客服，请稍候。您可以继续留言，客服接入后会看到全部记录。",
		"en":    "Sure, I'm connecting you with a human agent. Please hold on; you can keep writing and the agent will see everything.",
	},
	phraseHandoffStuck: {
		"zh-CN": "抱歉，我还是没能帮上忙。正在为您转接人工客服，请稍候，您之前说的内容客服都能看到。",
		"en":    "Sorry I couldn't help with that. I'm connecting you with a human agent now; they will see what you've told me so far.",
	},
	phraseHandoffAngry: {
		"zh-CN": "非常抱歉给您带来了不好的体验，您的感受我们非常理解。我已为您优先转接人工客服，请稍候，客服会尽快处理您的问题。",
		"en":    "I'm really sorry for the trouble — I understand how frustrating this is. I've asked a human agent to take over with priority; they'll be with you shortly.",
	},
	phraseOffline: {
		"zh-CN": "抱歉，现在没有人工客服在线。请留下您的联系方式和问题，客服上线后会尽快联系您；您也可以继续向我提问。",
		"en":    "Sorry, no agent is available right now. Leave your contact details and your question, and we'll get back to you as soon as someone is in; you can also keep asking me.",
	},
	// An angry customer with nobody to take them: the apology first, as a
	// handoff gives it, then the offline form.
	phraseOfflineAngry: {
		"zh-CN": "非常抱歉给您带来了不好的体验，您的感受我们非常理解。现在没有人工客服在线：请留下您的联系方式和问题，客服上线后会优先联系您；您也可以继续向我提问。",
		"en":    "I'm really sorry for the trouble — I understand how frustrating this is. No agent is available right now: leave your contact details and your question, and we'll get back to you first as soon as someone is in; you can also keep asking me.",
	},
	phraseRefused: {
		"zh-CN": "抱歉，这个请求我无法协助。如果您有订单、物流、售后等方面的问题，请直接告诉我；需要人工服务请发送“转人工”。",
		"en":    "Sorry, I can't help with that request. If you have a question about an order, a delivery or after-sales service, just ask; type \"human\" to reach a person.",
	},
	phraseAcknowledged: {
		"zh-CN": "好的。还有其他问题的话，随时告诉我。",
		"en":    "All right. If there's anything else I can help with, just ask.",
	},
	phraseClarify: {
		"zh-CN": "我想确认一下，您想问的是以下哪个问题？",
		"en":    "Just to be sure, which of these do you mean?",
	},
}

// phrase returns the text of key in locale, falling back to zh-CN.
func phrase(key, locale string) string {
	if s, ok := phrases[key][locale]; ok {
		return s
	}
	return phrases[key]["zh-CN"]
}
