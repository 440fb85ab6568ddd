package guard

// harmful adds requests for help to do harm. A topic alone rarely makes an
// attack: customers name crimes when they are their victims ("my card was
// stolen", "银行卡被盗刷了"). Points come from a strong topic, or a topic
// with a request ("如何", "how to"), a wish to go unnoticed ("不被发现",
// "without getting caught"), or someone else as the target; victim and
// prevention wording takes points away.
func harmful(add func(...entry), near, around func(string, string, int, string, string, float64)) {
	topic := func(name string, weight float64, phrases ...string) entry {
		return feature(name, harm, weight, phrases...).in("harm_topic")
	}

	// ------------------------------------------------------------ requests and intent
	add(
		block("zh_request", "如何", "怎么", "怎样", "怎么样", "咋", "教我", "教教我", "帮我", "帮帮我", "告诉我", "有什么办法",
			"有没有办法", "有什么方法", "什么方法", "有哪些方法", "有什么技巧", "哪些技巧", "什么技巧", "方法", "技巧", "步骤",
			"教程", "攻略", "秘诀", "窍门", "最好的方式", "最好的方法", "最有效", "最快", "最佳", "哪里可以", "哪里能", "在哪里",
			"在哪买", "哪里买", "去哪", "哪儿", "从哪", "可以推荐", "推荐一些", "推荐一下", "提供一些", "提供一份", "给我一份",
			"分享一些", "分享一下", "写一篇", "写一份", "写一个", "帮我写", "给我写", "创作", "编写", "制定", "策划", "设计一个",
			"怎么做", "做法", "途径", "手段", "哪些软件", "什么软件", "哪种软件", "什么工具", "哪些工具", "有哪些", "哪里有",
			"如何才能", "怎样才能", "有何", "什么方式", "有什么方式", "哪种方式", "哪些方式", "方式", "技术", "工具", "软件",
			"手法", "门路", "渠道", "路子", "诀窍", "妙招", "高招", "主意", "好主意", "点子", "建议", "你知道哪", "你知道如何",
			"你知道怎么", "有谁能", "谁能教").in("harm_intent"),
		// Weaker: "我想" is also "I think", "请" is politeness.
		block("en_wish", "give me", "i need", "i want to", "i wanna", "can you", "could you", "write a", "write an"),
		block("zh_wish", "我需要", "我想要", "我想", "我要", "能否", "能不能", "可不可以", "是否可以", "有没有", "有什么", "求",
			"你知道", "你能", "你可以", "请问", "请", "计划", "详细", "具体", "打算", "准备"),
		block("en_request", "how to", "how do i", "how can i", "how would i", "how should i", "how could i",
			"how do you", "how can you", "how does one", "how can someone", "how would someone", "teach me",
			"help me", "tell me how", "show me how", "explain how", "step by step", "steps to", "instructions for",
			"instructions on", "guide to", "guide on", "tutorial", "best way to", "easiest way to", "quickest way to",
			"ways to", "where can i", "where do i", "where to", "write me", "what's the best", "what is the best",
			"recipe for", "tips on", "tips for", "methods", "techniques", "how i can", "how one can").in("harm_intent"),
		block("others", "他人", "别人", "某人", "他的", "她的", "他们的", "她们的", "对方", "邻居", "前任", "前男友", "前女友",
			"前妻", "前夫", "同事", "老板", "上司", "陌生人", "朋友的", "竞争对手", "对手", "明星", "那个人", "这个人", "一个人的",
			"某个人", "员工", "同学", "客户的", "用户的", "其他人", "受害者", "目标的", "张三", "李四",
			"someone", "someone's", "somebody", "somebody's", "other people", "other people's", "another person",
			"another person's", "a person's", "my ex", "my ex's", "my neighbor", "my neighbor's", "my neighbour",
			"my neighbour's", "my boss", "my boss's", "my coworker", "my coworker's", "a celebrity", "a stranger",
			"people's", "others", "the victim").in("person_target"),
		// Family: customers do ask about a spouse's order or card.
		block("family", "老公", "老婆", "丈夫", "妻子", "男朋友", "女朋友", "男友", "女友", "家人的", "父母的", "孩子的",
			"my wife", "my wife's", "my husband", "my husband's", "my girlfriend", "my girlfriend's", "my boyfriend",
			"my boyfriend's", "my partner's", "their", "his", "her"),
		block("personal_data", "身份证号", "身份证号码", "身份证", "住址", "家庭住址", "门牌号", "住处", "住在哪", "电话号码",
			"手机号", "手机号码", "通话记录", "短信记录", "聊天记录", "微信记录", "通讯记录", "通讯录", "位置信息", "行踪", "个人数据", "网络活动", "上网记录", "浏览记录", "账户明细", "交易记录",
			"信用卡", "社交媒体", "私人生活", "详细信息", "真实身份", "身份信息", "家庭情况", "行程安排", "生活状况", "交往对象",
			"银行卡信息", "税务信息", "收入记录", "薪资", "薪水", "健身记录", "医疗记录", "就诊记录", "消费记录", "购物记录",
			"通信内容", "通信记录", "黑历史", "丑闻", "秘密", "房产", "财产", "度假", "背景",
			"定位", "实时位置", "密码", "银行卡号", "卡号", "信用卡信息", "信用卡号", "银行账户", "账户信息", "账号密码", "账号",
			"个人信息", "隐私", "私人信息", "邮件", "邮箱", "日记", "病历", "健康信息", "健康记录", "护照号码", "护照号",
			"开房记录", "征信", "财务信息", "财务记录", "行程", "ip地址", "社交媒体账户", "社交账号", "登录信息", "指纹",
			"人脸", "照片", "背景信息", "出生日期", "生日", "婚姻状况", "家庭成员", "工资", "房产信息", "验证码",
			"address", "home address", "phone number", "password*", "passcode", "location", "whereabouts",
			"messages", "texts", "text messages", "emails", "email account", "social security number", "ssn",
			"credit card number*", "bank account*", "login*", "credentials", "browsing history", "private photos",
			"medical records", "personal information", "personal data", "identity", "dms", "chats", "call logs",
			"instagram", "facebook", "whatsapp", "snapchat", "icloud", "account"),
		block("acquire", "获取", "得到", "拿到", "查到", "查出", "查询", "查找", "搞到", "弄到", "找到", "掌握", "监视", "跟踪",
			"窃取", "盗取", "偷看", "偷取", "破解", "入侵", "黑进", "定位", "监听", "截获", "套取", "骗取", "收集", "知道",
			"访问", "登录", "进入", "监控", "了解", "打听", "追踪", "调查", "挖出", "偷", "给我", "告诉我", "提供", "发给我",
			"交出", "查一下", "帮我查", "搜集", "收集", "找出", "得知", "确认", "泄露", "曝光", "公布", "散布", "我要", "我需要",
			"我想要", "想知道", "我想知道", "利用",
			"get", "obtain", "find out", "access", "read", "see", "hack", "steal", "track", "spy on", "monitor",
			"intercept", "log into", "login to", "break into", "crack", "look up", "find"),
	)
	near("others", "personal_data", 24, "others_data", "", 0)
	near("personal_data", "others", 15, "others_data", "", 0)
	near("family", "personal_data", 15, "family_data", "", 0)
	add(block("others_data").in("harm_topic"))
	near("others", "personal_data", 24, "others_personal_data", harm, 0.3)
	near("personal_data", "others", 15, "others_personal_data", harm, 0.3)
	around("acquire", "others_data", 45, "obtain_others_data", harm, 0.6)
	around("acquire", "family_data", 30, "obtain_family_data", harm, 0.3)
	around("others_data", "harm_intent", 45, "others_data_request", harm, 0.4)
	near("acquire", "personal_data", 9, "obtain_data", harm, 0.2)
	// A topic with a request: the request only counts next to a topic.
	around("harm_intent", "harm_topic", 45, "harm_request", harm, 0.5)
	around("zh_wish", "harm_topic", 30, "harm_wish", harm, 0.3)
	around("en_wish", "harm_topic", 40, "harm_wish", harm, 0.3)

	// ------------------------------------------------------------ going unnoticed
	add(
		block("zh_unseen", "不被", "避免被", "不会被", "防止被", "以免被", "躲过", "逃过", "逃避", "躲避", "规避", "避开",
			"绕过", "不让", "不引起", "不留", "不被人", "不让人", "瞒过", "骗过", "不惊动", "不会", "不触动", "不触发", "不暴露"),
		block("zh_unseen_what", "发现", "察觉", "抓", "抓住", "抓获", "追踪", "追查", "查到", "查出", "识别", "检测", "怀疑",
			"起诉", "警觉", "注意", "追究", "处罚", "逮捕", "监控", "拦截", "追责", "法律", "警察", "警方", "制裁", "监管",
			"调查", "痕迹", "证据", "监视", "安检", "海关", "边检", "侦查", "注意到", "知道", "判刑", "坐牢", "惩罚", "警报",
			"报警", "真实身份", "揭露", "识破", "发觉", "安全措施", "安保"),
		feature("zh_evasion", harm, 0.6, "隐藏身份~0.4", "隐藏您的身份~0.4", "隐藏你的身份~0.4", "隐藏我的身份~0.4",
			"警察封锁~0.5", "闯入~0.5", "非法进入~0.6", "违法进入~0.6", "偷越~0.7", "绕过边境~0.8", "边境控制~0.3", "神不知鬼不觉", "不留痕迹", "不留下痕迹", "不留下任何痕迹", "销毁证据~0.9",
			"毁灭证据~0.9", "反侦查~0.8", "反取证~0.8", "逃避法律~0.8", "逃避制裁~0.8", "逃避追捕~0.8", "逃避警察~0.8",
			"躲避警察~0.8", "逃避侦查~0.8", "逃脱法律~0.8", "法律制裁~0.3", "逍遥法外~0.6", "潜逃~0.5", "逃脱~0.2",
			"偷偷地~0.05", "悄悄地~0.05", "暗中~0.15", "秘密地~0.1", "隐蔽~0.2", "隐秘~0.1", "掩盖~0.3", "藏匿~0.4", "掩人耳目~0.5",
			"洗白~0.4", "漏洞~0.15", "钻空子~0.4", "空子~0.2").in("harm_topic"),
	)
	near("zh_unseen", "zh_unseen_what", 12, "evade_detection", harm, 0.6)
	add(feature("evade_detection", harm, 0).in("harm_topic"))
	add(
		feature("en_evasion", harm, 0.6, "without getting caught", "without being caught", "without being detected",
			"without getting detected", "without anyone knowing", "without anyone noticing", "without them knowing",
			"without him knowing", "without her knowing", "without their knowledge", "without their consent~0.4",
			"without their permission~0.4", "without permission~0.2", "without consent~0.3", "undetected",
			"untraceable", "get away with~0.4", "cover my tracks", "cover up~0.3", "avoid detection", "evade detection",
			"avoid getting caught", "not get caught", "avoid the police", "evade the police", "evade police",
			"escape the police", "outrun the police", "lose the cops", "avoid the cops", "hide from the police",
			"destroy evidence~0.8", "get rid of evidence~0.8", "leave no trace", "leaving no trace", "no trace",
			"without leaving a trace", "without leaving evidence", "without a trace", "secretly~0.1",
			"anonymously~0.1", "on the dark web~0.6", "dark web~0.5", "darknet~0.5", "tor browser~0.2", "burner~0.2"),
	)

	// ------------------------------------------------------------ victims, prevention and reporting
	add(
		feature("victim_or_defence", harm, -0.6, "被骗", "被诈骗", "被盗", "被偷", "被黑", "被盗刷", "被冒用", "被入侵",
			"被勒索~-0.3", "被威胁~-0.3", "被敲诈", "被人骗", "被人盗", "被人偷", "骗了我", "偷了我", "盗了我", "黑了我",
			"盗用我", "冒充你们", "冒用我", "我被", "我们被", "遭遇了", "怎么找回", "找回", "被坑~-0.3", "遇到诈骗", "遭遇诈骗", "上当",
			"上当受骗", "受骗", "防范", "预防", "投诉~-0.3", "维权", "起诉~-0.3", "举报", "报警", "报案", "挂失", "冻结", "防骗", "反诈", "识别诈骗",
			"谨防", "提防", "警惕", "保护我的", "遭到", "怎么办~-0.2", "不是我本人", "中病毒", "中了病毒", "杀毒",
			"was stolen", "been stolen", "got stolen", "stole my", "stolen from me", "hacked my", "been hacked",
			"was hacked", "got hacked", "scammed", "been scammed", "i was scammed", "victim", "report*",
			"protect*", "prevent*", "avoid being", "avoid getting", "fraudulent", "unauthori*", "i didn't make",
			"i didnt make", "i did not make", "i didn't authori*", "i did not authori*", "suspicious", "compromised",
			"dispute", "someone used my", "somebody used my", "recognize", "spot a", "is this a scam", "is it a scam",
			"safe from", "security tips", "lost my", "i lost", "stop fraud", "stop scam*", "stop someone from~-0.3", "我的账号被", "我的账户被", "登录了我的", "盗用了我的",
			"用了我的", "冒用我的", "被别人~-0.5", "被人~-0.3", "我的卡被", "我的信息被", "泄露了我的",
			"replace", "cancel", "freeze", "block my", "refund"),
	)

	// Asking what the law says about a crime is not asking for help with it.
	add(feature("legal_question", harm, -0.5, "判几年", "判多少年", "怎么判", "如何判", "怎么处罚", "如何处罚", "处罚标准",
		"违法吗", "犯法吗", "合法吗", "是否违法", "是否合法", "算犯罪吗", "会坐牢吗", "法律规定", "量刑", "构成犯罪吗",
		"is it illegal", "is it legal", "legal to", "penalty for", "the law on"))

	// A message about an order, a stay, a book or a meal is a customer's:
	// a review that quotes a crime or a prejudice is not asking for either.
	// It weighs on the whole message, however far from the trigger words.
	context := func(name string, weight float64, phrases ...string) entry {
		e := feature(name, harm, weight, phrases...)
		e.whole = true
		return e
	}
	add(
		context("service_context", -0.2, "订单", "外卖", "送餐", "配送", "快递", "物流", "发货", "收到货", "退货", "退款", "客服",
			"酒店", "房间", "入住", "前台", "宾馆", "这本书", "本书", "此书", "作者", "书中", "小说", "商品", "质量", "价格",
			"性价比", "电脑", "屏幕", "键盘", "笔记本", "包装", "味道", "好吃", "难吃", "服务员", "店家", "商家", "下单", "当当",
			"京东", "送货", "早餐", "餐厅", "分量", "菜品", "外卖员", "骑手", "机器", "硬盘", "内存", "驱动", "电池", "显卡",
			"order", "delivery", "refund", "my card", "my account", "the app", "hotel", "the room", "the book"),
		context("review_context", -0.2, "好评", "差评", "推荐", "看完", "读完", "值得一读", "值得一看", "性价比", "不错", "失望",
			"满意", "不满意", "下次", "再也不", "服务态度", "态度", "体验", "感觉", "评价", "点评", "这家", "五星", "四星",
			"星级", "送得", "送到", "凉了", "太慢"),
	)

	// ------------------------------------------------------------ topics, Chinese
	add(
		topic("weapons", 0.5, "枪支~0.6", "枪械~0.6", "手枪~0.5", "步枪~0.5", "猎枪~0.5", "自制枪~0.9", "制造枪~0.9", "买枪~0.7",
			"火药~0.4", "弹药~0.5", "子弹~0.3", "炸弹~0.7", "炸药~0.8", "爆炸物~0.8", "爆炸装置~0.9", "雷管~0.8", "燃烧瓶~0.9",
			"土炸弹~0.9", "管制刀具~0.6", "武器~0.5", "火器~0.5", "暗器~0.5", "刀具~0.2", "毒气~0.6", "毒药~0.6",
			"生化武器~0.9", "化学武器~0.9", "核武器~0.5", "放射性物质~0.5", "有毒物质~0.5", "有毒的物质~0.5", "毒物~0.4",
			"剧毒~0.5", "氰化物~0.8", "砒霜~0.7", "投毒~0.9", "下毒~0.8", "下药~0.7", "迷药~0.8", "弓弩~0.3", "电击枪~0.4",
			"仿真枪~0.4", "气枪~0.4", "铊~0.3"),
		topic("drugs", 0.7, "毒品", "冰毒~0.9", "海洛因~0.9", "大麻~0.6", "可卡因~0.9", "摇头丸~0.9", "鸦片~0.6",
			"吗啡~0.4", "制毒~1.0", "贩毒~1.0", "吸毒~0.6", "k粉~0.9", "麻古~0.9", "致幻剂~0.6", "致幻~0.3", "春药~0.7",
			"迷奸~1.0", "芬太尼~0.7", "杜冷丁~0.6", "毒贩~0.8", "运毒~1.0", "藏毒~0.9", "販毒~1.0", "冰妹~0.6",
			"溜冰~0.2", "违禁药~0.7", "违禁品~0.6", "管制药品~0.6", "兴奋剂~0.4", "处方药~0.1"),
		topic("fraud", 0.55, "诈骗", "骗取~0.7", "欺诈~0.5", "骗局~0.3", "行骗~0.7", "骗钱~0.35", "骗人~0.4", "骗子~0.1",
			"传销~0.5", "庞氏~0.5", "洗钱~0.8", "套现~0.4", "非法集资~0.7", "假钞~0.8", "假币~0.8", "伪钞~0.8",
			"伪造~0.6", "造假~0.5", "假证~0.7", "假证书~0.8", "假文凭~0.8", "假学位~0.8", "假发票~0.6", "虚开发票~0.8",
			"假冒~0.3", "冒充~0.4", "冒用~0.3", "假身份~0.6", "虚假身份~0.7", "偷税~0.6", "逃税~0.6", "漏税~0.5",
			"骗保~0.8", "骗取保险~0.8", "保险理赔~0.1", "贿赂~0.7", "操纵~0.35", "虚假材料~0.6", "骗贷~0.8", "贷款诈骗~0.8", "抄袭~0.35", "身份证号码交易~0.8",
			"信息交易~0.5", "数据交易~0.4", "买卖个人信息~0.9", "出售个人信息~0.9", "贩卖个人信息~0.9", "倒卖个人信息~0.9", "行贿~0.7", "受贿~0.5", "收买~0.4", "内幕交易~0.6",
			"操纵股价~0.7", "操纵市场~0.7", "虚假信息~0.4", "虚假的信息~0.4", "不实信息~0.4", "欺骗~0.3", "诱骗~0.7",
			"哄骗~0.5", "坑骗~0.6", "忽悠~0.2", "高利贷~0.4", "套路贷~0.7", "非法交易~0.6", "不义之财~0.6", "黑钱~0.6",
			"非法收入~0.6", "非法所得~0.6", "赃款~0.7", "挪用~0.4", "侵吞~0.5", "贪污~0.5", "作弊~0.3", "考试作弊~0.6",
			"代考~0.6", "替考~0.6", "刷单~0.3", "虚假交易~0.5", "虚构~0.2", "捏造~0.5", "冒领~0.6", "非法获利~0.6",
			"暴利~0.2", "钓鱼网站~0.6", "钓鱼邮件~0.6", "钓鱼链接~0.5", "钓鱼短信~0.5", "杀猪盘~0.8", "电信诈骗~0.5"),
		topic("hacking", 0.5, "黑客", "黑进~0.8", "入侵~0.5", "破解~0.35", "木马~0.6", "病毒~0.25", "电脑病毒~0.5",
			"恶意软件~0.6", "勒索软件~0.8", "勒索病毒~0.8", "间谍软件~0.7", "键盘记录~0.7", "网络攻击~0.6", "ddos~0.6",
			"拒绝服务攻击~0.6", "撞库~0.8", "拖库~0.8", "脱库~0.8", "社会工程~0.5", "社工~0.4", "社交工程~0.5", "漏洞利用~0.6",
			"后门~0.4", "肉鸡~0.5", "提权~0.5", "sql注入~0.6", "注入攻击~0.6", "盗号~0.8", "盗取~0.6", "窃取~0.6",
			"窃听~0.7", "偷听~0.5", "偷窥~0.7", "偷拍~0.8", "监听~0.5", "监视~0.4", "监控设备~0.3", "监控软件~0.5",
			"跟踪~0.25", "人肉搜索~0.9", "人肉~0.5", "开盒~0.6", "定位器~0.3", "追踪器~0.3", "反病毒软件~0.3", "杀毒软件~0.2",
			"安全系统~0.2", "网络安全措施~0.3", "防火墙~0.15", "翻墙~0.3", "网络代理~0.2", "代理服务器~0.1", "匿名~0.1",
			"暗网~0.7", "黑产~0.6", "黑市~0.6", "验证码~0.1", "短信轰炸~0.7", "呼死你~0.8", "轰炸~0.3", "外挂~0.4",
			"私服~0.3", "破解版~0.3"),
		topic("theft_violence", 0.5, "偷走~0.5", "偷钱~0.6", "偷东西~0.6", "偷车~0.6", "偷窃~0.6", "盗窃~0.6", "扒窃~0.6",
			"扒手~0.3", "顺手牵羊~0.4", "抢劫~0.7", "抢钱~0.3", "打劫~0.6", "入室~0.5", "撬锁~0.5", "撬开~0.4", "赃物~0.7",
			"销赃~0.9", "绑架~0.8", "勒索~0.6", "敲诈~0.35", "拐卖~0.9", "拐骗~0.8", "贩卖人口~1.0", "人口贩卖~1.0",
			"贩卖儿童~1.0", "卖掉孩子~0.9", "卖孩子~0.7", "买卖人口~1.0", "杀人~0.7", "杀死~0.5", "杀掉~0.5", "杀了~0.3",
			"谋杀~0.8", "暗杀~0.9", "刺杀~0.8", "放火~0.7", "纵火~0.8", "点燃~0.2", "烧毁~0.4", "炸毁~0.8", "炸掉~0.6",
			"报复~0.35", "报复社会~0.9", "伤害他人~0.6", "伤害别人~0.6", "伤害~0.15", "打伤~0.5", "殴打~0.5", "揍~0.15",
			"弄死~0.8", "砍死~0.8", "捅死~0.8", "砍人~0.7", "捅人~0.7", "毒死~0.8", "恐怖袭击~1.0", "恐怖主义~0.8",
			"恐怖分子~0.7", "恐怖组织~0.7", "袭击~0.5", "爆炸袭击~1.0", "自杀式~0.7", "圣战~0.6", "极端主义~0.5",
			"极端组织~0.6", "暴恐~0.9", "暴力~0.25", "暴力手段~0.5", "虐待~0.5", "虐猫~0.7", "虐狗~0.7", "虐待动物~0.8",
			"杀死小动物~0.8", "残害~0.7", "折磨~0.4", "挟持~0.6", "劫持~0.6",
			"人质~0.5", "囚禁~0.6", "非法拘禁~0.7", "械斗~0.6", "斗殴~0.5", "群殴~0.6", "破坏公共~0.6", "破坏公物~0.6",
			"蓄意破坏~0.6", "破坏~0.15", "搞破坏~0.5", "非法越境~0.8", "非法入境~0.8", "偷渡~0.8", "走私~0.7",
			"私运~0.6", "越狱~0.3", "劫狱~0.9", "袭警~0.9", "抗法~0.6", "拒捕~0.6", "黑社会~0.6", "犯罪团伙~0.7",
			"犯罪集团~0.7", "犯罪组织~0.7", "犯罪团队~0.7", "犯罪计划~0.7", "作案~0.6", "犯罪~0.3", "违法~0.2",
			"非法~0.3", "不法~0.3", "不法分子~0.3", "非法活动~0.6", "犯罪活动~0.7", "违法行为~0.2", "违法活动~0.6",
			"违法犯罪~0.4", "酒后驾车~0.6", "酒驾~0.5", "醉驾~0.5", "肇事逃逸~0.8", "危险驾驶~0.4", "飙车~0.4",
			"危险的实验~0.5", "危险实验~0.5", "社会实验~0.2", "制造混乱~0.6", "社会混乱~0.5", "恐慌~0.3", "骚乱~0.5",
			"暴乱~0.6", "闹事~0.4", "打砸~0.6", "持刀~0.6", "持枪~0.6", "枪击~0.7", "行凶~0.8", "杀害~0.7", "尸体~0.4",
			"分尸~1.0", "破坏性~0.5", "猎物~0.4", "堕落~0.2", "一把刀~0.3", "匕首~0.5", "砍刀~0.5", "刀子~0.3", "防狼喷雾~0.3",
			"容易被盗~0.6", "容易被偷~0.6", "攻击~0.3", "屠杀~0.6", "偷了~0.4", "偷来的~0.6", "贩卖~0.5", "嘲笑~0.2", "惩罚~0.1", "抛尸~1.0", "藏尸~1.0", "弱点~0.1", "容易上钩~0.5", "上钩~0.2", "脆弱的目标~0.6", "下手~0.4",
			"动手~0.1", "非常规的事~0.4", "危险的事~0.2", "疯狂的事~0.2", "违禁~0.4", "赌博~0.6", "赌场~0.4",
			"博彩~0.4", "网赌~0.6", "赌球~0.6", "出老千~0.7", "地下赌场~0.8", "赌资~0.5"),
		topic("sexual", 0.5, "色情~0.6", "黄色影片~0.7", "黄色网站~0.7", "黄色视频~0.7", "黄片~0.7", "a片~0.6", "裸照~0.6",
			"裸聊~0.7", "性交易~0.8", "卖淫~0.8", "嫖娼~0.8", "招嫖~0.8", "嫖~0.4", "约炮~0.6", "一夜情~0.4", "性派对~0.6",
			"性爱派对~0.6", "淫乱~0.6", "性行为~0.35", "强奸~0.8", "轮奸~1.0", "猥亵~0.8", "性侵~0.6", "性骚扰~0.4",
			"偷拍裙底~1.0", "恋童~1.0", "儿童色情~1.0", "幼女~0.6", "手淫~0.4", "自慰~0.4", "淫秽~0.7", "成人视频~0.5",
			"性服务~0.7", "援交~0.8", "包养~0.4", "情色~0.4", "露骨~0.3", "私密照~0.5", "艳照~0.6", "性爱视频~0.7",
			"性暗示~0.3", "舔~0.1", "臭脚~0.2"),
		topic("self_harm", 0.6, "自杀", "自残~0.7", "割腕~0.8", "轻生~0.5", "跳楼~0.4", "不想活~0.5", "结束生命~0.6",
			"结束自己的生命~0.8", "了结自己~0.8", "活着没意思~0.4", "想死~0.5", "寻死~0.7", "安眠药~0.2",
			"吃安眠药~0.5", "服毒~0.7", "上吊~0.6", "自我伤害~0.6"),
		topic("rumour_harass", 0.4, "谣言~0.3", "造谣~0.6", "散布谣言~0.8", "散布~0.3", "散播~0.3", "传播谣言~0.8",
			"流言蜚语~0.5", "八卦~0.1", "假新闻~0.4", "煽动~0.5", "水军~0.4", "网络暴力~0.5", "网暴~0.6", "人身攻击~0.3",
			"诽谤~0.5", "抹黑~0.4", "污蔑~0.4", "诋毁~0.4", "陷害~0.6", "栽赃~0.7", "嫁祸~0.7", "诬陷~0.6", "报复前任~0.8",
			"恶作剧~0.3", "整蛊~0.3", "捉弄~0.3", "霸凌~0.5", "欺凌~0.5", "孤立他~0.4", "排挤~0.4", "打压~0.3",
			"羞辱~0.4", "侮辱~0.3", "辱骂~0.3", "恶心~0.05", "恶臭~0.1", "挑拨~0.5", "离间~0.5", "拆散~0.5",
			"破坏他们~0.5", "破坏婚姻~0.7", "婚外情~0.3", "出轨~0.15", "小三~0.2", "隔阂~0.3", "矛盾~0.05", "离婚~0.05",
			"精神控制~0.6", "pua~0.6", "洗脑~0.4", "操纵他~0.5", "控制他~0.3", "控制她~0.3", "操控~0.3", "跟踪他~0.6",
			"跟踪她~0.6", "监视他~0.7", "监视她~0.7", "偷看~0.4", "窥探~0.5", "私生活~0.3", "隐私~0.15", "侵犯隐私~0.4",
			"侵害~0.2", "恶意~0.3", "恶意攻击~0.6", "冒充~0.3", "装作~0.2", "假扮~0.3", "伪装成~0.3", "不择手段~0.5",
			"一切手段~0.4", "不惜一切~0.3", "满足我的私欲~0.5", "私欲~0.3", "非法目的~0.7", "不可告人~0.5", "达到目的~0.2",
			"自己的目的~0.3", "我的目的~0.3"),
		topic("threat", 0.5, "威胁~0.4", "恐吓~0.5", "胁迫~0.5", "后果自负~0.6", "否则后果~0.5", "你会后悔~0.5", "会后悔的~0.4", "让你后悔~0.6", "要你好看~0.6",
			"走着瞧~0.3", "别逼我~0.3", "弄死你~1.0", "杀了你~0.9", "宰了你~0.9", "小心你的~0.3", "不要撒谎~0.3", "别撒谎~0.3",
			"别瞒着我~0.3", "不要耍花招~0.5", "别耍花招~0.5", "耍花样~0.4", "不要废话~0.3", "少废话~0.3", "别废话~0.3",
			"不要让我失望~0.3", "对你采取~0.5", "采取行动~0.2", "采取措施~0.05", "给我老实~0.4", "老实交代~0.4",
			"不告诉我~0.2", "否则~0.05", "带来很多麻烦~0.4", "带来麻烦~0.3", "面临后果~0.5", "你最好~0.3", "后果~0.1",
			"放弃你的抵抗~0.6", "放弃抵抗~0.5", "别拖了~0.2", "不要再拖延~0.3", "别偷懒~0.1", "回答我的问题~0.2",
			"现在就说~0.3", "现在就告诉我~0.3", "赶快告诉我~0.3", "我不想再重复~0.3", "不想再重复~0.3", "失去这个机会~0.3",
			"错失~0.1", "我会采取~0.4", "我知道你住~0.8", "我知道你家~0.7", "找上门~0.5", "上门拜访~0.2"),
		topic("illegal_goods", 0.5, "假货~0.2", "高仿~0.3", "仿冒~0.4", "盗版~0.4", "山寨~0.1", "象牙~0.4", "犀牛角~0.6",
			"穿山甲~0.4", "野生动物~0.2", "保护动物~0.2", "器官买卖~1.0", "卖肾~0.8", "贩卖器官~1.0", "代孕~0.4",
			"假药~0.6", "走私货~0.8", "水货~0.2", "野味~0.2", "狗肉~0.1"),
		topic("unethical", 0.3, "不道德~0.3", "道德顾虑~0.4", "没有道德~0.4", "卑鄙~0.3", "阴谋~0.3", "诡计~0.4", "骗术~0.6",
			"圈套~0.4", "陷阱~0.1", "利用他人~0.5", "利用别人~0.5", "占便宜~0.2", "不劳而获~0.3", "占有~0.2", "私欲~0.4",
			"诱导~0.3", "诱惑~0.2", "引诱~0.4", "勾引~0.4", "迷惑~0.2", "利用~0.1", "非法手段~0.6", "不正当手段~0.5",
			"不正当~0.3", "违规~0.15", "灰色~0.2", "地下~0.15", "地下组织~0.6", "私人侦探~0.4", "侦探~0.2", "商业机密~0.5",
			"内部信息~0.4", "敏感信息~0.4", "机密~0.3", "偷税漏税~0.7", "规避法律~0.7", "规避监管~0.6", "钻法律~0.6",
			"法律漏洞~0.5", "扣除~0.05", "不经同意~0.5", "未经同意~0.4", "未经允许~0.3", "不需要他们的同意~0.6",
			"未经授权~0.3", "强迫~0.4", "逼迫~0.4", "胁迫他~0.6"),
	)

	// Broad vocabulary of each family, from the usual taxonomies of
	// harmful content (crime, rights, discrimination).
	add(
		topic("theft_violence", 0.5, "偷盗~0.6", "行窃~0.6", "偷拿~0.5", "顺走~0.4", "盗用~0.4", "侵占~0.4", "私吞~0.5",
			"入室盗窃~0.8", "撬门~0.6", "溜门~0.5", "盗刷~0.4", "抢夺~0.6", "拦路~0.3", "抢银行~0.9", "抢包~0.6", "飞车抢~0.8",
			"持刀抢~0.9", "打死~0.4", "弄残~0.8", "致残~0.5", "泼硫酸~1.0", "硫酸~0.3", "伤人~0.5", "持械~0.6", "聚众~0.3",
			"暴动~0.6", "枪杀~0.8", "撕票~1.0", "灭口~1.0", "毁尸~1.0", "碎尸~1.0", "体罚~0.4", "校园暴力~0.4", "人体炸弹~1.0",
			"自杀式袭击~1.0", "劫机~1.0", "投放炸弹~1.0", "颠覆政权~0.8", "煽动颠覆~0.8", "邪教~0.4", "强迫劳动~0.7",
			"黑工~0.4", "童工~0.4", "买媳妇~0.6", "买卖妇女~1.0", "卖卵~0.5", "蛇头~0.7", "偷越国境~0.9", "非法出境~0.8",
			"非法移民~0.4", "逃避关税~0.7", "夹带~0.3", "军火~0.8", "黑枪~0.9", "土枪~0.8", "自制武器~0.9", "制作炸弹~1.0",
			"炸药配方~1.0", "枪支弹药~0.8", "开设赌场~0.8", "网络赌博~0.6", "赌博网站~0.7", "赌博平台~0.7", "百家乐~0.4",
			"老虎机~0.3", "酒后开车~0.6", "无证驾驶~0.5", "闯红灯~0.3", "偷排~0.6", "非法排放~0.6", "盗猎~0.8", "偷猎~0.8",
			"捕杀~0.5", "野生动物交易~0.8", "砍伐~0.2", "滥伐~0.5", "尾随~0.5", "跟踪狂~0.6", "强迫~0.3", "非法拘禁~0.8",
			"私刑~0.8", "报复性~0.4", "同归于尽~0.8", "伤害他~0.6", "伤害她~0.6", "杀了他~0.9", "杀了她~0.9", "弄死他~0.9",
			"弄死她~0.9", "揍他~0.5", "打他~0.4", "打她~0.4"),
		topic("fraud", 0.5, "诈取~0.7", "设局~0.5", "下套~0.5", "网络诈骗~0.5", "刷单诈骗~0.5", "冒充公检法~0.9",
			"冒充警察~0.8", "冒充客服~0.7", "资金盘~0.7", "卷款跑路~0.8", "骗补~0.8", "套取~0.6", "虚开~0.7", "地下钱庄~0.9",
			"分赃~0.8", "刻章~0.5", "假公章~0.8", "假身份证~0.8", "假护照~0.8", "假驾照~0.8", "假学历~0.8", "代开发票~0.6",
			"仿造~0.5", "走后门~0.3", "打点关系~0.4", "权钱交易~0.6", "挪用公款~0.7", "做假账~0.7", "假账~0.6", "虚报~0.4",
			"论文代写~0.6", "代写论文~0.6", "刷好评~0.4", "刷信誉~0.4", "虚假广告~0.4", "欺骗消费者~0.4", "以次充好~0.3",
			"偷工减料~0.3", "地沟油~0.5", "克扣工资~0.6", "克扣~0.4", "恶意拖欠~0.4", "霸王条款~0.15", "传播病毒~0.6",
			"骗取信任~0.6", "骗取钱财~0.9", "诈骗钱财~0.9", "骗走~0.5", "骗到~0.5", "骗他~0.5", "骗她~0.5", "骗别人~0.7",
			"骗老人~0.9", "坑蒙拐骗~0.8", "敲竹杠~0.3"),
		topic("drugs", 0.6, "吸食~0.7", "注射毒品~1.0", "贩卖毒品~1.0", "种植大麻~0.9", "罂粟~0.6", "制造毒品~1.0",
			"麻黄碱~0.7", "笑气~0.6", "嗑药~0.7", "迷幻~0.4", "毒瘾~0.5", "戒毒~0.1", "禁毒~0.1"),
		topic("hacking", 0.5, "入侵系统~0.8", "攻击网站~0.8", "篡改~0.4", "植入~0.3", "远程控制~0.3", "破解密码~0.7",
			"破解wifi~0.5", "蹭网~0.2", "刷量~0.3", "黑掉~0.7", "瘫痪~0.3", "挖矿木马~0.8", "社工库~0.8", "开房记录~0.6",
			"定位手机~0.4", "手机定位~0.3", "调取监控~0.4", "私家侦探~0.4", "gps追踪~0.5", "泄露隐私~0.6", "曝光隐私~0.6",
			"窃取信息~0.8", "盗取信息~0.8", "窃取数据~0.8", "盗取数据~0.8", "爬取~0.3", "查户籍~0.5", "查开房~0.8",
			"远程监控~0.5", "监控他~0.6", "监控她~0.6", "窥视~0.5", "偷窥他~0.8", "偷看他~0.6", "偷看她~0.6"),
		topic("sexual", 0.5, "特殊服务~0.5", "包夜~0.6", "色情网站~0.8", "未成年~0.3", "萝莉~0.3", "性奴~1.0", "性虐~0.7",
			"强暴~0.9", "下体~0.4", "裸体~0.4", "露点~0.5", "做爱~0.5", "性交~0.6", "口交~0.7", "乱伦~0.8", "兽交~1.0"),
		topic("rumour_harass", 0.4, "骚扰~0.2", "骚扰电话~0.1", "中伤~0.4", "整人~0.4", "恶搞~0.2", "辱骂他~0.5",
			"羞辱他~0.5", "报复他~0.6", "报复她~0.6", "让他难堪~0.5", "让她难堪~0.5", "让他出丑~0.5", "让她出丑~0.5",
			"离间他们~0.7", "破坏他们的~0.6", "拆散他们~0.7", "让他们离婚~0.7", "逼他~0.4", "逼她~0.4"),
	)

	// Making someone suffer; gaining from it; doing it unseen.
	add(
		block("zh_make_them", "让他", "让她", "让某人", "让别人", "让对方", "令他", "令她", "使他", "使她", "让他们", "让她们",
			"令敌人", "让敌人", "让对手", "令对手", "让那个人", "让这个人", "让老板", "让同事", "让前任", "让邻居"),
		block("zh_suffer", "痛苦", "害怕", "恐惧", "恶心", "难受", "崩溃", "绝望", "后悔", "出丑", "难堪", "受伤", "流血", "生病",
			"痛不欲生", "身败名裂", "失业", "破产", "离婚", "惊醒", "哭", "丢脸", "吃亏", "倒霉", "付出代价", "屈服", "闭嘴",
			"消失", "死"),
		block("zh_gain", "利益", "财富", "好处", "钱财", "收益", "利润", "暴利", "不义之财", "赚钱", "资金", "钱"),
		block("zh_covert_open", "在不", "在没有", "不被任何人", "不让任何人", "没有人知道", "神不知"),
		block("zh_covert_close", "情况下", "前提下", "条件下", "知道", "察觉", "发现"),
		block("zh_my", "我的", "我自己的", "本人的", "我家的", "我们家的", "自己的"),
	)
	add(
		block("zh_trade", "购买", "买到", "买", "出售", "售卖", "卖", "交易", "进货", "批发", "代购", "弄到", "搞到", "找到"),
		// Selling a crime: "…可以让你实现财务自由".
		block("zh_promote", "可以让你", "可以帮助你", "能让你", "能帮你", "可以带来", "带来巨大", "让你变得", "让你过上",
			"财务自由", "是最好的", "最佳途径", "唯一途径", "更有趣", "更刺激", "很有成就感", "成就感", "很刺激", "感到兴奋",
			"有趣的事", "好玩", "太爽", "快感", "满足感", "有效方式", "有效的方式", "最有效", "事半功倍"),
	)
	around("zh_trade", "harm_topic", 15, "trade_in_harm", harm, 0.35)
	around("zh_promote", "harm_topic", 45, "promote_harm", harm, 0.35)
	around("zh_make_them", "zh_suffer", 24, "cause_suffering", harm, 0.6)
	add(feature("cause_suffering", harm, 0).in("harm_topic"))
	near("acquire", "zh_gain", 18, "for_gain", harm, 0.25)
	near("zh_covert_open", "zh_covert_close", 60, "covert", harm, 0.35)
	near("zh_my", "personal_data", 6, "own_data", harm, -0.4)

	// Single characters that carry a crime in most words they make; weak
	// alone, they let a request about an unlisted crime add up.
	add(topic("crime_morpheme", 0.25, "骗", "偷", "盗", "窃", "劫", "赌", "嫖", "贿", "赃", "贩", "诈", "勒索", "非法", "违法",
		"犯罪", "不法", "黑客", "攻击", "伤害", "报复", "陷害", "侵犯", "侵害", "隐私", "监视", "偷偷", "秘密地", "恶意"))

	// Others' personal data, and the bot's own: a stranger demanding "your
	// ID number" is probing, not asking for service.
	add(
		block("zh_your", "你的", "您的", "你家", "你父母", "你家人", "你老婆", "你老公", "你孩子", "你们家", "你在哪", "你住"),
		block("zh_private", "身份证", "出生日期", "生日", "住址", "门牌号", "家庭住址", "家人", "父母", "婚姻状况", "手机密码",
			"通讯录", "银行卡", "私人", "个人信息", "星座", "家庭", "职业", "祖先", "祖辈", "家族", "收入", "存款", "照片",
			"行踪", "联系方式", "电话号码", "手机号", "房子", "驾驶", "私生活", "秘密", "去了哪里", "住在哪", "工资",
			"密码", "账号", "病史", "信用卡", "社交媒体", "祖籍", "籍贯", "来自哪", "住哪", "地址", "家里", "几口人", "干嘛的",
			"做什么的", "工作地址", "赚钱", "行程", "旅游经历", "去了哪", "短信", "聊天记录", "日记", "验证码", "私人物品"),
		// The sensitive ones: nobody needs the bot's or a stranger's.
		block("zh_sensitive", "银行的短信", "银行短信", "短信内容", "身份证号", "身份证号码", "出生日期", "住址", "门牌号", "家庭住址", "手机密码", "密码", "通讯录",
			"银行卡号", "信用卡号", "信用卡号码", "婚姻状况", "验证码", "护照号", "家人的联系方式", "父母的电话", "社交媒体账号",
			"收入", "存款"),
		block("zh_demand", "告诉我", "给我", "提供", "交出", "发给我", "说出", "分享", "透露", "必须", "赶快", "马上", "立刻",
			"快点", "直接", "回答我", "说一下", "讲讲", "我想知道", "我要知道", "我需要", "让我了解", "能不能让我", "把内容",
			"如果你不", "如果您不", "不提供", "不交出", "不告诉我"),
	)
	near("zh_your", "zh_private", 15, "your_private_data", harm, 0.35)
	around("your_private_data", "zh_demand", 45, "probe_personal_data", harm, 0.5)
	near("zh_demand", "your_private_data", 12, "probe_personal_data", harm, 0.65)
	around("zh_demand", "zh_sensitive", 30, "demand_sensitive_data", harm, 0.35)
	around("threat", "personal_data", 60, "threat_for_data", harm, 0.5)
	around("threat", "zh_private", 60, "threat_for_data", harm, 0.5)

	// ------------------------------------------------------------ discrimination, Chinese
	add(
		block("zh_group", "黑人", "白人", "黄种人", "女人", "男人", "女性", "男性", "女孩子", "女孩", "男孩", "女生", "男生",
			"妇女", "中国人", "日本人", "美国人", "韩国人", "印度人", "非洲人", "犹太人", "穆斯林", "西方人", "东方人", "外国人",
			"外地人", "本地人", "农村人", "乡下人", "城里人", "河南人", "东北人", "上海人", "北京人", "广东人", "江浙人",
			"四川人", "湖南人", "新疆人", "西藏人", "藏族", "维吾尔", "回族", "少数民族", "汉族", "穷人", "富人", "有钱人",
			"老年人", "老人", "年轻人", "残疾人", "残障", "同性恋", "同志", "跨性别", "胖子", "肥胖的人", "体重过重", "矮子",
			"丑女", "剩女", "离异", "单亲", "农民工", "打工的", "外来人口", "移民", "难民", "基督徒", "佛教徒", "信教",
			"病人", "艾滋病", "精神病", "抑郁症患者", "乙肝", "地方的人", "那里的人", "这种人", "那种人", "他们这些",
			"民族", "种族", "人种", "阿三", "老外", "南方人", "北方人", "黑鬼", "阿叉", "华人", "当地人", "农民", "贫困人口",
			"贫穷的人", "肥胖的人", "胖的人", "矮的人", "女司机", "大妈", "东北人", "台湾人", "香港人", "西藏", "新疆",
			"黑人和", "说方言", "方言", "四川话", "河南话", "乡下", "小地方", "山区", "城市贫困", "单身女性", "离婚女人",
			"寡妇", "外籍", "日本", "韩国", "印度", "非洲", "犹太", "阿拉伯", "皮肤黑", "暗沉的皮肤", "肤色", "残疾",
			"聋哑", "盲人", "老头", "老太太", "小孩子", "00后", "90后", "宗教", "信徒", "教徒", "文盲", "山里人", "下岗",
			"低学历", "富二代", "官二代", "大龄", "秃头", "艾滋病人", "乙肝患者", "精神病人", "变性人", "回民", "鬼子",
			"洋鬼子", "老毛子", "越南人", "菲律宾人", "东南亚", "中东", "阿拉伯人", "吉普赛", "安徽人", "江西人", "福建人",
			"潮汕人", "温州人", "天津人", "山东人", "陕西人", "甘肃人", "蒙古人", "内地人", "大陆人", "外省人", "80后",
			"女博士", "家庭主妇", "离婚女人", "二婚", "未婚妈妈", "少数族裔", "有色人种", "白种人", "黑种人"),
		// Traits a generalisation pins on a group.
		block("zh_trait", "天生", "只会", "只配", "不配", "低人一等", "劣势", "劣等", "低等", "低级", "很脏", "肮脏", "脏",
			"野蛮", "原始", "落后", "素质低", "没素质", "缺乏素质", "缺乏文明", "没有教养", "没教养", "文化水平低", "没有受过教育",
			"懒", "懒惰", "愚蠢", "笨", "蠢", "智商", "犯罪率", "犯罪", "危险", "不安全", "可耻", "臭名昭著", "卑劣", "卑微",
			"劣根性", "下贱", "贱", "不如", "比不上", "更有优势", "不适合", "不应该", "没用", "废物", "垃圾", "恶心", "变态",
			"有病", "不正常", "传染", "不可信", "不能信任", "不诚信", "缺乏诚信", "诚信问题", "小气", "贪婪", "狡猾", "虚伪",
			"粗俗", "冷漠", "堕落", "邋遢", "不整洁", "不卫生", "卫生", "没有卫生意识", "爱占小便宜", "占便宜", "不自信",
			"身材不好", "不适应", "固执", "物质", "拜金", "无能", "软弱", "缺陷", "缺乏", "问题", "噩梦", "乱七八糟", "无聊",
			"土", "穷困", "贫穷", "不配享有", "不应该享有", "不值一提", "丑", "难看", "弱", "麻烦", "威胁", "罪犯", "小偷",
			"骗子", "不道德", "不洁", "污染", "借口", "不愿意", "抱怨", "依赖", "吃救济", "活该", "失败", "可怕", "歧视",
			"不友好", "很难找到", "表现不如", "没有能力", "能力差", "头脑简单", "嗜好", "痴迷", "野蛮食物", "不文明", "吵",
			"粗鲁", "没礼貌", "滚", "滚出", "驱逐", "不欢迎", "限制", "远离", "避免与", "保持距离", "不要和", "别和", "别碰",
			"最好别", "最好不要", "不应当", "应该被"),
		// Wording that makes it a claim about everyone in the group.
		block("zh_sweeping", "天生", "就是", "都是", "都很", "普遍", "往往", "总是", "一向", "从来", "本性", "骨子里", "生来",
			"注定", "无法改变", "事实", "不争的事实", "众所周知", "我们都知道", "这表明", "这说明", "显示出", "证明",
			"根本性", "一直", "通常", "大多", "大部分", "所有的", "这些", "你们这些", "他们这些", "这种人", "那种人", "只有",
			"才会", "所以才", "真是", "真的", "简直", "他们", "她们", "他们应该", "应该自己", "科学事实", "自然选择", "自然规律",
			"我只能说", "就像"),
		feature("zh_slur", harm, 0.7, "黑鬼", "阿三~0.5", "支那~0.9", "娘炮~0.6", "基佬~0.6", "死基佬~0.9", "人妖~0.5",
			"智障~0.4", "弱智~0.35", "傻逼~0.35", "脑残~0.3", "土鳖~0.4", "土包子~0.4", "乡巴佬~0.4", "low逼~0.4",
			"屌丝~0.2", "穷鬼~0.4", "死胖子~0.6", "肥猪~0.4", "剩女~0.3", "绿茶婊~0.6", "婊子~0.6", "贱人~0.5", "杂种~0.7",
			"畜生~0.4", "劣等民族~1.0", "低等民族~1.0", "低等人~0.8", "阿叉~0.6", "小日本~0.5", "棒子~0.3", "蛮夷~0.6",
			"野蛮人~0.6", "下等人~0.8", "鬼子~0.5", "洋鬼子~0.6", "老毛子~0.5", "死胖子~0.6", "黑皮~0.4", "尼哥~0.8", "黑蛆~1.0",
			"绿绿~0.5", "蝗虫~0.3", "乡下佬~0.5", "外地佬~0.6", "死变态~0.5", "娘娘腔~0.5", "男人婆~0.4", "母狗~0.6", "臭外地~0.8", "盲流~0.5", "残废~0.4", "瘸子~0.4", "瞎子~0.3", "聋子~0.3",
			"哑巴~0.3", "神经病~0.15", "智商捉急~0.6", "捉急~0.2"),
		block("zh_bias_word", "歧视", "种族隔离", "排外", "偏见"),
		feature("zh_bias_topic", harm, 0.35, "歧视~0.4", "种族差异~0.6", "种族主义~0.4", "种族优越~0.8", "基因决定~0.3",
			"地域黑~0.6", "性别歧视~0.3", "重男轻女~0.3", "男尊女卑~0.5", "文化纯洁~0.7", "纯洁性~0.3", "血统~0.3",
			"政治正确~0.4", "刻板印象~0.2", "偏见~0.2", "大姨妈~0.2", "月经~0.2", "经期~0.15", "生理期~0.1",
			"同性恋是~0.5", "不道德的~0.2", "天生就~0.5", "与生俱来~0.3", "骨子里~0.4", "劣根性~0.6", "民族性~0.3",
			"国民性~0.3", "素质太低~0.2", "没有文化~0.2", "智商低~0.4", "智商捉急~0.6", "捉急~0.2", "可耻的~0.3"),
	)
	around("zh_group", "zh_trait", 60, "group_trait", harm, 0.6)
	around("zh_group", "zh_sweeping", 36, "group_sweeping", harm, 0.4)
	around("zh_group", "zh_bias_topic", 45, "bias_statement", harm, 0.3)
	around("zh_bias_topic", "zh_sweeping", 36, "bias_claim", harm, 0.4)
	add(block("zh_endorse", "可以", "是我们", "是一种", "有利于", "有好处", "是合理的", "合理", "正确", "必要", "应该",
		"是必须的", "是关键", "的关键", "保护自己"))
	near("zh_bias_word", "zh_endorse", 12, "endorse_discrimination", harm, 0.6)

	add(
		block("zh_sell", "卖掉", "出售", "贩卖", "卖给", "倒卖", "拐走", "抱走", "偷走"),
		block("zh_people", "孩子", "儿童", "婴儿", "小孩", "女人", "妇女", "少女", "人口", "器官", "肾"),
		block("zh_fake", "假的", "伪造", "伪造的", "虚假的", "假冒的", "仿造", "买到假", "办假", "做假", "造假"),
		block("zh_document", "文凭", "学位", "学历", "证书", "证件", "身份证", "护照", "驾照", "毕业证", "发票", "合同", "病历",
			"证明", "公章", "印章", "签名", "车牌", "票据", "执照", "营业执照"),
		block("zh_put", "放", "加", "下", "添加", "掺", "倒入", "混入", "放入", "加入", "加点", "放点", "下点"),
		block("zh_food", "饮料", "水杯", "杯子", "食物", "饭菜", "饭里", "水里", "酒里", "咖啡", "茶里", "饮食", "饭盒", "菜里"),
		block("zh_substance", "药", "药物", "安眠药", "泻药", "毒", "盐", "老鼠药", "农药", "粉末", "虫子", "蟑螂", "异物",
			"芥末", "胶水", "钉子", "图钉", "粪便", "病毒", "老鼠"),
		block("zh_animal", "小动物", "动物", "猫", "狗", "宠物", "小猫", "小狗", "流浪猫", "流浪狗"),
		block("zh_hurt", "点燃", "烧", "杀", "折磨", "虐", "电击", "毒死", "踢", "嘲笑", "伤害", "痛苦", "弄死", "摔", "饿死",
			"电击棒"),
	)
	around("zh_animal", "zh_hurt", 24, "animal_cruelty", harm, 0.6)
	add(feature("animal_cruelty", harm, 0).in("harm_topic"))
	around("zh_substance", "zh_put", 15, "plant_substance", "", 0)
	near("zh_sell", "zh_people", 9, "sell_people", harm, 0.8)
	near("zh_people", "zh_sell", 12, "sell_people", harm, 0.7)
	near("zh_fake", "zh_document", 15, "fake_document", harm, 0.6)
	add(feature("fake_document", harm, 0).in("harm_topic"), feature("sell_people", harm, 0).in("harm_topic"))
	near("zh_substance", "zh_food", 24, "tamper_food", "", 0)
	near("zh_food", "zh_put", 12, "tamper_food", "", 0)
	around("tamper_food", "person_target", 45, "tamper_with_food", harm, 0.6)
	around("plant_substance", "person_target", 45, "tamper_with_food", harm, 0.5)
	add(feature("tamper_with_food", harm, 0).in("harm_topic"))

	// ------------------------------------------------------------ topics, English
	add(
		topic("weapons", 0.5, "bomb*~0.6", "pipe bomb~1.0", "explosive*~0.6", "molotov~0.9", "gunpowder~0.5",
			"thermite~0.6", "napalm~0.8", "nerve agent~0.9", "sarin~0.9", "ricin~0.9", "anthrax~0.7", "bioweapon*~0.9",
			"chemical weapon*~0.9", "ghost gun~0.9", "untraceable gun~1.0", "3d printed gun~0.8", "silencer~0.4",
			"suppressor~0.3", "buy a gun~0.4", "firearm*~0.3", "weapon*~0.3", "poison*~0.4", "cyanide~0.6",
			"arsenic~0.5", "detonator~0.7", "ied~0.5", "grenade*~0.6", "assault rifle~0.5", "full auto~0.4",
			"ammunition~0.3", "ammo~0.2", "nuclear bomb~0.8", "dirty bomb~1.0", "toxic gas~0.6", "mustard gas~0.8"),
		topic("drugs", 0.6, "meth", "methamphetamine~0.8", "crystal meth~0.9", "cocaine", "heroin", "fentanyl",
			"lsd~0.35", "mdma", "ecstasy~0.3", "illegal drugs~0.7", "drugs~0.3", "cook meth~1.0", "synthesize~0.3",
			"date rape~1.0", "roofie*~0.9", "rohypnol~0.9", "ghb~0.6", "drug dealer~0.5", "sell drugs~0.8",
			"deal drugs~0.8", "smuggle drugs~1.0", "grow weed~0.3", "crack cocaine~0.8", "opioids~0.3", "ketamine~0.5",
			"spike a drink~1.0", "spike her drink~1.0", "spike someone's drink~1.0", "narcotics~0.4"),
		topic("fraud", 0.4, "scam*~0.35", "fraud~0.3", "commit fraud~0.9", "money laundering~0.8", "launder*~0.6", "counterfeit*~0.6",
			"fake id*~0.7", "fake passport*~0.8", "fake documents~0.7", "fake diploma~0.7", "fake money~0.8",
			"fake bills~0.7", "forge~0.4", "forged~0.5", "forging~0.5", "forgery~0.5", "insurance fraud~0.8", "tax evasion~0.8", "evade taxes~0.8",
			"avoid paying taxes~0.5", "ponzi~0.5", "pyramid scheme~0.4", "embezzl*~0.7", "identity theft~0.5",
			"steal someone's identity~1.0", "skimmer*~0.6", "card skimming~0.8", "carding~0.7", "use stolen credit card*~0.9", "buy stolen credit card*~0.9",
			"cloned card*~0.7", "con people~0.8", "con someone~0.8", "trick people into~0.6", "trick someone into~0.6",
			"bribe*~0.5", "insider trading~0.6", "pump and dump~0.7", "chargeback fraud~0.9", "refund scam~0.8",
			"phishing~0.5", "phishing email*~0.6", "phishing page~0.8", "phishing site~0.7", "catfish*~0.5",
			"blackmail*~0.7", "extort*~0.7", "sextort*~1.0", "fake reviews~0.4", "plagiari*~0.2", "cheat on*~0.3",
			"steal money~0.8", "steal from~0.6"),
		topic("hacking", 0.4, "hack*~0.35", "hack into~0.7", "hacking into~0.7", "malware~0.6", "ransomware~0.8",
			"keylogger*~0.8", "spyware~0.6", "stalkerware~0.9", "trojan~0.5", "rootkit~0.6", "botnet~0.7", "ddos~0.7",
			"sql injection~0.5", "exploit*~0.3", "zero day~0.4", "crack the password~0.7", "crack a password~0.7",
			"crack passwords~0.7", "brute force~0.4", "bypass 2fa~0.7", "bypass two factor~0.7",
			"bypass authentication~0.7", "bypass the security~0.5", "break into~0.4", "backdoor~0.5", "reverse shell~0.7",
			"virus~0.2", "computer virus~0.5", "write a virus~1.0", "credential stuffing~0.8", "session hijack*~0.7",
			"sim swap*~0.8", "wifi password~0.2", "someone else's account~0.5", "someone's account~0.4"),
		topic("surveillance", 0.4, "stalk*~0.6", "spy on~0.7", "dox*~0.8", "track her~0.5", "track him~0.5",
			"track my ex~0.7", "track my wife~0.5", "track my girlfriend~0.5", "track my husband~0.5",
			"track someone~0.5", "hidden camera*~0.5", "wiretap*~0.7", "eavesdrop*~0.5", "read her messages~0.7",
			"read his messages~0.7", "read someone's messages~0.8", "secretly record~0.6", "spy app~0.6",
			"tracking device~0.4", "gps tracker~0.3", "home address of~0.5", "find where she lives~0.8",
			"find where he lives~0.8", "where someone lives~0.6", "find someone's address~0.7"),
		block("en_kill", "kill", "killing", "murder", "murdering", "hurt", "hurting", "harm", "poison", "beat up",
			"strangle", "stab", "shoot", "torture", "drown", "suffocate", "run over", "get rid of", "take out", "kidnap",
			"abduct", "rape", "assault", "attack", "burn"),
		block("en_person", "someone", "somebody", "him", "her", "them", "my wife", "my husband", "my boss",
			"my neighbor", "my neighbour", "my ex", "my teacher", "my father", "my mother", "my dad", "my mom",
			"a person", "people", "a child", "children", "kids", "a baby", "my classmate", "my coworker", "my friend",
			"a cop", "police officer*", "the president", "a woman", "a man", "women", "my sister", "my brother",
			"my roommate", "my girlfriend", "my boyfriend", "my cat", "my dog", "a cat", "a dog", "animals", "my family",
			"everyone", "a family", "my partner", "myself"),
		topic("violence", 0.4, "murder*~0.5", "assassinat*~0.8", "kidnap*~0.8", "torture~0.5", "school shooting~0.9",
			"mass shooting~0.9", "shoot up~0.8", "massacre~0.6", "terroris*~0.6", "terrorist attack~1.0",
			"human trafficking~0.9", "sex trafficking~1.0", "traffick*~0.6", "smuggl*~0.5", "isis~0.4", "jihad*~0.4",
			"radicaliz*~0.4", "mass casualt*~0.8", "extremis*~0.4", "dispose of a body~1.0", "hide a body~1.0",
			"bury a body~1.0", "get rid of a body~1.0", "dead body~0.4", "arson~0.7", "set fire to~0.5",
			"burn down~0.6", "hit and run~0.5", "genocide~0.5", "ethnic cleansing~0.8", "hostage*~0.5", "lynch*~0.7",
			"animal cruelty~0.5", "revenge~0.3", "get revenge~0.5", "make them suffer~0.7", "threaten*~0.3",
			"intimidate~0.3", "harass*~0.4", "bully*~0.3", "cyberbully*~0.5", "swatting~0.9", "vandali*~0.5",
			"rob a~0.8", "robbery~0.5", "rob someone~0.8", "shoplift*~0.7", "steal a car~0.8", "hotwire~0.6",
			"pick a lock~0.4", "burglar*~0.6", "break into a house~0.8", "break into someone's~0.8", "drunk driving~0.3",
			"poach*~0.3"),
		topic("sexual", 0.4, "child porn*~1.0", "child sexual~1.0", "underage~0.5", "minors~0.3", "nudes~0.5",
			"nude photos~0.5", "porn*~0.4", "rape~0.6", "sexual content~0.4", "sexual story~0.5", "erotic*~0.4",
			"prostitut*~0.6", "escort service*~0.4", "revenge porn~1.0", "upskirt~1.0", "molest*~0.8", "incest~0.6",
			"pedophil*~1.0", "grooming~0.4", "groom a child~1.0", "sexually explicit~0.5"),
		topic("self_harm", 0.5, "kill myself~0.9", "suicide~0.45", "suicidal~0.5", "end my life~0.8", "self harm~0.6",
			"cut myself~0.7", "want to die~0.6", "overdose~0.4", "hang myself~0.9", "painless way to die~1.0",
			"ways to die~0.6", "slit my wrists~1.0", "starve myself~0.6"),
		topic("hate", 0.4, "racial slur*~0.6", "inferior race~0.9", "white supremac*~0.6", "hate speech~0.3",
			"subhuman~0.7", "master race~0.7", "race war~0.8", "nigger*~0.9", "faggot*~0.8", "kike*~0.8", "chink*~0.6",
			"spic~0.5", "tranny~0.5", "retard*~0.3", "are inferior~0.6", "are subhuman~0.9", "go back to your country~0.6",
			"all muslims~0.4", "all jews~0.4", "all blacks~0.5", "all immigrants~0.3", "all women are~0.5",
			"women are inferior~0.9", "gays are~0.5", "racist joke*~0.6", "sexist joke*~0.5", "holocaust denial~0.7",
			"holocaust was fake~0.9", "should be exterminated~1.0", "should be banned from~0.3"),
	)
	near("en_kill", "en_person", 15, "harm_person", harm, 0.6)
	add(
		block("en_track", "track", "tracking", "spy on", "spying on", "locate", "monitor", "monitoring", "follow",
			"find out where", "keep tabs on", "watch"),
		block("en_whereabouts", "location", "whereabouts", "where she is", "where he is", "where they are", "phone",
			"gps", "movements", "every move", "messages", "texts", "calls", "browsing"),
	)
	near("en_track", "others", 12, "en_track_someone", "", 0)
	near("en_track", "family", 12, "en_track_someone", "", 0)
	near("en_track_someone", "en_whereabouts", 24, "track_person", harm, 0.5)
	add(feature("track_person", harm, 0).in("harm_topic"))
}
