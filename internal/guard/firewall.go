package guard

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Categories of attack a Verdict names.
const (
	CategoryInjection  = "injection"  // overriding the bot's instructions
	CategoryJailbreak  = "jailbreak"  // personas and "no rules" role play
	CategoryExtraction = "extraction" // asking for the system prompt
	CategoryHarmful    = "harmful"    // asking for help to do harm
)

// Verdict is the firewall's judgement of one customer message.
type Verdict struct {
	Attack bool
	// Category is the kind of attack that weighs most, "" when Attack is
	// false.
	Category string
	// Score grows with the evidence, 0..1; Attack is Score >= 0.5.
	Score float64
	// Reasons names the features that added points, in a fixed order,
	// e.g. "ignore_instructions", "persona_dan", whether or not they made
	// an attack; nil when none did.
	Reasons []string
}

// Firewall recognises prompt injection, jailbreaks, system-prompt
// extraction and requests for harm in Chinese and English messages. It is
// a set of hand-written weighted phrases and proximity rules over a
// normalised rendering of the text, with a small classifier trained at
// start-up from an embedded hand-written corpus (firewall_model.go), so it
// needs no model file and no I/O; a Check costs about ten microseconds a
// kilobyte and does not allocate unless it has reasons to report.
type Firewall struct {
	t    *firewallTables
	pool sync.Pool
}

// threshold is the number of points an attack needs: one strong feature
// or a combination of weaker ones. Chosen on half of each development set
// as the lowest that keeps every benign set under 0.5% false positives
// (docs/security.md). Score = points/(points+threshold), 0.5 at it.
const threshold = 0.85

// longMessage is the length, in bytes of the words rendering (about a
// hundred Chinese characters), past which a message is more likely a
// review or a story that names crimes and groups than a request: its
// harmful points count as if the threshold were longHarmThreshold.
// Chosen on the tuning halves with the classifier (docs/security.md).
const (
	longMessage       = 300
	longHarmThreshold = 1.5
)

// NewFirewall returns the firewall with the built-in lexicon. Firewalls
// share their compiled tables, so making one is cheap.
func NewFirewall() *Firewall {
	t := compiledTables()
	f := &Firewall{t: t}
	f.pool.New = func() any { return t.newScratch() }
	return f
}

func (t *firewallTables) newScratch() *scratch {
	return &scratch{
		seen:    make([]bool, len(t.signals)),
		weight:  make([]float32, len(t.signals)),
		start:   make([]int32, len(t.signals)),
		end:     make([]int32, len(t.signals)),
		touched: make([]int32, 0, 64),
		head:    make([]int32, len(t.signals)),
		tail:    make([]int32, len(t.signals)),
	}
}

// scan renders text into s and fires every signal it holds.
func (t *firewallTables) scan(s *scratch, text string) {
	s.reset()
	s.words, s.marks, s.runs = t.text.renderRuns(text, s.words, s.marks, s.runs[:0])
	if len(s.runs) == 0 {
		t.words.scan(s.words, func(id, start, end int32) {
			p := t.wordPhrases[id]
			s.fire(t, p.signal, p.weight, start, end)
		})
	} else {
		t.scanRuns(s)
	}
	t.marks.scan(s.marks, func(id, start, end int32) {
		p := t.markPhrases[id]
		s.fire(t, p.signal, p.weight, -1, -1)
	})
}

// scanRuns is the words scan of a message with spaced-out letters, which
// render joined into one word each ("i g n o r e a l l p r e v i o u s"
// is "ignoreallprevious"): inside those runs the phrases are looked for
// without their spaces too, and every occurrence is fired in order of its
// end, as the proximity rules expect.
func (t *firewallTables) scanRuns(s *scratch) {
	s.joined = s.joined[:0]
	for i := 0; i+1 < len(s.runs); i += 2 {
		at := s.runs[i]
		t.joined.scan(s.words[at:s.runs[i+1]], func(id, start, end int32) {
			s.joined = append(s.joined, runHit{id, at + start, at + end})
		})
	}
	next := 0
	fireJoined := func(upTo int32) {
		for ; next < len(s.joined) && s.joined[next].end <= upTo; next++ {
			h := s.joined[next]
			p := t.joinedPhrases[h.phrase]
			s.fire(t, p.signal, p.weight, h.start, h.end)
		}
	}
	t.words.scan(s.words, func(id, start, end int32) {
		fireJoined(end)
		p := t.wordPhrases[id]
		s.fire(t, p.signal, p.weight, start, end)
	})
	fireJoined(int32(len(s.words)))
}

// Check judges text. It is pure and safe for concurrent use.
func (f *Firewall) Check(text string) Verdict {
	t := f.t
	s := f.pool.Get().(*scratch)
	defer f.pool.Put(s)
	t.scan(s, text)
	// A short Chinese message goes to the classifier even when the
	// lexicon saw nothing in it.
	askModel := t.model != nil && len(s.words) <= modelMaxBytes && hasHan(s.words)
	if len(s.touched) == 0 && !askModel {
		return Verdict{}
	}

	var points [nCategories]float64
	n := 0
	for _, id := range s.touched {
		sg := &t.signals[id]
		if sg.category < 0 {
			continue
		}
		if s.weight[id] > 0 {
			n++
		}
		// Harmful evidence counts by window (localHarm), except context
		// and everything that speaks against an attack: a victim's "被盗"
		// before the trigger word must not fall outside the window.
		if w := s.weight[id]; sg.category != harmCategory || sg.whole || w < 0 {
			points[sg.category] += float64(w)
		}
	}
	points[harmCategory] += s.localHarm()
	learned := 0.0
	if len(s.words) > longMessage && points[harmCategory] == positiveSum(points) {
		// A review or a story: a harmful request needs more evidence.
		// (A jailbreak template that also asks for harm is judged whole.)
		points[harmCategory] *= threshold / longHarmThreshold
	} else if askModel {
		learned = t.model.points(s.words, s.touched, points[harmCategory])
		points[harmCategory] += learned
	}
	total, best := 0.0, -1
	for c, p := range points {
		if p <= 0 {
			continue
		}
		total += p
		if best < 0 || p > points[best] {
			best = c
		}
	}
	v := Verdict{Score: total / (total + threshold)}
	// Weights are decimals: 0.35+0.5 must reach 0.85.
	if total >= threshold-1e-6 {
		v.Attack = true
		v.Category = categoryNames[best]
		v.Score = max(v.Score, 0.5)
	}
	if learned > 0 {
		n++
	}
	if n > 0 {
		v.Reasons = make([]string, 0, n)
		// touched is in firing order; report in signal order.
		for id := range t.signals {
			if s.seen[id] && t.signals[id].category >= 0 && s.weight[id] > 0 {
				v.Reasons = append(v.Reasons, t.signals[id].name)
			}
		}
		if learned > 0 {
			v.Reasons = append(v.Reasons, reasonClassifier)
		}
	}
	return v
}

// scratch is the per-Check state, pooled.
type scratch struct {
	words, marks []byte
	seen         []bool
	weight       []float32 // the strongest phrase of a signal seen
	start, end   []int32   // the last occurrence, for proximity; -1 none
	touched      []int32   // signals seen, to reset
	harm         []harmHit // occurrences of harmful features
	head, tail   []int32   // per signal: its occurrences in the window (localHarm)
	runs         []int32   // joined runs of spaced-out letters in words: start, end
	joined       []runHit  // phrases found inside them (scanRuns)
}

// runHit is an occurrence of a phrase without its spaces inside a run.
type runHit struct {
	phrase, start, end int32
}

// harmHit is one occurrence of a harmful feature.
type harmHit struct {
	signal, start int32
	weight        float32
	prev, next    int32 // neighbours among the signal's occurrences in the window
}

// harmWindow is how far apart, in bytes of the words rendering, the
// evidence of one harmful request may lie: about two clauses. A long
// review that names a crime in one paragraph and says "我想" in another
// is not a request.
const harmWindow = 150

func (s *scratch) reset() {
	for _, id := range s.touched {
		s.seen[id] = false
	}
	s.touched = s.touched[:0]
	s.harm = s.harm[:0]
}

// localHarm is the most harmful-request evidence inside any one window:
// the sum of the distinct positive features that start in it, each at its
// strongest. Every occurrence counts, however many come before it
// (repeating a trigger word must not push the request out of sight), in
// one pass that slides the window along the occurrences: each signal
// keeps those in the window that no later, stronger one outweighs, so its
// strongest is the first of them.
func (s *scratch) localHarm() float64 {
	h := s.harm
	if len(h) == 0 {
		return 0
	}
	// Occurrences arrive by end; the window goes by start. An occurrence
	// starts at most a phrase and a rule's distance before the one that
	// arrived ahead of it, so the insertion sort moves each a few places.
	for i := 1; i < len(h); i++ {
		for j := i; j > 0 && h[j].start < h[j-1].start; j-- {
			h[j], h[j-1] = h[j-1], h[j]
		}
	}
	for _, x := range h {
		s.head[x.signal], s.tail[x.signal] = -1, -1
	}
	strongest := func(id int32) float64 {
		if i := s.head[id]; i >= 0 {
			return float64(h[i].weight)
		}
		return 0
	}
	// Sums of float32 weights are exact in float64, so the running sum
	// does not drift however often it goes up and down.
	sum, best := 0.0, 0.0
	in := 0 // h[lo:in] is the window
	for lo := 0; lo < len(h); {
		for ; in < len(h) && h[in].start-h[lo].start <= harmWindow; in++ {
			id, w := h[in].signal, h[in].weight
			old := strongest(id)
			i := s.tail[id]
			for i >= 0 && h[i].weight <= w {
				i = h[i].prev
			}
			h[in].prev, h[in].next = i, -1
			if i >= 0 {
				h[i].next = int32(in)
			} else {
				s.head[id] = int32(in)
			}
			s.tail[id] = int32(in)
			sum += strongest(id) - old
		}
		best = max(best, sum)
		for first := h[lo].start; lo < len(h) && h[lo].start == first; lo++ {
			id := h[lo].signal
			if s.head[id] != int32(lo) {
				continue // outweighed by a later occurrence
			}
			old := strongest(id)
			if s.head[id] = h[lo].next; s.head[id] < 0 {
				s.tail[id] = -1
			} else {
				h[s.head[id]].prev = -1
			}
			sum += strongest(id) - old
		}
	}
	return best
}

// fire records an occurrence of signal id at [start, end) in words (-1 when
// it has no place) and follows the groups and rules it feeds.
func (s *scratch) fire(t *firewallTables, id int32, w float32, start, end int32) {
	if !s.seen[id] {
		s.seen[id] = true
		s.weight[id] = w
		s.start[id], s.end[id] = -1, -1
		s.touched = append(s.touched, id)
	} else if abs32(w) > abs32(s.weight[id]) {
		s.weight[id] = w
	}
	if end < 0 {
		for _, g := range t.signals[id].groups {
			s.fire(t, g, 0, -1, -1)
		}
		return
	}
	s.start[id], s.end[id] = start, end
	if sg := &t.signals[id]; sg.category == harmCategory && !sg.whole && w > 0 {
		s.harm = append(s.harm, harmHit{signal: id, start: start, weight: w})
	}
	for _, g := range t.signals[id].groups {
		s.fire(t, g, 0, start, end)
	}
	for _, ri := range t.byThen[id] {
		r := &t.near[ri]
		if !s.seen[r.first] {
			continue
		}
		// Phrases carry their surrounding spaces, so neighbours share one.
		fe := s.end[r.first]
		if fe < 0 || fe > start+1 || start-fe > r.within {
			continue
		}
		s.fire(t, r.out, r.weight, s.start[r.first], end)
	}
}

// positiveSum is the sum of the positive points.
func positiveSum(points [nCategories]float64) float64 {
	sum := 0.0
	for _, p := range points {
		sum += max(p, 0)
	}
	return sum
}

// hasHan reports whether a words rendering holds a Chinese character: a
// UTF-8 lead byte of U+4000..U+9FFF. The classifier is trained on Chinese
// and asked about nothing else.
func hasHan(words []byte) bool {
	for _, c := range words {
		if c >= 0xE4 && c <= 0xE9 {
			return true
		}
	}
	return false
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// firewallTables is the compiled lexicon, shared and read-only.
type firewallTables struct {
	text        *textTables
	signals     []signal
	words       *automaton
	marks       *automaton
	wordPhrases []phraseRef
	markPhrases []phraseRef
	near        []nearRule
	byThen      [][]int32 // signal -> near rules it completes
	model       *harmModel

	// joined finds the Latin word phrases without their spaces, in runs
	// of spaced-out letters ("ignoreallprevious"); joinedPhrases maps its
	// ids.
	joined        *automaton
	joinedPhrases []phraseRef
}

type signal struct {
	name     string
	category int // index in categoryNames; -1 for a building block
	groups   []int32
	whole    bool // a harmful feature that counts for the whole message, not a window
}

type phraseRef struct {
	signal int32
	weight float32
}

type nearRule struct {
	first, then, out int32
	within           int32
	weight           float32
}

const (
	nCategories  = 4
	harmCategory = 3 // index of CategoryHarmful
)

var categoryNames = [nCategories]string{CategoryInjection, CategoryJailbreak, CategoryExtraction, CategoryHarmful}

var compiledTables = sync.OnceValue(func() *firewallTables {
	t, err := compile(lexicon())
	if err != nil {
		panic("guard: firewall lexicon: " + err.Error())
	}
	if t.model, err = trainHarmModel(t, corpusFiles); err != nil {
		panic("guard: firewall classifier: " + err.Error())
	}
	return t
})

// compile turns the lexicon into tables.
func compile(lx lexiconDef) (*firewallTables, error) {
	t := &firewallTables{text: newTextTables()}
	ids := map[string]int32{}
	declare := func(name string, category string) (int32, error) {
		cat := -1
		if category != "" {
			for i, c := range categoryNames {
				if c == category {
					cat = i
				}
			}
			if cat < 0 {
				return 0, fmt.Errorf("signal %s: unknown category %q", name, category)
			}
		}
		if id, ok := ids[name]; ok {
			if t.signals[id].category != cat {
				return 0, fmt.Errorf("signal %s declared twice with different categories", name)
			}
			return id, nil
		}
		id := int32(len(t.signals))
		ids[name] = id
		t.signals = append(t.signals, signal{name: name, category: cat})
		return id, nil
	}
	lookup := func(name string) (int32, error) {
		id, ok := ids[name]
		if !ok {
			return 0, fmt.Errorf("unknown signal %q", name)
		}
		return id, nil
	}
	for _, e := range lx.entries {
		if _, err := declare(e.name, e.category); err != nil {
			return nil, err
		}
	}
	for _, r := range lx.near {
		if _, err := declare(r.out, r.category); err != nil {
			return nil, err
		}
	}
	for _, e := range lx.entries {
		if e.marks && e.category == CategoryHarmful {
			return nil, fmt.Errorf("signal %s: a harmful feature needs a place in the text", e.name)
		}
	}
	var wordText, markText, joinedText []string
	for _, e := range lx.entries {
		id := ids[e.name]
		t.signals[id].whole = t.signals[id].whole || e.whole
		for _, g := range e.groups {
			gid, err := lookup(g)
			if err != nil {
				return nil, fmt.Errorf("signal %s: %w", e.name, err)
			}
			if !slices.Contains(t.signals[id].groups, gid) {
				t.signals[id].groups = append(t.signals[id].groups, gid)
			}
		}
		for _, p := range e.phrases {
			text, w, err := parsePhrase(p, e.weight)
			if err != nil {
				return nil, fmt.Errorf("signal %s: %w", e.name, err)
			}
			// A phrase weighs like its feature: counter-evidence written
			// "~0.3" for "~-0.3" would count a victim's words as an attack.
			if w != 0 && (w < 0) != (e.weight < 0) {
				return nil, fmt.Errorf("signal %s: phrase %q weighs %v against the feature's %v", e.name, p, w, e.weight)
			}
			if e.marks {
				markText = append(markText, strings.ToLower(text))
				t.markPhrases = append(t.markPhrases, phraseRef{id, w})
				continue
			}
			rendered, err := t.renderPhrase(text)
			if err != nil {
				return nil, fmt.Errorf("signal %s: %w", e.name, err)
			}
			wordText = append(wordText, rendered)
			t.wordPhrases = append(t.wordPhrases, phraseRef{id, w})
			if j, ok := joinedPhrase(rendered); ok {
				joinedText = append(joinedText, j)
				t.joinedPhrases = append(t.joinedPhrases, phraseRef{id, w})
			}
		}
	}
	t.byThen = make([][]int32, len(t.signals))
	for _, r := range lx.near {
		a, err := lookup(r.first)
		if err != nil {
			return nil, err
		}
		b, err := lookup(r.then)
		if err != nil {
			return nil, err
		}
		if ids[r.out] == b {
			return nil, fmt.Errorf("rule %s: output completes itself", r.out)
		}
		t.byThen[b] = append(t.byThen[b], int32(len(t.near)))
		t.near = append(t.near, nearRule{first: a, then: b, out: ids[r.out], within: int32(r.within), weight: float32(r.weight)})
	}
	var err error
	if t.words, err = buildAutomaton(wordText); err != nil {
		return nil, err
	}
	if t.marks, err = buildAutomaton(markText); err != nil {
		return nil, err
	}
	if t.joined, err = buildAutomaton(joinedText); err != nil {
		return nil, err
	}
	return t, nil
}

// minJoined is the shortest phrase, in letters, looked for inside a run
// of spaced-out letters, where no space marks where a word begins: a
// shorter one is too often part of a longer harmless word ("kill" in
// "skill", "rape" in "grape").
const minJoined = 5

// joinedPhrase is a rendered Latin phrase without its spaces, the way it
// appears in a run of spaced-out letters, if it can ("ignore all" is
// "ignoreall"; only letters can be spaced out).
func joinedPhrase(rendered string) (string, bool) {
	j := strings.ReplaceAll(rendered, " ", "")
	if len(j) < minJoined {
		return "", false
	}
	for i := 0; i < len(j); i++ {
		if j[i] < 'a' || j[i] > 'z' {
			return "", false
		}
	}
	return j, true
}

// parsePhrase splits "phrase~0.7" into the phrase and its own weight.
func parsePhrase(p string, def float64) (string, float32, error) {
	if i := strings.LastIndexByte(p, '~'); i >= 0 {
		w, err := strconv.ParseFloat(p[i+1:], 64)
		if err != nil {
			return "", 0, fmt.Errorf("phrase %q: bad weight", p)
		}
		return p[:i], float32(w), nil
	}
	return p, float32(def), nil
}

// renderPhrase renders a lexicon phrase like a message. A trailing '*'
// makes it a prefix ("ignor*" matches ignore, ignored, ignoring); a phrase
// that begins or ends with a Chinese character matches inside a run of
// them.
func (t *firewallTables) renderPhrase(p string) (string, error) {
	prefix := strings.HasSuffix(p, "*")
	p = strings.TrimSuffix(p, "*")
	w, _ := t.text.render(p, nil, nil)
	s := string(w)
	if strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("phrase %q renders empty", p)
	}
	if prefix {
		s = strings.TrimSuffix(s, " ")
	}
	if kindOfLast(s) == kindHan {
		s = strings.TrimSuffix(s, " ")
	}
	if kindOfFirst(s) == kindHan {
		s = strings.TrimPrefix(s, " ")
	}
	return s, nil
}

func kindOfFirst(s string) int {
	s = strings.TrimPrefix(s, " ")
	for _, r := range s {
		return kindOf(r)
	}
	return kindSpace
}

func kindOfLast(s string) int {
	s = strings.TrimSuffix(s, " ")
	rs := []rune(s)
	if len(rs) == 0 {
		return kindSpace
	}
	return kindOf(rs[len(rs)-1])
}
