package nlu

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestNormalize(t *testing.T) {
	cases := map[string]string{
		"ＨＥＬＬＯ，　世界！":          "hello 世界",
		"我的訂單到哪了？？":           "我的订单到哪了",
		"Don't  CANCEL\tit!!": "dont cancel it",
		"１２３４５":               "12345",
		"":                    "",
	}
	for in, want := range cases {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFold(t *testing.T) {
	cases := map[string]string{
		"ＶＩＰ会员":        "vip会员",
		"我的訂單，ＯＫ？":     "我的订单,ok?",
		"Q&A <Help>":   "q&a <help>",
		"ÉCOLE Straße": "école straße",
		"":             "",
	}
	for in, want := range cases {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDetectLanguage(t *testing.T) {
	cases := map[string]Lang{
		"我的订单到哪了":                            LangZH,
		"where is my order":                  LangEN,
		"我的order怎么还没到":                       LangZH,
		"can I change the 收货地址 for my order": LangMixed,
		"12345 !!!":                          LangUnknown,
		"ＨＥＬＬＯ":                              LangEN,
	}
	for in, want := range cases {
		if got := DetectLanguage(in); got != want {
			t.Errorf("DetectLanguage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFeaturesCoverBothScripts(t *testing.T) {
	var fs []string
	Features(Normalize("退款refunds 2024"), func(f string) { fs = append(fs, f) })
	joined := strings.Join(fs, " ")
	for _, want := range []string{"c:退", "c:退款", "w:refund", "g:<re", "n:4"} {
		if !strings.Contains(" "+joined+" ", " "+want+" ") {
			t.Errorf("features %v lack %s", fs, want)
		}
	}
}

func toyExamples() []Example {
	var ex []Example
	for i, q := range []string{"运费多少", "包邮吗", "邮费怎么算", "how much is shipping", "shipping cost", "delivery fee"} {
		ex = append(ex, Example{q, "fee"}, Example{fmt.Sprintf("退款%d天能到吗", i%3+1), "refund"})
	}
	for _, q := range []string{"refund status", "where is my refund", "退款进度", "钱什么时候退回来", "refund not received", "退款到哪了"} {
		ex = append(ex, Example{q, "refund"})
	}
	for _, q := range []string{"今天天气", "tell me a story", "讲个笑话", "who won the match", "写首诗", "what is 2 plus 2"} {
		ex = append(ex, Example{q, "oos"})
	}
	return ex
}

func TestTrainIsDeterministicAndCalibrated(t *testing.T) {
	a, err := Train(toyExamples(), TrainOptions{OOSLabel: "oos"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Train(toyExamples(), TrainOptions{OOSLabel: "oos"})
	for _, q := range []string{"运费是多少钱", "where is my refund money", "讲个故事"} {
		pa, pb := a.Predict(Prepare(q)), b.Predict(Prepare(q))
		if pa.Label != pb.Label || pa.Confidence != pb.Confidence {
			t.Fatalf("training is not deterministic: %+v vs %+v", pa, pb)
		}
	}
	if p := a.Predict(Prepare("运费是多少钱")); p.Label != "fee" || p.OutOfScope || p.Confidence < 0.5 || p.Confidence > 1 {
		t.Errorf("fee question: %+v", p)
	}
	if p := a.Predict(Prepare("my refund has not arrived")); p.Label != "refund" || p.OutOfScope {
		t.Errorf("refund question: %+v", p)
	}
	if p := a.Predict(Prepare("给我讲个笑话吧")); !p.OutOfScope {
		t.Errorf("joke: %+v, want out of scope", p)
	}
	if p := a.Predict(Prepare("¿¿¿")); !p.OutOfScope || len(p.Candidates) != 0 {
		t.Errorf("no known feature: %+v", p)
	}
	if _, err := Train(nil, TrainOptions{}); err != ErrNoExamples {
		t.Errorf("Train(nil) = %v", err)
	}
}

func TestNegativeEmotion(t *testing.T) {
	calm := []string{"我的订单到哪了", "how much is shipping", "谢谢你", "还没收到货，帮我查一下"}
	angry := []string{"你们这什么垃圾服务，气死我了！！！我要投诉！", "THIS IS RIDICULOUS, you are useless scammers!!!",
		"骗子商家，我要去12315投诉你们", "worst service ever, absolutely unacceptable, I want my money back now"}
	for _, s := range calm {
		if e := NegativeEmotion(Prepare(s)); e >= 0.5 {
			t.Errorf("calm %q scored %.2f", s, e)
		}
	}
	for _, s := range angry {
		if e := NegativeEmotion(Prepare(s)); e < 0.8 {
			t.Errorf("angry %q scored %.2f", s, e)
		}
	}
}

func BenchmarkPredict(b *testing.B) {
	m, _ := Train(toyExamples(), TrainOptions{OOSLabel: "oos"})
	b.ReportAllocs()
	for b.Loop() {
		m.Predict(Prepare("我想问一下运费是多少 how much is shipping"))
	}
}

// The lexicon must never call a calm customer angry: that would hand them
// to a human for nothing. testdata/emotion.yaml is hand-written.
func TestNegativeEmotionHasNoFalseAnger(t *testing.T) {
	b, err := os.ReadFile("testdata/emotion.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var d struct{ Angry, Calm []string }
	if err := yaml.Unmarshal(b, &d); err != nil || len(d.Calm) < 100 || len(d.Angry) < 100 {
		t.Fatalf("emotion examples: %v (%d calm, %d angry)", err, len(d.Calm), len(d.Angry))
	}
	for _, s := range d.Calm {
		if e := NegativeEmotion(Prepare(s)); e >= 0.8 {
			t.Errorf("calm %q scored %.2f", s, e)
		}
	}
	caught := 0
	for _, s := range d.Angry {
		if NegativeEmotion(Prepare(s)) >= 0.8 {
			caught++
		}
	}
	t.Logf("angry messages the lexicon calls angry: %d/%d", caught, len(d.Angry))
}

func TestModelRoundTrip(t *testing.T) {
	examples := []Example{
		{Text: "where is my order", Label: "track"}, {Text: "track my parcel", Label: "track"},
		{Text: "我的快递到哪了", Label: "track"}, {Text: "I want a refund", Label: "refund"},
		{Text: "how do I get my money back", Label: "refund"}, {Text: "怎么退款", Label: "refund"},
		{Text: "tell me a joke", Label: "oos"}, {Text: "what's the weather", Label: "oos"},
	}
	m, err := Train(examples, TrainOptions{OOSLabel: "oos"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	again, err := m.MarshalBinary()
	if err != nil || !bytes.Equal(data, again) {
		t.Fatalf("encoding is not deterministic (err %v)", err)
	}
	back, err := UnmarshalModel(data)
	if err != nil {
		t.Fatal(err)
	}
	if m.net == nil || back.net == nil {
		t.Fatalf("the network did not round-trip (trained %v, loaded %v)", m.net != nil, back.net != nil)
	}
	for _, q := range []string{"where's my parcel", "退款怎么弄", "weather tomorrow", "zzz"} {
		a, b := m.Predict(Prepare(q)), back.Predict(Prepare(q))
		if a.Label != b.Label || a.Confidence != b.Confidence || a.OutOfScope != b.OutOfScope {
			t.Errorf("%q: before %+v, after %+v", q, a, b)
		}
	}
	if _, err := UnmarshalModel(data[:len(data)/2]); err == nil {
		t.Error("a truncated model decoded without error")
	}
}

// TestTop3 checks the candidates' selection against sorting: best first,
// the lower class first on a tie, the background class never among them.
func TestTop3(t *testing.T) {
	cases := []struct {
		probs []float64
		oos   int
		want  []int
	}{
		{[]float64{0.1, 0.5, 0.2, 0.15, 0.05}, -1, []int{1, 2, 3}},
		{[]float64{0.1, 0.5, 0.2, 0.15, 0.05}, 1, []int{2, 3, 0}},
		{[]float64{0.3, 0.3, 0.1, 0.3}, -1, []int{0, 1, 3}},
		{[]float64{0.9, 0.1}, -1, []int{0, 1}},
		{[]float64{0.2, 0.8}, 1, []int{0}},
		{[]float64{1}, 0, []int{}},
		{[]float64{0.01, 0.02, 0.03, 0.04, 0.9}, -1, []int{4, 3, 2}},
	}
	for _, tc := range cases {
		m := &Model{oos: tc.oos}
		if got := m.top3(tc.probs); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("top3(%v, oos %d) = %v, want %v", tc.probs, tc.oos, got, tc.want)
		}
	}
}
