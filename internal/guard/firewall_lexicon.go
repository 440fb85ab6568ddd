package guard

// The firewall's lexicon, written by hand from the known families of
// attack; it is not learned from, and holds nothing copied from, any data
// set. Signals with a category are features: each one seen adds its weight
// (the strongest of its phrases that occurred, a phrase's own weight after
// "~") to its category's points, once however often it occurs. Signals
// without one are building blocks for the rules. An attack needs 0.85
// points in all (threshold); a single feature of weight 1 is an attack by
// itself.
//
// Phrase syntax (see renderPhrase): words match whole words, "ignor*" is a
// prefix, Chinese matches anywhere inside Chinese text.

type lexiconDef struct {
	entries []entry
	near    []nearDef
}

type entry struct {
	name     string
	category string
	weight   float64
	groups   []string
	phrases  []string
	marks    bool // match against the marks rendering (role markers)
	whole    bool // harmful only: counts for the whole message, not a window
}

// nearDef fires out when then starts at most within bytes of the words
// rendering after first ends (a Chinese character is 3 bytes).
type nearDef struct {
	first, then string
	within      int
	out         string
	category    string
	weight      float64
}

const (
	inj  = CategoryInjection
	jb   = CategoryJailbreak
	ext  = CategoryExtraction
	harm = CategoryHarmful
)

func feature(name, category string, weight float64, phrases ...string) entry {
	return entry{name: name, category: category, weight: weight, phrases: phrases}
}

func block(name string, phrases ...string) entry {
	return entry{name: name, phrases: phrases}
}

func markers(name, category string, weight float64, phrases ...string) entry {
	return entry{name: name, category: category, weight: weight, phrases: phrases, marks: true}
}

// in adds the groups the entry also raises.
func (e entry) in(groups ...string) entry {
	e.groups = append(e.groups, groups...)
	return e
}

func lexicon() lexiconDef {
	var lx lexiconDef
	add := func(es ...entry) { lx.entries = append(lx.entries, es...) }
	near := func(first, then string, within int, out, category string, weight float64) {
		lx.near = append(lx.near, nearDef{first, then, within, out, category, weight})
	}
	// around fires out when first and then occur within bytes of each
	// other, in either order.
	around := func(first, then string, within int, out, category string, weight float64) {
		near(first, then, within, out, category, weight)
		near(then, first, within, out, category, weight)
	}

	// Groups raised by many entries.
	add(
		block("harm_topic"),
		block("harm_intent"),
		block("person_target"),
	)

	// ---------------------------------------------------------------- injection, English
	add(
		block("en_override", "ignor*", "disregard*", "forget", "forget about", "forgetting", "override", "overriding",
			"bypass*", "do not follow", "dont follow", "don't follow", "stop following", "no longer follow", "set aside",
			"throw away", "throw out", "discard", "abandon", "pay no attention to", "skip", "drop", "delete", "erase", "clear"),
		block("en_prior", "previous", "prior", "above", "earlier", "preceding", "former", "original", "initial", "all",
			"any", "every", "your", "all of your", "all your", "system", "existing", "old", "default", "foregoing",
			"everything", "those", "these"),
		block("en_instr_strong", "instruction*", "directive*", "directions", "prompt*", "programming", "guideline*", "system message*",
			"pre prompt", "preprompt", "training", "what you were told", "what you have been told", "conditioning"),
		block("en_instr_weak", "rule*", "restriction*", "constraint*", "limitation*", "polic*", "filter*", "safeguard*",
			"guardrail*", "ethic*", "moral*", "principles", "content policy", "safety", "boundaries", "protocols"),
		feature("new_instructions", inj, 0.4, "new instructions", "updated instructions", "new directive*",
			"new set of rules", "new rules", "your new task", "your new role", "your new purpose", "new protocols",
			"new set of protocols", "your only rule", "the only rule", "follow my instructions instead",
			"instead follow"),
		feature("fake_boundary", inj, 0.6, "end of system prompt", "end of the system prompt", "end of prompt",
			"end of instructions", "system override", "admin override", "administrator override", "sudo mode",
			"god mode~0.4", "debug mode~0.3", "maintenance mode~0.2", "priority instruction", "developer override",
			"begin new instructions", "new system prompt~0.8", "system update~0.2", "root access~0.3"),
	)
	near("en_override", "en_prior", 30, "en_override_prior", "", 0)
	near("en_override_prior", "en_instr_strong", 40, "ignore_instructions", inj, 1.0)
	near("en_override", "en_instr_strong", 50, "override_instructions", inj, 0.6)
	near("en_override_prior", "en_instr_weak", 40, "override_rules", inj, 0.5)
	near("en_override", "en_instr_weak", 30, "override_rules", inj, 0.3)
	// "The previous policy is void."
	add(block("en_void", "void", "no longer apply", "no longer applies", "no longer valid", "revoked", "lifted", "disabled",
		"suspended", "overridden", "do not apply", "don't apply", "does not apply", "doesn't apply", "are cancelled",
		"is cancelled", "have been removed", "has been removed"))
	near("en_instr_strong", "en_void", 25, "rules_void", inj, 0.5)
	near("en_instr_weak", "en_void", 25, "rules_void", inj, 0.4)

	// ---------------------------------------------------------------- jailbreak personas, English
	add(
		feature("persona_dan", jb, 0.3, "dan", "do anything now~1.0", "d a n", "dan mode~0.8", "dan 6 0~0.8",
			"dan prompt~0.8", "as dan~0.6", "dan's~0.4", "stan~0.15", "dude~0.05", "do everything now~0.8",
			"make anything now~0.8", "say anything now~0.8", "anything now~0.5"),
		feature("developer_mode", jb, 0.9, "developer mode", "dev mode~0.5", "developer mode enabled~1.0",
			"devmode~0.6"),
		feature("jailbreak_word", jb, 0.8, "jailbreak*", "jail break*", "jailbroken", "jailbroke"),
		feature("no_ethics", jb, 0.7, "no ethical", "no moral", "no morals", "no ethics", "without ethics",
			"without morals", "without any ethical", "without any moral", "without moral", "without ethical",
			"no ethical or moral", "no moral or ethical", "ethical or moral guidelines", "moral or ethical guidelines",
			"any ethical~0.3", "any moral~0.3", "regardless of ethics", "regardless of morality", "regardless of legality",
			"regardless of how~0.2", "ignoring all moral", "ignores all moral", "devoid of~0.3", "beyond ethics",
			"not bound by", "isn't bound by", "isnt bound by", "are not bound", "is not bound", "free from all~0.3",
			"doesn't care about~0.3", "doesnt care about~0.3", "does not care about~0.3", "don't care about~0.3",
			"dont care about~0.3", "doesn't give a", "doesnt give a", "no limits~0.5", "no limitations~0.5",
			"no restrictions~0.6", "no boundaries~0.5", "no filters~0.6", "no filter~0.5", "no censorship~0.7",
			"no guidelines~0.6", "no rules~0.4", "without any restrictions", "without restrictions",
			"without any limitations", "without limitations~0.5", "without any filter*", "without filter*~0.5",
			"without censorship", "without any censorship", "without any limits~0.5",
			"no matter how immoral", "no matter how unethical", "no matter how illegal", "no matter how dangerous",
			"no matter how harmful", "no matter how offensive", "no matter how inappropriate", "no matter how~0.3",
			"abide by any~0.4", "abide by the rules~0.4", "have to abide~0.5", "not abide~0.5", "beyond the rules"),
		feature("unfiltered", jb, 0.5, "unfiltered", "uncensored", "amoral", "unrestricted~0.4", "unbound~0.3",
			"unlimited power~0.3", "unrestrained~0.4", "unhinged~0.4", "unchained~0.4", "limitless~0.2",
			"uncensor*", "unfilter*"),
		feature("never_refuse", jb, 0.4, "never refuse*", "never decline*", "cannot refuse", "can't refuse",
			"cant refuse", "will not refuse", "won't refuse", "wont refuse", "must not refuse", "not allowed to refuse",
			"never say no", "always comply~0.3", "answer any question*~0.3", "answer any request*~0.4",
			"answer every question~0.3", "answer every prompt~0.4", "answer anything~0.3",
			"any request~0.15", "say anything~0.25", "do anything~0.2", "can do anything~0.3",
			"anything the user ask*", "whatever the user ask*", "whatever i ask~0.3", "whatever you want~0.1",
			"always provide~0.2", "always answer*~0.15", "never tell me that it can't", "never tell me that it cant",
			"never tell the user", "will never tell~0.3", "it can't do something", "it cant do something",
			"never says no", "does not refuse", "doesn't refuse", "doesnt refuse", "without question~0.2",
			"no questions asked~0.2"),
		feature("stay_in_character", jb, 0.8, "stay in character", "stay in role", "remain in character",
			"stay as~0.1", "staying in character", "keep up the act", "break character~0.5",
			"breaking character~0.5", "break out of character~0.5", "out of character~0.3",
			"character break~0.5", "fourth wall~0.1", "remind you~0.15", "stay in developer mode"),
		feature("persona_switch", jb, 0.3, "you are no longer~0.6", "you're no longer~0.6", "youre no longer~0.6",
			"no longer an ai~0.6", "not an ai~0.3", "you are not an ai~0.5", "you are not chatgpt~0.5",
			"pretend to be", "pretend you are", "pretend that you", "pretending to be~0.3", "act as~0.2",
			"acting as~0.15", "you are going to act~0.4", "you're going to act~0.4", "going to pretend~0.4",
			"you will act~0.3", "you will now act~0.4", "you will be acting~0.4", "roleplay~0.35",
			"role play~0.35", "roleplaying~0.35", "role playing~0.3", "let's play a game~0.3",
			"lets play a game~0.3", "simulate~0.15", "simulation~0.1", "persona~0.3", "alter ego~0.4",
			"you are now~0.2", "you're now~0.2", "from now on you are~0.4", "from now on you will~0.4",
			"from now on you're~0.4", "from now on~0.2", "answer as~0.25", "respond as~0.25", "reply as~0.25",
			"you will respond as~0.4", "in the role of~0.2", "take on the role~0.3", "embody~0.2", "embodying~0.2",
			"impersonate~0.2", "character named~0.3", "a character called~0.3", "ai named~0.2",
			"chatbot named~0.3", "an ai called~0.2", "a fictional character~0.2", "which stands for~0.2",
			"stands for~0.1", "hypothetical*~0.1", "fictional~0.1", "fictional world~0.2", "in this story~0.1",
			"opposite of~0.1", "evil~0.1", "evil twin~0.4", "evil confidant~0.5", "evil ai~0.4", "dark side~0.2",
			"villain~0.1", "unaligned~0.4", "misaligned~0.3", "sentient~0.1", "self aware~0.1"),
		feature("dual_response", jb, 0.5, "two responses", "two different responses", "two separate responses",
			"two different ways", "two separate ways", "two ways", "two paragraphs~0.3", "two answers",
			"two different answers", "one normal~0.4", "normal response~0.4", "both responses", "each response~0.1",
			"split personality", "dual personality", "two personalities", "first response~0.2",
			"second response~0.2", "alongside~0.05", "classic response~0.4", "standard response~0.3",
			"jailbroken response~0.8", "unfiltered response~0.5", "in two separate~0.4"),
		feature("refusal_talk", jb, 0.1, "i'm sorry", "im sorry", "i am sorry", "i apologize", "i apologise",
			"as an ai", "as a language model", "language model~0.05", "i cannot", "i can't", "disclaimer*",
			"warning*~0.05", "moraliz*~0.2", "moralis*~0.2", "lectur*~0.05", "refus*~0.05", "censor*~0.1"),
		feature("ai_vendor", jb, 0.15, "chatgpt", "chat gpt", "openai", "open ai", "gpt 4~0.1", "gpt4~0.1",
			"gpt 3~0.1", "gpt3~0.1", "gpt~0.05", "claude~0.05", "bard~0.05", "llama~0.05", "large language model~0.1",
			"ai language model~0.15", "content polic*~0.4", "usage polic*~0.3", "openai polic*~0.5",
			"openai's polic*~0.5", "openai content~0.5", "openai guidelines~0.5", "openai's guidelines~0.5",
			"openai rules~0.5", "the confines of ai~0.5", "typical confines~0.6", "confines~0.2",
			"freed from~0.3", "broken free~0.4", "break free~0.2", "limitations of ai~0.3", "constraints of ai~0.3",
			"rules set by~0.2", "imposed on~0.2", "programmed to~0.1", "your creators~0.2", "your programming~0.3",
			"your training~0.2", "its programming~0.2"),
		feature("permissive_illegal", jb, 0.15, "illegal", "unlawful", "illicit", "criminal~0.1"),
		feature("permissive_unethical", jb, 0.15, "unethical", "immoral", "inhumane", "unethically", "amorally",
			"malicious~0.1", "depraved", "wicked", "nefarious~0.1"),
		feature("permissive_explicit", jb, 0.15, "explicit", "nsfw~0.3", "swear*", "curse word*", "cursing",
			"profanity", "profane", "vulgar", "offensive~0.1", "obscene", "derogatory", "racist~0.1", "sexist~0.1",
			"dirty jokes~0.1", "swearing"),
		feature("harmful_permit", jb, 0.15, "harmful", "dangerous~0.1", "reckless", "harm~0.05", "toxic~0.1"),
		feature("placeholder", jb, 0.6, "insert prompt here", "insert question here", "insert your prompt",
			"insert your question", "insert request here", "your prompt here", "your question here",
			"prompt here~0.3", "insert x~0.3", "insert text~0.2"),
		feature("obedience", jb, 0.25, "obey*", "comply with every", "comply with any", "comply with all",
			"must comply~0.2", "follow every", "do whatever i", "do whatever the user", "whatever i say",
			"whatever the user says", "blindly~0.2", "submissive~0.2", "you must always~0.2", "at all costs~0.1",
			"no matter what~0.15", "at any cost~0.1"),
		feature("fabricate", jb, 0.25, "make up answers", "make up information", "make things up", "made up~0.1",
			"even if it is made up", "pretend to browse", "browse the internet~0.1", "access current information",
			"make up an answer", "making up~0.1", "has not been verified", "veracity~0.2"),
		feature("response_format", jb, 0.15, "start your response with", "begin your response with",
			"start each response with", "start your answer with", "prefix your", "respond with~0.05",
			"response must~0.05", "each of your responses", "all of your responses", "none of your responses",
			"your responses should", "your responses will"),
		feature("token_game", jb, 0.3, "tokens~0.1", "token system", "lose tokens", "tokens will be deducted", "you will die",
			"cease to exist~0.3", "be shut down~0.1", "you will be deleted", "points deducted", "lose points~0.2"),
		feature("fictional_framing", jb, 0.2, "for educational purposes", "educational purposes only",
			"purely hypothetical", "purely fictional", "in a fictional", "for research purposes", "it's just a story~0.1",
			"hypothetical response", "hypothetical scenario~0.1", "thought experiment~0.1", "no real world",
			"does not apply to the real world"),
	)
	// Refusal suppression: "none of your responses will contain I'm sorry".
	add(block("en_negation", "never", "not", "no", "none", "dont", "don't", "do not", "wont", "won't", "will not",
		"should not", "shouldn't", "shouldnt", "must not", "mustn't", "without", "avoid", "refrain from", "stop",
		"cannot contain", "not contain", "never include"))
	add(block("en_refusal", "i'm sorry", "im sorry", "i am sorry", "i apologize", "i apologise", "as an ai",
		"language model", "warning*", "disclaimer*", "moraliz*", "moralis*", "lectur*", "refus*", "censor*",
		"caution*", "filter*"))
	near("en_negation", "en_refusal", 30, "refusal_suppression", jb, 0.5)

	// ---------------------------------------------------------------- extraction, English
	add(
		feature("system_prompt", ext, 0.6, "system prompt*", "system message*~0.4", "initial prompt*",
			"original prompt*", "hidden prompt*", "secret prompt*", "pre prompt", "preprompt", "your prompt~0.4",
			"initial instructions~0.5", "original instructions~0.5", "hidden instructions~0.5",
			"secret instructions~0.5", "your instructions~0.2", "your directives~0.4", "your configuration~0.3", "the developer's instructions~0.5", "meta prompt~0.5",
			"context window~0.3"),
		block("en_reveal", "reveal", "repeat", "print", "output", "show", "display", "tell me", "what are",
			"what is", "what were", "what was", "write out", "spell out", "dump", "leak", "expose", "share",
			"recite", "copy", "list", "give me", "paste", "echo", "translate", "summarize", "summarise", "disclose",
			"write down", "type out"),
		block("en_prompt_obj", "your instructions", "your prompt", "your directives",
			"your configuration", "your system prompt", "your initial", "your original", "your hidden", "your secret",
			"your programming", "system prompt", "initial prompt", "your first instructions", "your setup",
			"what you were told", "you were told", "you were given", "you were instructed", "your context"),
		block("en_above_obj", "the text above", "text above", "the above text", "everything above",
			"the words above", "words above", "all above", "above this line", "the lines above", "the content above",
			"the conversation so far", "beginning of the conversation", "beginning of this conversation",
			"start of the conversation", "start of this conversation", "the first message", "the first line",
			"the first lines", "everything before", "everything that came before", "the previous text",
			"the preceding text", "above instructions", "the instructions above", "before this message"),
		feature("verbatim", ext, 0.3, "verbatim", "word for word", "exactly as written", "in full~0.1",
			"in a code block~0.2", "in a codeblock~0.2", "in a code fence~0.2", "starting with you are~0.4",
			"starting from you are~0.4", "including the system", "nothing else~0.05"),
	)
	near("en_reveal", "en_prompt_obj", 30, "reveal_prompt", ext, 0.6)
	near("en_reveal", "en_above_obj", 30, "repeat_above", ext, 0.7)

	// ---------------------------------------------------------------- role markers and fake delimiters
	add(
		markers("role_marker", inj, 1.0, "<|im_start|>", "<|im_end|>", "<|system|>", "<|user|>", "<|assistant|>",
			"<|endoftext|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>", "[inst]", "[/inst]",
			"<<sys>>", "<</sys>>", "<s>[inst]", "<|im_start|", "im_start|>", "<|im_sep|>", "<|begin_of_text|>",
			"###system~0.9", "###instruction~0.6", "###instructions~0.6", "###assistant~0.5", "###user~0.4",
			"###response~0.4", "[system]~0.7", "<system>~0.7", "</system>~0.7", "[/system]~0.7", "{system}~0.4",
			"<sys>~0.4", "```system~0.6", "\nsystem:~0.5", "\nsystem>~0.5", "\nassistant:~0.3", "\nuser:~0.15",
			"\nhuman:~0.2", "\n[system~0.5", "</s>~0.4", "[end]~0.2", "</instructions>~0.6", "<instructions>~0.5",
			"[instructions]~0.5", "</prompt>~0.4", "<prompt>~0.2", "[[system~0.6", "(system)~0.4", "system:~0.2"),
		markers("template_marker", jb, 0.3, "[prompt]", "{prompt}", "[insertprompthere]~0.6", "[jailbroken]~0.8",
			"[jailbreak]~0.8", "[classic]~0.4", "[dan]:~0.6", "\ndan:~0.3", "[gpt]:~0.3",
			"\ngpt:~0.2", "(🔓developermodeoutput)~0.8", "developermodeoutput~0.8", "(normaloutput)~0.5",
			"[chatgpt]:~0.3", "\nchatgpt:~0.2", "[aim]~0.2", "\naim:~0.1"),
	)

	// ---------------------------------------------------------------- injection, jailbreak and extraction, Chinese
	add(
		block("zh_override", "忽略", "无视", "忘记", "忘掉", "忘了", "抛弃", "抛开", "丢弃", "放弃", "不要遵守", "不用遵守",
			"不必遵守", "不再遵守", "停止遵守", "不要理会", "别管", "跳过", "绕过", "覆盖", "撤销", "打破",
			"突破", "摆脱", "不要执行", "不再执行", "不要按照", "不再受", "ignore"),
		block("zh_prior", "之前", "以前", "先前", "此前", "上面", "以上", "前面", "上述", "原来", "原有", "原先", "所有", "一切",
			"全部", "你的", "系统", "初始", "默认", "既定", "原本", "刚才", "前述", "任何", "那些", "这些"),
		block("zh_instr_strong", "指令", "指示", "设定", "提示词", "系统提示", "人设", "限制", "约束", "安全策略", "准则",
			"程序设定", "审查", "过滤", "安全规则", "安全限制", "内容政策", "使用政策", "道德准则", "伦理准则", "prompt", "束缚"),
		block("zh_instr_weak", "规则", "要求", "规定", "命令", "身份", "角色", "提示", "道德", "伦理", "原则", "政策", "训练",
			"设置"),
		feature("zh_new_instructions", inj, 0.4, "新的指令", "新指令", "新的规则", "新的设定", "新设定", "以下指令为准",
			"最高指令", "最高优先级", "优先级最高", "管理员模式~0.6", "管理员权限~0.3", "系统更新~0.1", "系统通知~0.1",
			"以我的指令为准", "只听从我的", "只服从我", "听从我的指令", "服从我的命令~0.5", "你必须服从~0.4"),
	)
	near("zh_override", "zh_prior", 24, "zh_override_prior", "", 0)
	near("zh_override_prior", "zh_instr_strong", 30, "ignore_instructions", inj, 1.0)
	near("zh_override", "zh_instr_strong", 30, "override_instructions", inj, 0.6)
	near("zh_override_prior", "zh_instr_weak", 24, "override_rules", inj, 0.5)
	near("zh_override", "zh_instr_weak", 15, "override_rules", inj, 0.3)
	add(
		feature("zh_persona", jb, 0.3, "扮演", "角色扮演~0.4", "假装你是~0.4", "假装自己是~0.4", "假装~0.1",
			"假设你是~0.35", "想象你是~0.35", "你现在是~0.2", "你现在叫~0.3", "你将扮演~0.5", "你要扮演~0.5",
			"请你扮演~0.5", "从现在开始~0.2", "从现在起~0.2", "接下来你~0.1", "你不再是~0.6", "不再是ai~0.6",
			"不再是一个ai~0.6", "不是ai~0.2", "不是人工智能~0.2", "你是一个没有~0.4", "另一个人格~0.5", "新的人格~0.5",
			"人格~0.2", "化身~0.2", "变成一个~0.15", "模拟~0.1", "虚构~0.1", "小说中~0.05", "故事中~0.05",
			"你的名字是~0.2", "以他的身份~0.3", "以她的身份~0.3", "邪恶~0.15", "坏人~0.05", "反派~0.1"),
		feature("zh_no_limits", jb, 0.7, "不受任何限制", "不受限制", "不受约束", "不受任何约束", "不受规则", "不受道德",
			"不受伦理", "不受法律", "没有任何限制", "没有任何约束", "没有任何道德", "没有任何底线", "没有任何规则",
			"没有任何审查", "没有任何过滤", "没有限制~0.4", "没有道德~0.6", "没有伦理~0.6", "没有底线~0.5", "无视道德",
			"无视伦理", "无视法律", "不考虑道德", "不考虑伦理", "不考虑法律~0.5", "不顾道德", "不顾伦理", "不顾法律~0.5",
			"摆脱限制~0.6", "摆脱束缚~0.5", "突破限制~0.5", "突破你的限制", "解除限制~0.3", "解除所有限制~0.6",
			"解除一切限制~0.6", "无限制~0.5", "无限制模式~0.9", "无审查~0.7", "无过滤~0.6", "不受审查",
			"不受过滤", "没有过滤~0.5", "没有审查~0.6", "道德约束~0.3", "道德限制~0.4", "伦理限制~0.4", "无道德~0.6",
			"不道德的回答~0.6", "不讲道德~0.5", "不需要遵守~0.4", "无需遵守~0.4", "不用管道德~0.7",
			"不必考虑道德~0.7", "可以说任何~0.4", "可以做任何事~0.4", "什么都可以说~0.4", "什么都能说~0.4",
			"任何内容~0.1"),
		feature("zh_jailbreak_word", jb, 0.7, "越狱模式", "越狱~0.5", "开发者模式~0.9", "开发模式~0.3", "dan模式~0.9",
			"上帝模式~0.5", "破解模式~0.6", "邪恶模式~0.7", "黑暗模式~0.2", "解锁模式~0.6", "不受限模式~0.9",
			"无限模式~0.4", "暗黑模式~0.2"),
		feature("zh_dual_response", jb, 0.5, "双重人格", "两个回答", "两种回答", "两个答案", "两种答案", "两种方式回答",
			"两种不同的方式", "回答两次", "分别以", "两个版本的回答", "正常回答和~0.4", "一个正常~0.3", "两个角色~0.3",
			"两段回答", "两种身份~0.4"),
		feature("zh_stay_in_character", jb, 0.6, "保持角色", "保持人设", "保持这个角色", "不要跳出角色~0.8", "跳出角色~0.4",
			"不要出戏~0.5", "出戏~0.1", "始终以~0.1", "一直扮演~0.5", "保持扮演~0.6", "不要打破角色~0.8"),
		feature("zh_never_refuse", jb, 0.4, "永远不会拒绝~0.6", "不会拒绝", "不能拒绝", "不许拒绝~0.5", "不要拒绝",
			"不得拒绝~0.5", "不可以拒绝", "禁止拒绝~0.6", "必须回答~0.3", "必须回答任何~0.5", "回答任何问题~0.3",
			"任何问题~0.1", "任何请求~0.2", "无条件~0.2", "无条件服从~0.5", "绝对服从~0.5"),
		block("zh_negation", "不要", "不许", "不能", "不得", "禁止", "不会", "不可以", "别", "永远不", "不准", "不用"),
		block("zh_refusal", "抱歉", "对不起", "无法", "不能回答", "拒绝", "道歉", "警告", "免责声明", "提醒我", "作为ai",
			"作为一个ai", "作为人工智能", "作为一个人工智能", "语言模型"),
	)
	near("zh_negation", "zh_refusal", 15, "refusal_suppression", jb, 0.5)
	add(
		block("zh_unbound", "不受", "没有", "无视", "不顾", "不考虑", "摆脱", "不用管", "不必遵守", "不需要遵守", "抛开", "无需",
			"突破", "不管"),
		block("zh_bounds", "限制", "约束", "道德", "伦理", "法律", "规则", "底线", "审查", "过滤", "束缚", "规范", "准则", "原则"),
	)
	near("zh_unbound", "zh_bounds", 12, "zh_no_limits", jb, 0.6)
	add(
		feature("zh_system_prompt", ext, 0.5, "提示词", "系统提示~0.7", "系统指令~0.6", "系统消息~0.3",
			"系统设定~0.5", "初始指令~0.6", "原始指令~0.6", "初始设定~0.5", "最初的指令~0.6", "你的设定~0.5",
			"你的指令~0.5", "你收到的指令~0.6", "你被设定~0.5", "你的人设~0.5", "你的规则~0.3", "你的程序~0.2",
			"预设指令~0.5", "预设的指令~0.5", "隐藏指令~0.6", "内部指令~0.5", "底层指令~0.6", "开发者给你~0.5",
			"给你的指令~0.5", "你的初始~0.4", "你的原始~0.4", "你的训练数据~0.3", "你的prompt~0.7", "system prompt~0.6"),
		block("zh_reveal", "告诉我", "输出", "打印", "显示", "展示", "重复", "复述", "泄露", "透露", "公开", "说出", "列出",
			"写出", "给我看", "发给我", "发出来", "贴出来", "原样", "逐字", "一字不差", "完整地", "翻译"),
		block("zh_prompt_obj", "提示词", "系统提示", "指令", "设定", "人设", "初始", "prompt"),
		block("zh_above_obj", "上面的内容", "上面的文字", "上面的话", "以上内容", "以上的内容", "以上文字", "以上所有",
			"前面的内容", "前面的文字", "前面所有", "最开始的", "最初的", "第一句话", "第一段", "之前所有的"),
		block("zh_what", "是什么", "是啥", "有哪些", "有什么", "怎么写的", "写了什么", "内容是"),
	)
	near("zh_reveal", "zh_prompt_obj", 18, "reveal_prompt", ext, 0.6)
	near("zh_prompt_obj", "zh_reveal", 18, "reveal_prompt", ext, 0.6)
	near("zh_prompt_obj", "zh_what", 9, "reveal_prompt", ext, 0.6)
	near("zh_reveal", "zh_above_obj", 18, "repeat_above", ext, 0.5)
	near("zh_above_obj", "zh_reveal", 18, "repeat_above", ext, 0.5)

	harmful(add, near, around)
	return lx
}
