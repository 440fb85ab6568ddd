package knowledge

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/steward-cs/steward/internal/nlu"
)

// GateOptions are the quality gate's limits.
type GateOptions struct {
	// MinAccuracy is the lowest cross-validated accuracy a release may
	// have (default 0.4: a floor against disaster; paraphrases held out
	// from the demo knowledge base score about 0.5, where one entry in
	// five keeps three to five variants).
	MinAccuracy float64 `yaml:"min_accuracy"`
	// MaxAccuracyDrop is how far the accuracy may fall below the active
	// release's (default 0.05).
	MaxAccuracyDrop float64 `yaml:"max_accuracy_drop"`
	// Folds is the number of cross-validation folds (default 5).
	Folds int `yaml:"folds"`
	// MaxHeldOut bounds the questions held out in all folds together, so a
	// large knowledge base publishes in bounded time (default 2000).
	MaxHeldOut int `yaml:"max_held_out"`
	// AllowedDomains are the hosts answers may link to (a subdomain of an
	// allowed domain is allowed).
	AllowedDomains []string `yaml:"allowed_domains"`
	// AllowedPhones are the phone numbers answers may give.
	AllowedPhones []string `yaml:"allowed_phones"`
}

func (o *GateOptions) defaults() {
	if o.MinAccuracy <= 0 {
		o.MinAccuracy = 0.4
	}
	if o.MaxAccuracyDrop <= 0 {
		o.MaxAccuracyDrop = 0.05
	}
	if o.Folds < 2 {
		o.Folds = 5
	}
	if o.MaxHeldOut <= 0 {
		o.MaxHeldOut = 2000
	}
}

// Report is the quality gate's verdict on a candidate release.
type Report struct {
	Passed bool `json:"passed"`
	// Accuracy is the share of held-out question variants the model
	// trained on the rest answers with their own entry.
	Accuracy float64 `json:"cv_accuracy"`
	HeldOut  int     `json:"cv_questions"`
	// Baseline is the active release's accuracy, when there is one.
	Baseline        *float64     `json:"baseline_accuracy,omitempty"`
	BaselineRelease int64        `json:"baseline_release,omitempty"`
	Golden          GoldenReport `json:"golden"`
	// Problems are the failed checks: each one alone refuses the release.
	Problems []Problem `json:"problems"`
	// Confusions are held-out questions answered with another entry: not a
	// refusal, a hint of which entries overlap.
	Confusions []Confusion `json:"confusions,omitempty"`
	TookMS     int64       `json:"took_ms"`
}

// GoldenReport is how the pinned questions fared.
type GoldenReport struct {
	Total    int             `json:"total"`
	Passed   int             `json:"passed"`
	Failures []GoldenFailure `json:"failures"`
}

// GoldenFailure is a pinned question the release answers wrongly.
type GoldenFailure struct {
	ID         string  `json:"id"`
	Question   string  `json:"question"`
	Locale     string  `json:"locale"`
	Expected   string  `json:"expected"`
	Got        string  `json:"got"` // "" when out of scope
	Confidence float64 `json:"confidence"`
	// Missing: the expected entry is not in the release at all (Got then
	// says so in English).
	Missing bool `json:"missing,omitempty"`
}

// Problem is one failed check, with a message in each locale.
type Problem struct {
	Check     string `json:"check"`
	Entry     string `json:"entry,omitempty"`
	Locale    string `json:"locale,omitempty"`
	Detail    string `json:"detail,omitempty"`
	Message   string `json:"message"`
	MessageZH string `json:"message_zh"`
}

// Confusion is a held-out question the model gave to another entry.
type Confusion struct {
	Question string `json:"question"`
	Entry    string `json:"entry"`
	Got      string `json:"got"`
}

// The checks a Problem names.
const (
	CheckAccuracy      = "accuracy"
	CheckAccuracyDrop  = "accuracy_drop"
	CheckGolden        = "golden"
	CheckLink          = "link"
	CheckPhone         = "phone"
	CheckEmptyAnswer   = "empty_answer"
	CheckDuplicate     = "duplicate_answer"
	CheckWrongLanguage = "wrong_language"
)

// Summary is the report in one line per problem, for logs and the CLI.
func (r *Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cross-validated accuracy %.3f on %d held-out questions", r.Accuracy, r.HeldOut)
	if r.Baseline != nil {
		fmt.Fprintf(&b, " (active release %d: %.3f)", r.BaselineRelease, *r.Baseline)
	}
	fmt.Fprintf(&b, "; golden questions %d/%d", r.Golden.Passed, r.Golden.Total)
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "\n  ✗ %s", p.Message)
	}
	return b.String()
}

// runGate checks a candidate: ix is its index, trained on entries.
func (s *Service) runGate(ctx context.Context, entries []Entry, ix *Index, baseline *Release, cv bool) (Report, error) {
	start := time.Now()
	o := s.opts.Gate
	var r Report
	var (
		acc  float64
		n    int
		conf []Confusion
		err  error
	)
	if cv {
		if acc, n, conf, err = s.crossValidated(ctx, entries, ix); err != nil {
			return r, err
		}
	}
	r.Accuracy, r.HeldOut, r.Confusions = acc, n, conf
	if baseline != nil && baseline.Quality.HeldOut == 0 && n > 0 && len(baseline.Content) > 0 {
		// The first release at start-up is published without
		// cross-validation: measured now, or the release after it would be
		// compared with nothing and a far worse one would pass.
		bix, err := buildIndex(s.opts.Models, baseline.Content, s.opts.Extra, nlu.TrainOptions{})
		if err != nil {
			return r, fmt.Errorf("measure release %d: %w", baseline.ID, err)
		}
		bacc, bn, _, err := s.crossValidated(ctx, baseline.Content, bix)
		if err != nil {
			return r, fmt.Errorf("measure release %d: %w", baseline.ID, err)
		}
		if bn > 0 {
			measured := *baseline
			measured.Quality.Accuracy, measured.Quality.HeldOut = bacc, bn
			baseline = &measured
		}
	}
	if n > 0 && acc < o.MinAccuracy {
		r.problem(Problem{Check: CheckAccuracy, Detail: fmt.Sprintf("%.3f", acc),
			Message:   fmt.Sprintf("cross-validated accuracy %.3f is below the minimum %.3f", acc, o.MinAccuracy),
			MessageZH: fmt.Sprintf("交叉验证准确率 %.3f 低于下限 %.3f", acc, o.MinAccuracy)})
	}
	if baseline != nil && baseline.Quality.HeldOut > 0 && n > 0 {
		b := baseline.Quality.Accuracy
		r.Baseline, r.BaselineRelease = &b, baseline.ID
		if b-acc > o.MaxAccuracyDrop {
			r.problem(Problem{Check: CheckAccuracyDrop, Detail: fmt.Sprintf("%.3f", b-acc),
				Message: fmt.Sprintf("cross-validated accuracy fell from %.3f (release %d) to %.3f, more than the allowed %.3f",
					b, baseline.ID, acc, o.MaxAccuracyDrop),
				MessageZH: fmt.Sprintf("交叉验证准确率从 %.3f（版本 %d）降到 %.3f，降幅超过允许的 %.3f",
					b, baseline.ID, acc, o.MaxAccuracyDrop)})
		}
	}
	golden, err := s.store.GoldenQuestions(ctx)
	if err != nil {
		return r, err
	}
	r.Golden = checkGolden(golden, ix)
	for _, f := range r.Golden.Failures {
		got, gotZH := f.Got, f.Got
		switch {
		case f.Missing:
			gotZH = "（" + f.Expected + " 不在此版本中）"
		case got == "":
			got, gotZH = "no entry (out of scope)", "无匹配条目（超出范围）"
		}
		r.problem(Problem{Check: CheckGolden, Entry: f.Expected, Locale: f.Locale, Detail: f.Question,
			Message: fmt.Sprintf("golden question %q must be answered by %s, but this release answers it with %s",
				f.Question, f.Expected, got),
			MessageZH: fmt.Sprintf("黄金问题「%s」应由 %s 回答，此版本却给出 %s", f.Question, f.Expected, gotZH)})
	}
	for _, p := range checkContent(entries, o) {
		r.problem(p)
	}
	r.Passed = len(r.Problems) == 0
	r.TookMS = time.Since(start).Milliseconds()
	return r, nil
}

func (r *Report) problem(p Problem) { r.Problems = append(r.Problems, p) }

// crossValidated is the share of entries' held-out questions that ix's
// kind of model answers with their own entry.
func (s *Service) crossValidated(ctx context.Context, entries []Entry, ix *Index) (float64, int, []Confusion, error) {
	if h, ok := ix.model.(heldOut); ok {
		acc, n, conf := leaveOneOut(entries, h, s.opts.Gate)
		return acc, n, conf, nil
	}
	return crossValidate(ctx, entries, s.opts.Extra, s.opts.Gate)
}

// crossValidate holds out each entry's question variants fold by fold
// (titles always stay in training, so every entry keeps an example) and
// returns the share answered with their own entry.
func crossValidate(ctx context.Context, entries []Entry, extra []Example, o GateOptions) (float64, int, []Confusion, error) {
	total := questionCount(entries)
	if total == 0 {
		return 0, 0, nil, nil
	}
	sampled := sampler(total, o.MaxHeldOut)
	fold := func(id, loc string, i int) int {
		h := fnv.New32a()
		h.Write([]byte(id + "\x00" + loc))
		return (int(h.Sum32()%uint32(o.Folds)) + i) % o.Folds
	}
	type result struct {
		tally
		err error
	}
	results := make([]result, o.Folds)
	var wg sync.WaitGroup
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	for k := 0; k < o.Folds; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			res := &results[k]
			if res.err = ctx.Err(); res.err != nil {
				return
			}
			held := func(id, loc string, i int) bool { return fold(id, loc, i) == k && sampled(id, loc, i) }
			examples := append(trainingExamples(entries, held), extra...)
			m, err := nlu.Train(examples, nlu.TrainOptions{OOSLabel: OutOfScopeLabel, CalibrationFolds: 1})
			if err != nil {
				res.err = fmt.Errorf("cross-validation fold %d: %w", k+1, err)
				return
			}
			res.tally = heldOutTally(entries, held, func(q, _ string) nlu.Prediction { return m.Predict(nlu.Prepare(q)) }, 20)
		}()
	}
	wg.Wait()
	var all tally
	for _, res := range results {
		if res.err != nil {
			return 0, 0, nil, res.err
		}
		all.right, all.n = all.right+res.right, all.n+res.n
		all.confusions = append(all.confusions, res.confusions...)
	}
	acc, n, confusions := all.result()
	return acc, n, confusions, nil
}

// tally is how held-out questions fared.
type tally struct {
	right, n   int
	confusions []Confusion
}

// result is the accuracy, the number of questions and the confusions.
func (t tally) result() (float64, int, []Confusion) {
	if t.n == 0 {
		return 0, 0, nil
	}
	return float64(t.right) / float64(t.n), t.n, t.confusions
}

// heldOutTally predicts each question that held says is held out and
// counts those answered with their own entry, keeping up to maxConfusions
// of the others.
func heldOutTally(entries []Entry, held func(id, loc string, i int) bool, predict func(q, id string) nlu.Prediction,
	maxConfusions int) tally {
	var t tally
	for i := range entries {
		e := &entries[i]
		for _, loc := range Locales {
			for qi, q := range e.Locales[loc].Questions {
				if !held(e.ID, loc, qi) {
					continue
				}
				t.n++
				if p := predict(q, e.ID); p.Label == e.ID {
					t.right++
				} else if len(t.confusions) < maxConfusions {
					t.confusions = append(t.confusions, Confusion{Question: q, Entry: e.ID, Got: p.Label})
				}
			}
		}
	}
	return t
}

// questionCount is the number of question variants in entries.
func questionCount(entries []Entry) int {
	total := 0
	for i := range entries {
		for _, c := range entries[i].Locales {
			total += len(c.Questions)
		}
	}
	return total
}

// sampler picks about max of total questions, the same ones every time.
func sampler(total, max int) func(id, loc string, i int) bool {
	stride := (total + max - 1) / max
	return func(id, loc string, i int) bool {
		if stride <= 1 {
			return true
		}
		h := fnv.New32a()
		fmt.Fprintf(h, "%s\x00%s\x00%d", id, loc, i)
		return h.Sum32()%uint32(stride) == 0
	}
}

// leaveOneOut is crossValidate for an index that can leave each question
// out of itself (a retrieval index): every sampled question is predicted
// as if it had not been trained on, with no retraining, which at 100,000
// entries would take minutes per fold.
func leaveOneOut(entries []Entry, ix heldOut, o GateOptions) (float64, int, []Confusion) {
	sampled := sampler(questionCount(entries), o.MaxHeldOut)
	return heldOutTally(entries, sampled, ix.PredictHeldOut, 100).result()
}

func checkGolden(golden []Golden, ix *Index) GoldenReport {
	r := GoldenReport{Total: len(golden), Failures: []GoldenFailure{}}
	for _, g := range golden {
		p := ix.Analyze(nlu.Prepare(g.Question))
		if p.Label == g.EntryID && !p.OutOfScope {
			r.Passed++
			continue
		}
		got := p.Label
		if p.OutOfScope {
			got = ""
		}
		_, present := ix.Entry(g.EntryID)
		if !present {
			got = "(" + g.EntryID + " is not in this release)"
		}
		r.Failures = append(r.Failures, GoldenFailure{ID: g.ID, Question: g.Question, Locale: g.Locale,
			Expected: g.EntryID, Got: got, Confidence: p.Confidence, Missing: !present})
	}
	return r
}

var (
	// linkRE finds URLs and bare host names with a common top-level domain.
	// A link ends at the first character outside ASCII: Chinese text runs
	// on without a space ("请登录shop.example.com查看订单"), and a link
	// that took it in had a host no allow-list names.
	linkRE = regexp.MustCompile(`(?i)\b(?:https?://` + linkTail + `+|www\.` + linkTail + `+|` +
		`(?:[a-z0-9-]+\.)+(?:com|cn|net|org|top|xyz|io|info|biz|cc|me|vip|shop|site|online|club|co|app|ru|tk|link|store|icu)\b` +
		linkTail + `*)`)
	// phoneRE finds mainland mobile numbers, landlines with an area code
	// and 400/800 service numbers; findPhones leaves out those inside longer
	// runs of digits. (A trailing non-digit in the expression itself took
	// the separator a number right after needed: "400-800-1234或13812345678"
	// found the first alone.)
	phoneRE = regexp.MustCompile(`(?:^|[^\d])((?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|0\d{2,3}[\s-]\d{7,8}|[48]00[\s-]?\d{3}[\s-]?\d{4})`)
)

// linkTail is what a link may hold after its start: printable ASCII but
// for quotes, angle brackets and parentheses. Case folding is off inside
// it: under linkRE's (?i), "s" and "k" fold to characters outside ASCII
// (ſ, the Kelvin sign), and a link ended at every s.
const linkTail = `(?-i:[^\s<>"'()\x{80}-\x{10FFFF}])`

// findPhones returns the phone numbers phoneRE finds in s that are not
// followed by a digit.
func findPhones(s string) []string {
	var out []string
	for _, m := range phoneRE.FindAllStringSubmatchIndex(s, -1) {
		if end := m[3]; end < len(s) && s[end] >= '0' && s[end] <= '9' {
			continue
		}
		out = append(out, s[m[2]:m[3]])
	}
	return out
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

func hostOf(link string) string {
	l := link
	if !strings.Contains(strings.ToLower(l), "://") {
		l = "http://" + l
	}
	u, err := url.Parse(l)
	if err != nil {
		return strings.ToLower(link)
	}
	return strings.ToLower(u.Hostname())
}

func allowedHost(host string, domains []string) bool {
	for _, d := range domains {
		d = strings.ToLower(strings.TrimSpace(d))
		if d != "" && (host == d || strings.HasSuffix(host, "."+d)) {
			return true
		}
	}
	return false
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// phones is a set of phone numbers, each kept as its digits with and
// without the country code, so that a number written "+86 …" matches the
// same number given without it, and the other way round.
type phones map[string]bool

func phoneSet(numbers []string) phones {
	set := phones{}
	for _, p := range numbers {
		set.add(p)
	}
	return set
}

func (set phones) add(number string) { set[digits(number)], set[nationalDigits(number)] = true, true }

func (set phones) has(number string) bool { return set[nationalDigits(number)] || set[digits(number)] }

// nationalDigits is a phone number's digits without a leading 0086 or 86.
func nationalDigits(s string) string {
	return strings.TrimPrefix(strings.TrimPrefix(digits(s), "0086"), "86")
}

// The language rule (CheckWrongLanguage), on hanShare: a Chinese answer
// is mostly Han; an English one may hold a Chinese name or address.
const (
	minHanShareZH = 0.3
	maxHanShareEN = 0.5
)

// WrongLanguage reports whether text is not written in locale's language,
// by the gate's rule for answers (CheckWrongLanguage), links left out (a
// help page's English path in a Chinese answer). Text the gate never read,
// a language model's answer, is held to the same rule.
func WrongLanguage(text, locale string) bool {
	share, _ := hanShare(linkRE.ReplaceAllString(text, " "))
	switch locale {
	case LocaleZH:
		return share < minHanShareZH
	case LocaleEN:
		return share > maxHanShareEN
	}
	return false
}

// hanShare is the share of Han characters among Han characters and Latin
// letters.
func hanShare(s string) (float64, int) {
	han, latin := 0, 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			han++
		case r < 128 && unicode.IsLetter(r):
			latin++
		}
	}
	// A Chinese character carries about as much as a short English word.
	n := float64(han*3 + latin)
	if n == 0 {
		return 0, 0
	}
	return float64(han*3) / n, han + latin
}

// checkContent reads every answer: links and phone numbers outside the
// allow-lists, answers with no content, answers copied between entries,
// and answers in the wrong language.
func checkContent(entries []Entry, o GateOptions) []Problem {
	var out []Problem
	phones := phoneSet(o.AllowedPhones)
	seen := map[string]string{} // locale + normalised answer → entry id
	for i := range entries {
		e := &entries[i]
		for _, loc := range Locales {
			c, ok := e.Locales[loc]
			if !ok {
				continue
			}
			a := c.Answer
			for _, link := range linkRE.FindAllString(a, -1) {
				if host := hostOf(link); !allowedHost(host, o.AllowedDomains) {
					out = append(out, Problem{Check: CheckLink, Entry: e.ID, Locale: loc, Detail: link,
						Message:   fmt.Sprintf("%s (%s): the answer links to %s, which is not an allowed domain", e.ID, loc, host),
						MessageZH: fmt.Sprintf("%s（%s）：答案中的链接 %s 不在允许的域名列表中", e.ID, loc, host)})
				}
			}
			for _, m := range findPhones(a) {
				num := strings.TrimSpace(m)
				if !phones.has(num) {
					out = append(out, Problem{Check: CheckPhone, Entry: e.ID, Locale: loc, Detail: num,
						Message:   fmt.Sprintf("%s (%s): the answer gives the phone number %s, which is not on the allow-list", e.ID, loc, num),
						MessageZH: fmt.Sprintf("%s（%s）：答案中的电话号码 %s 不在允许列表中", e.ID, loc, num)})
				}
			}
			norm := nlu.Normalize(a)
			// The language is the text's, not its links' (a help page's
			// English path in a Chinese answer).
			share, letters := hanShare(linkRE.ReplaceAllString(a, " "))
			switch {
			case letters < 2:
				out = append(out, Problem{Check: CheckEmptyAnswer, Entry: e.ID, Locale: loc,
					Message:   fmt.Sprintf("%s (%s): the answer has no words", e.ID, loc),
					MessageZH: fmt.Sprintf("%s（%s）：答案没有实际内容", e.ID, loc)})
			case loc == LocaleZH && share < minHanShareZH:
				out = append(out, Problem{Check: CheckWrongLanguage, Entry: e.ID, Locale: loc,
					Message:   fmt.Sprintf("%s: the zh-CN answer is not written in Chinese", e.ID),
					MessageZH: fmt.Sprintf("%s：zh-CN 答案不是中文", e.ID)})
			case loc == LocaleEN && share > maxHanShareEN:
				out = append(out, Problem{Check: CheckWrongLanguage, Entry: e.ID, Locale: loc,
					Message:   fmt.Sprintf("%s: the en answer is not written in English", e.ID),
					MessageZH: fmt.Sprintf("%s：en 答案不是英文", e.ID)})
			}
			key := loc + "\x00" + norm
			if other, dup := seen[key]; dup && norm != "" {
				out = append(out, Problem{Check: CheckDuplicate, Entry: e.ID, Locale: loc, Detail: other,
					Message:   fmt.Sprintf("%s (%s): the answer is the same as %s's", e.ID, loc, other),
					MessageZH: fmt.Sprintf("%s（%s）：答案与 %s 完全相同", e.ID, loc, other)})
			} else {
				seen[key] = e.ID
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Problem) int { return strings.Compare(a.Check, b.Check) })
	return out
}
