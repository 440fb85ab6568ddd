package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/steward-cs/steward/internal/knowledge"
)

// A synthetic knowledge base is a shop catalogue's FAQ: each entry is one
// question (an aspect: battery life, warranty, ...) about one product (a
// model of a product line, "K3 wireless earbuds"), in Chinese and English.
// Every (product, aspect) pair is a distinct intent, as in a real
// catalogue, where "how long does the K3's battery last" and the same about
// the K4 have different answers.

// productLine is a kind of product, in both languages.
type productLine struct{ slug, zh, en string }

var productLines = [...]productLine{
	{"earbuds", "无线耳机", "wireless earbuds"}, {"shoes", "跑步鞋", "running shoes"}, {"bottle", "保温杯", "insulated bottle"},
	{"rice-cooker", "电饭煲", "rice cooker"}, {"vacuum", "扫地机器人", "robot vacuum"}, {"keyboard", "机械键盘", "mechanical keyboard"},
	{"backpack", "双肩包", "backpack"}, {"jacket", "羽绒服", "down jacket"}, {"watch", "智能手表", "smartwatch"},
	{"air-fryer", "空气炸锅", "air fryer"}, {"toothbrush", "电动牙刷", "electric toothbrush"}, {"suitcase", "行李箱", "suitcase"},
	{"lamp", "台灯", "desk lamp"}, {"power-bank", "充电宝", "power bank"}, {"speaker", "蓝牙音箱", "bluetooth speaker"},
	{"yoga-mat", "瑜伽垫", "yoga mat"}, {"coffee-machine", "咖啡机", "coffee machine"}, {"hair-dryer", "吹风机", "hair dryer"},
	{"stroller", "婴儿推车", "baby stroller"}, {"car-seat", "儿童安全座椅", "child car seat"}, {"tablet", "平板电脑", "tablet"},
	{"monitor", "显示器", "monitor"}, {"router", "无线路由器", "wifi router"}, {"purifier", "净水器", "water purifier"},
	{"humidifier", "加湿器", "humidifier"}, {"kettle", "电热水壶", "electric kettle"}, {"jeans", "牛仔裤", "jeans"},
	{"dress", "连衣裙", "dress"}, {"sunglasses", "太阳镜", "sunglasses"}, {"mattress", "床垫", "mattress"},
	{"bedding", "床上四件套", "bedding set"}, {"wok", "炒锅", "wok"}, {"knives", "刀具套装", "knife set"},
	{"bicycle", "自行车", "bicycle"}, {"tent", "帐篷", "camping tent"}, {"controller", "游戏手柄", "game controller"},
	{"camera", "相机", "camera"}, {"projector", "投影仪", "projector"}, {"shaver", "电动剃须刀", "electric shaver"},
	{"massage-chair", "按摩椅", "massage chair"}, {"cat-food", "猫粮", "cat food"}, {"dog-bed", "狗窝", "dog bed"},
	{"face-cream", "面霜", "face cream"}, {"shampoo", "洗发水", "shampoo"}, {"reading-lamp", "护眼灯", "reading lamp"},
	{"storage-box", "收纳箱", "storage box"}, {"office-chair", "办公椅", "office chair"}, {"treadmill", "跑步机", "treadmill"},
	{"juicer", "榨汁机", "juicer"}, {"phone-case", "手机壳", "phone case"},
}

// aspect is a question customers ask about any product: {p} is the
// product's name, {n} a number that varies by entry. Questions train the
// model; Query is a held-out wording the benchmark asks.
type aspect struct {
	slug, category string
	enTitle        string
	en             [3]string
	enQuery        string
	enAnswer       string
	zhTitle        string
	zh             [3]string
	zhQuery        string
	zhAnswer       string
}

var aspects = [...]aspect{
	{"battery-life", "specs", "{p} battery life", [3]string{"how long does the {p} battery last", "{p} battery life", "how many hours does the {p} run on one charge"}, "what is the battery life of the {p}",
		"On a full charge the {p} runs for about {n} hours of typical use.",
		"{p}的续航", [3]string{"{p}的电池能用多久", "{p}续航怎么样", "{p}充满电能用几个小时"}, "{p}电池耐用吗 能撑多久", "{p}充满电后正常使用约可续航{n}小时。"},
	{"charging-time", "specs", "{p} charging time", [3]string{"how long does the {p} take to charge", "{p} charging time", "how fast does the {p} charge"}, "how many hours to fully charge the {p}",
		"The {p} charges fully in about {n}0 minutes with the supplied cable.",
		"{p}的充电时间", [3]string{"{p}充电要多久", "{p}充满需要多长时间", "{p}充电快吗"}, "{p}从没电到充满要几个小时", "{p}使用原装线约{n}0分钟可以充满。"},
	{"size-guide", "sizing", "{p} size guide", [3]string{"what size {p} should i get", "{p} size chart", "does the {p} run small or large"}, "how do i pick the right size of {p}",
		"The {p} follows standard sizing; the size chart on the product page lists measurements for every size.",
		"{p}尺码指南", [3]string{"{p}我该选哪个尺码", "{p}尺码表在哪", "{p}偏大还是偏小"}, "{p}怎么选尺码合适", "{p}为标准尺码，商品页的尺码表列出了每个尺码的具体尺寸。"},
	{"weight", "specs", "{p} weight", [3]string{"how heavy is the {p}", "what does the {p} weigh", "{p} weight"}, "is the {p} light or heavy",
		"The {p} weighs about {n}00 grams.",
		"{p}的重量", [3]string{"{p}有多重", "{p}重量是多少", "{p}重不重"}, "{p}拿着沉吗 多少克", "{p}重约{n}00克。"},
	{"dimensions", "specs", "{p} dimensions", [3]string{"what are the dimensions of the {p}", "how big is the {p}", "{p} measurements"}, "what size is the {p} in centimetres",
		"The {p} measures about {n}0 cm at its longest side; every dimension is listed under Specifications.",
		"{p}的尺寸", [3]string{"{p}尺寸是多少", "{p}有多大", "{p}长宽高多少"}, "{p}具体多大 几厘米", "{p}最长边约{n}0厘米，详细尺寸见商品页的规格参数。"},
	{"material", "specs", "{p} material", [3]string{"what is the {p} made of", "{p} material", "what material is used in the {p}"}, "which materials does the {p} use",
		"The {p} is made of durable, certified materials listed in full under Specifications.",
		"{p}的材质", [3]string{"{p}是什么材质", "{p}用的什么材料", "{p}材质好不好"}, "{p}是用什么做的", "{p}采用经过认证的耐用材料，完整材质信息见规格参数。"},
	{"colours", "specs", "{p} colours", [3]string{"what colours does the {p} come in", "{p} colour options", "is the {p} available in black"}, "which colours can i choose for the {p}",
		"The {p} comes in {n} colours; the product page shows which are in stock.",
		"{p}的颜色", [3]string{"{p}有哪些颜色", "{p}颜色可以选吗", "{p}有黑色的吗"}, "{p}一共几种颜色可选", "{p}共有{n}种颜色，商品页会显示有货的颜色。"},
	{"waterproof", "specs", "{p} water resistance", [3]string{"is the {p} waterproof", "can the {p} get wet", "{p} water resistance rating"}, "can i use the {p} in the rain",
		"The {p} resists splashes and rain but should not be submerged.",
		"{p}的防水性能", [3]string{"{p}防水吗", "{p}能沾水吗", "{p}防水等级是多少"}, "{p}下雨天能用吗", "{p}可以防溅防雨，但请勿浸泡在水中。"},
	{"warranty-period", "warranty", "{p} warranty period", [3]string{"how long is the warranty on the {p}", "{p} warranty", "is the {p} under warranty"}, "what warranty comes with the {p}",
		"The {p} carries a {n}-month warranty from the delivery date.",
		"{p}的保修期", [3]string{"{p}保修多久", "{p}有保修吗", "{p}质保期是多长"}, "{p}买了以后保几年", "{p}自签收之日起保修{n}个月。"},
	{"warranty-claim", "warranty", "{p} warranty claim", [3]string{"how do i make a warranty claim for the {p}", "my {p} broke under warranty", "{p} warranty repair request"}, "the {p} stopped working what do i do under warranty",
		"Open the order, tap After-sales → Warranty for the {p}, describe the fault and we arrange a free pickup.",
		"{p}保修申请", [3]string{"{p}坏了怎么申请保修", "{p}保修怎么弄", "{p}在保修期内坏了"}, "{p}不工作了 保修怎么处理", "在订单里点「售后 → 保修」，描述{p}的故障，我们会安排免费上门取件。"},
	{"repair", "warranty", "{p} repair", [3]string{"can the {p} be repaired", "where can i repair my {p}", "{p} repair cost"}, "how much does it cost to fix the {p}",
		"Out-of-warranty repairs of the {p} are quoted after inspection; the inspection is free.",
		"{p}维修", [3]string{"{p}能修吗", "{p}在哪里维修", "{p}维修要多少钱"}, "{p}坏了修一下多少钱", "{p}过保维修在检测后报价，检测免费。"},
	{"spare-parts", "accessories", "{p} spare parts", [3]string{"can i buy spare parts for the {p}", "{p} replacement parts", "where do i get parts for my {p}"}, "do you sell parts for the {p}",
		"Spare parts for the {p} are sold in the Accessories tab of its product page.",
		"{p}的配件", [3]string{"{p}有配件卖吗", "{p}的替换零件在哪买", "{p}配件怎么买"}, "{p}零件单独卖吗", "{p}的配件在商品页的「配件」标签下购买。"},
	{"in-the-box", "accessories", "What comes with the {p}", [3]string{"what comes in the box with the {p}", "what is included with the {p}", "{p} package contents"}, "what do i get in the {p} package",
		"The {p} box holds the product, a quick-start guide, the warranty card and {n} accessories.",
		"{p}包装清单", [3]string{"{p}包装里有什么", "{p}都带哪些东西", "{p}附件有哪些"}, "买{p}送什么 盒子里有啥", "{p}包装内含主机、快速入门指南、保修卡和{n}件附件。"},
	{"compatibility", "specs", "{p} compatibility", [3]string{"is the {p} compatible with iphone", "does the {p} work with android", "{p} compatibility"}, "will the {p} work with my phone",
		"The {p} works with iOS and Android phones released in the last {n} years.",
		"{p}兼容性", [3]string{"{p}支持苹果手机吗", "{p}安卓能用吗", "{p}兼容哪些设备"}, "{p}我的手机能用吗", "{p}兼容近{n}年发布的苹果和安卓手机。"},
	{"manual", "usage", "{p} user manual", [3]string{"where is the {p} manual", "{p} user guide", "can i download the {p} instructions"}, "i lost the {p} instructions",
		"The {p} manual can be downloaded as a PDF from the Support tab of its product page.",
		"{p}说明书", [3]string{"{p}说明书在哪", "{p}使用说明", "{p}说明书能下载吗"}, "{p}的说明书丢了怎么办", "{p}的说明书可在商品页「支持」标签下载PDF。"},
	{"setup", "usage", "Setting up the {p}", [3]string{"how do i set up the {p}", "{p} setup", "first time using the {p}"}, "how to get started with the {p}",
		"Charge the {p}, hold the power button for {n} seconds and follow the quick-start guide.",
		"{p}初次使用", [3]string{"{p}怎么设置", "{p}第一次怎么用", "{p}如何安装使用"}, "{p}刚收到怎么开始用", "先给{p}充电，长按电源键{n}秒，然后按快速入门指南操作。"},
	{"reset", "usage", "Resetting the {p}", [3]string{"how do i reset the {p}", "{p} factory reset", "my {p} is frozen how to restart"}, "how to restore the {p} to factory settings",
		"Hold the {p}'s power and volume buttons together for {n} seconds to restore factory settings.",
		"{p}恢复出厂设置", [3]string{"{p}怎么重置", "{p}恢复出厂", "{p}死机了怎么重启"}, "{p}怎么还原成出厂状态", "同时按住{p}的电源键和音量键{n}秒即可恢复出厂设置。"},
	{"cleaning", "care", "Cleaning the {p}", [3]string{"how do i clean the {p}", "{p} cleaning", "can i wash the {p}"}, "what is the best way to clean the {p}",
		"Wipe the {p} with a soft damp cloth; do not use solvents or put it in a dishwasher.",
		"{p}清洁方法", [3]string{"{p}怎么清洗", "{p}脏了怎么办", "{p}可以水洗吗"}, "{p}怎么清洁比较好", "用柔软的湿布擦拭{p}，请勿使用溶剂，也不要放进洗碗机。"},
	{"storage", "care", "Storing the {p}", [3]string{"how should i store the {p}", "{p} storage tips", "can i leave the {p} in a cold car"}, "where should i keep the {p} when not in use",
		"Store the {p} dry, out of direct sun, between 0 and {n}5 °C.",
		"{p}存放方法", [3]string{"{p}怎么存放", "{p}不用的时候怎么保存", "{p}能放在冷的车里吗"}, "{p}平时放哪比较好", "{p}请存放在干燥避光处，温度保持在0到{n}5摄氏度之间。"},
	{"in-stock", "stock", "Is the {p} in stock", [3]string{"is the {p} in stock", "{p} availability", "do you have the {p} right now"}, "can i buy the {p} today",
		"The {p} is in stock when the product page shows Add to cart; stock updates in real time.",
		"{p}是否有货", [3]string{"{p}有货吗", "{p}还有库存吗", "{p}现在能买到吗"}, "{p}今天能下单吗", "商品页显示「加入购物车」即表示{p}有货，库存实时更新。"},
	{"restock", "stock", "When the {p} is back", [3]string{"when will the {p} be back in stock", "{p} restock date", "notify me when the {p} is available"}, "the {p} is sold out when will you have more",
		"Tap Notify me on the {p} page; restocks usually arrive within {n} days.",
		"{p}补货时间", [3]string{"{p}什么时候补货", "{p}缺货了什么时候有", "{p}到货提醒"}, "{p}卖完了 啥时候再有", "在{p}页面点「到货提醒」，一般{n}天内补货。"},
	{"preorder", "stock", "Pre-ordering the {p}", [3]string{"can i preorder the {p}", "{p} preorder", "when does the {p} preorder ship"}, "is there a presale for the {p}",
		"Pre-orders of the {p} ship within {n} days of the release date shown on its page.",
		"{p}预售", [3]string{"{p}可以预订吗", "{p}预售什么时候发货", "{p}怎么预约购买"}, "{p}有预售吗", "{p}预售订单在页面标注的发售日后{n}天内发货。"},
	{"ship-time", "shipping", "When the {p} ships", [3]string{"when will my {p} ship", "{p} shipping time", "how long until the {p} arrives"}, "how many days does the {p} take to arrive",
		"The {p} ships within 48 hours of payment and arrives {n} days later on the mainland.",
		"{p}发货时间", [3]string{"{p}什么时候发货", "{p}几天能到", "{p}多久到货"}, "买了{p}要等几天", "{p}付款后48小时内发货，内地一般{n}天送达。"},
	{"ship-abroad", "shipping", "Shipping the {p} abroad", [3]string{"do you ship the {p} overseas", "can the {p} be sent to hong kong", "{p} international shipping"}, "can i get the {p} delivered abroad",
		"The {p} ships to Hong Kong, Macao and Taiwan; other destinations are not yet served.",
		"{p}海外配送", [3]string{"{p}能寄到国外吗", "{p}可以发香港吗", "{p}支持国际配送吗"}, "{p}能送到海外吗", "{p}可配送至港澳台地区，其他海外地区暂不支持。"},
	{"returns", "returns", "Returning the {p}", [3]string{"can i return the {p}", "{p} return policy", "how do i send back the {p}"}, "i want to return my {p}",
		"The {p} can be returned within 7 days of delivery if unused and in its original packaging.",
		"{p}退货", [3]string{"{p}能退吗", "{p}退货政策", "{p}怎么退回"}, "{p}我不想要了能退吗", "{p}签收后7天内，未使用且包装完好可以退货。"},
	{"exchange", "returns", "Exchanging the {p}", [3]string{"can i exchange the {p} for another size", "{p} exchange", "swap my {p} for a different colour"}, "how do i change my {p} for another one",
		"Exchange the {p} within 15 days: open the order, tap After-sales → Exchange and pick the new option.",
		"{p}换货", [3]string{"{p}能换尺码吗", "{p}怎么换货", "{p}可以换颜色吗"}, "{p}想换一个怎么弄", "{p}签收15天内可换货：在订单里点「售后 → 换货」并选择新规格。"},
	{"price-drop", "pricing", "{p} price drop", [3]string{"the {p} got cheaper after i bought it", "{p} price protection", "refund the difference on the {p}"}, "the price of the {p} dropped can i get money back",
		"If the {p}'s price drops within {n} days of your purchase, apply for price protection in the order.",
		"{p}降价补差", [3]string{"{p}买完就降价了", "{p}有价保吗", "{p}能退差价吗"}, "{p}刚买就便宜了怎么办", "购买{p}后{n}天内降价，可在订单里申请价格保护。"},
	{"discount", "pricing", "{p} discounts", [3]string{"is there a discount on the {p}", "{p} coupon", "when is the {p} on sale"}, "can i get the {p} cheaper",
		"Coupons that apply to the {p} are listed on its page; the next sale starts in about {n} days.",
		"{p}优惠", [3]string{"{p}有优惠吗", "{p}能用优惠券吗", "{p}什么时候打折"}, "{p}怎么买更便宜", "{p}可用的优惠券列在商品页，下一次促销约{n}天后开始。"},
	{"invoice", "pricing", "Invoice for the {p}", [3]string{"can i get an invoice for the {p}", "{p} fapiao", "company invoice for my {p} order"}, "i need a receipt for the {p}",
		"Request an electronic invoice for the {p} under Order details → Invoice; it arrives within {n} days.",
		"{p}发票", [3]string{"{p}能开发票吗", "{p}怎么开专票", "{p}订单要公司发票"}, "买{p}的发票在哪开", "在订单详情里点「发票」即可为{p}申请电子发票，{n}天内开具。"},
	{"gift-wrap", "service", "Gift wrapping the {p}", [3]string{"can you gift wrap the {p}", "{p} gift packaging", "send the {p} as a gift"}, "i want to give the {p} as a present",
		"Choose Gift wrap at checkout: the {p} is wrapped and the price left off the packing slip.",
		"{p}礼品包装", [3]string{"{p}能包装成礼物吗", "{p}有礼盒吗", "{p}送人怎么包装"}, "{p}想送朋友 能包一下吗", "结算时选择「礼品包装」，{p}会被包装好，且装箱单不显示价格。"},
	{"engraving", "service", "Engraving the {p}", [3]string{"can i engrave the {p}", "{p} personalisation", "add my name to the {p}"}, "is custom engraving available for the {p}",
		"Engraving of up to {n} characters is available for the {p} and adds 2 days to dispatch.",
		"{p}刻字", [3]string{"{p}能刻字吗", "{p}可以定制吗", "{p}能刻名字吗"}, "{p}支持个性化刻字吗", "{p}支持最多{n}个字符的刻字，发货时间顺延2天。"},
	{"installation", "service", "Installing the {p}", [3]string{"do you install the {p}", "{p} installation service", "who will install my {p}"}, "is installation included with the {p}",
		"Free installation of the {p} is booked automatically; a technician calls within {n} days of delivery.",
		"{p}安装", [3]string{"{p}包安装吗", "{p}安装服务", "{p}谁来装"}, "买{p}送安装吗", "{p}免费安装会自动预约，师傅会在签收后{n}天内联系您。"},
	{"trade-in", "service", "Trading in for the {p}", [3]string{"can i trade in my old one for the {p}", "{p} trade-in", "{p} old for new discount"}, "is there a trade-in offer on the {p}",
		"Trade in an old device when you buy the {p} and get up to {n}00 yuan off after inspection.",
		"{p}以旧换新", [3]string{"{p}能以旧换新吗", "{p}旧的换新的", "{p}回收旧机"}, "买{p}旧的能抵钱吗", "购买{p}时可以旧换新，检测后最高抵扣{n}00元。"},
	{"certification", "specs", "{p} certification", [3]string{"is the {p} certified", "does the {p} have ccc certification", "{p} safety certificates"}, "what certificates does the {p} have",
		"The {p} holds CCC certification; the certificate number is printed on its label.",
		"{p}认证", [3]string{"{p}有认证吗", "{p}有3C认证吗", "{p}安全证书"}, "{p}通过了哪些认证", "{p}已通过3C认证，证书编号印在产品标签上。"},
	{"child-safety", "safety", "{p} and children", [3]string{"is the {p} safe for children", "can kids use the {p}", "{p} child safety"}, "is the {p} ok for my toddler",
		"The {p} is safe for children over {n} years old under adult supervision.",
		"{p}儿童安全", [3]string{"{p}小孩能用吗", "{p}对儿童安全吗", "{p}孩子用安全吗"}, "{p}给宝宝用可以吗", "{p}适合{n}岁以上儿童在成人看护下使用。"},
	{"allergy", "safety", "{p} and allergies", [3]string{"is the {p} hypoallergenic", "{p} allergy", "will the {p} irritate sensitive skin"}, "i have allergies can i use the {p}",
		"The {p} is tested for skin tolerance; check the full ingredient list on its page if you have allergies.",
		"{p}过敏", [3]string{"{p}会过敏吗", "{p}敏感肌能用吗", "{p}低敏吗"}, "我容易过敏 {p}能用吗", "{p}通过了皮肤耐受测试，如有过敏史请查看商品页的完整成分表。"},
	{"noise", "specs", "{p} noise level", [3]string{"how loud is the {p}", "{p} noise level", "is the {p} quiet"}, "does the {p} make a lot of noise",
		"The {p} runs at about {n}5 dB, quieter than normal conversation.",
		"{p}噪音", [3]string{"{p}声音大吗", "{p}噪音多少分贝", "{p}安静吗"}, "{p}用起来吵不吵", "{p}运行噪音约{n}5分贝，比正常说话声还小。"},
	{"voltage", "specs", "{p} voltage", [3]string{"what voltage does the {p} use", "can i use the {p} abroad", "{p} power supply"}, "does the {p} work on 110 volts",
		"The {p} takes 100–240 V; abroad you only need a plug adapter.",
		"{p}电压", [3]string{"{p}用多少伏的电", "{p}出国能用吗", "{p}电源规格"}, "{p}在110伏电压下能用吗", "{p}支持100–240伏宽电压，出国只需转换插头。"},
	{"app", "usage", "The {p} app", [3]string{"is there an app for the {p}", "{p} app download", "how do i connect the {p} to the app"}, "which app does the {p} use",
		"Download the Steward Home app and add the {p} under Devices → Add.",
		"{p}配套App", [3]string{"{p}有App吗", "{p}App在哪下载", "{p}怎么连接App"}, "{p}用哪个App控制", "下载「小管家家居」App，在「设备 → 添加」中添加{p}。"},
	{"firmware", "usage", "Updating the {p}", [3]string{"how do i update the {p} firmware", "{p} software update", "is there new firmware for the {p}"}, "how to upgrade the {p} software",
		"The {p} updates itself through the app; version {n}.0 is the latest.",
		"{p}固件升级", [3]string{"{p}怎么升级固件", "{p}系统更新", "{p}有新固件吗"}, "{p}软件怎么升级", "{p}会通过App自动升级，最新版本为{n}.0。"},
}

// modelCode names the i-th model of a product line: A1, A2, ..., Z9.
func modelCode(i int) string {
	letters := "ABCDEFGHJKLMNPQRSTUVWXYZ" // no I or O
	return fmt.Sprintf("%c%d", letters[i/9%len(letters)], i%9+1)
}

// maxSyntheticEntries is how many distinct entries syntheticKB can make.
const maxSyntheticEntries = len(productLines) * 24 * 9 * len(aspects)

// kbProduct is the p-th product: product lines first, then models, so
// that a small knowledge base already spans many product lines.
func kbProduct(p int) (slug, zh, en string) {
	line := productLines[p%len(productLines)]
	code := modelCode(p / len(productLines))
	return line.slug + "-" + strings.ToLower(code), code + line.zh, code + " " + line.en
}

func fill(tmpl, product string, n int) string {
	return strings.NewReplacer("{p}", product, "{n}", fmt.Sprint(n)).Replace(tmpl)
}

// syntheticKB returns n distinct bilingual entries (n at most
// maxSyntheticEntries).
func syntheticKB(n int) ([]knowledge.Entry, error) {
	if n < 1 || n > maxSyntheticEntries {
		return nil, fmt.Errorf("a synthetic knowledge base has 1 to %d entries, not %d", maxSyntheticEntries, n)
	}
	entries := make([]knowledge.Entry, n)
	for i := range entries {
		p, a := i/len(aspects), &aspects[i%len(aspects)]
		slug, zh, en := kbProduct(p)
		num := 2 + (p*7+i)%20
		e := knowledge.Entry{ID: slug + "-" + a.slug, Category: a.category, Tags: []string{a.slug, slug},
			Locales: map[string]knowledge.Content{
				knowledge.LocaleZH: {Title: fill(a.zhTitle, zh, num), Answer: fill(a.zhAnswer, zh, num)},
				knowledge.LocaleEN: {Title: fill(a.enTitle, en, num), Answer: fill(a.enAnswer, en, num)},
			}}
		zc, ec := e.Locales[knowledge.LocaleZH], e.Locales[knowledge.LocaleEN]
		for k := range a.zh {
			zc.Questions = append(zc.Questions, fill(a.zh[k], zh, num))
			ec.Questions = append(ec.Questions, fill(a.en[k], en, num))
		}
		e.Locales[knowledge.LocaleZH], e.Locales[knowledge.LocaleEN] = zc, ec
		entries[i] = e
	}
	return entries, nil
}

// kbQuery is a held-out question about one entry of a synthetic knowledge
// base: the wording was not trained on.
type kbQuery struct {
	text  string
	entry string
}

// syntheticQueries returns n held-out questions about entries of a
// synthetic knowledge base of size entries, alternating locales.
func syntheticQueries(size, n int) []kbQuery {
	rng := rand.New(rand.NewPCG(uint64(size), 0x9e7))
	qs := make([]kbQuery, n)
	for k := range qs {
		i := rng.IntN(size)
		p, a := i/len(aspects), &aspects[i%len(aspects)]
		slug, zh, en := kbProduct(p)
		num := 2 + (p*7+i)%20
		text := fill(a.enQuery, en, num)
		if k%2 == 0 {
			text = fill(a.zhQuery, zh, num)
		}
		qs[k] = kbQuery{text: text, entry: slug + "-" + a.slug}
	}
	return qs
}
