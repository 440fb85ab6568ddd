package nlu

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// englishStop are words too common to carry intent on their own; they still
// take part in bigrams.
var englishStop = map[string]bool{
	"a": true, "an": true, "the": true, "is": true, "are": true, "am": true, "to": true, "of": true, "and": true,
	"in": true, "on": true, "for": true, "it": true, "this": true, "that": true, "be": true, "was": true,
	"i": true, "me": true, "my": true, "you": true, "your": true, "we": true, "our": true, "do": true, "does": true,
	"did": true, "please": true, "pls": true, "plz": true, "so": true, "just": true, "at": true, "with": true,
	"there": true, "have": true, "has": true, "had": true, "im": true, "its": true, "can": true, "could": true, "would": true,
}

// stem strips common English suffixes; it is deliberately light (plurals,
// -ing, -ed, -ly) so that unrelated words do not collide.
func stem(w string) string {
	n := len(w)
	switch {
	case n > 5 && strings.HasSuffix(w, "ing"):
		return w[:n-3]
	case n > 4 && strings.HasSuffix(w, "ied"):
		return w[:n-3] + "y"
	case n > 4 && strings.HasSuffix(w, "ies"):
		return w[:n-3] + "y"
	case n > 4 && strings.HasSuffix(w, "ed"):
		return w[:n-2]
	case n > 4 && strings.HasSuffix(w, "ly"):
		return w[:n-2]
	case n > 3 && strings.HasSuffix(w, "es") && strings.ContainsAny(w[n-3:n-2], "sxz"):
		return w[:n-2]
	case n > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us"):
		return w[:n-1]
	}
	return w
}

// featureSet chooses which features a model extracts.
type featureSet struct {
	HanMax   int  // longest Chinese character n-gram
	KeepStop bool // emit stop words as unigrams too
	GramLo   int  // shortest sub-word character n-gram of a Latin word
	GramHi   int  // longest; 0 for none
	GramMin  int  // shortest word that gets sub-word n-grams
	Bigrams  bool // adjacent word pairs
	HanEdge  bool // mark where a Chinese run starts and ends
	// Codes emits a word that mixes letters and digits ("k3", "x200",
	// "a1b2") as one feature too: a model number names a product, where a
	// digit run alone is only its number class.
	Codes bool
}

// featureGroup is the normalisation group of a feature.
func featureGroup(f string) uint8 {
	if strings.HasPrefix(f, "g:") {
		return 1
	}
	return 0
}

// defaultFeatures were chosen on the validation splits of CLINC150,
// BANKING77 and SMP2017 (docs/quality.md).
var defaultFeatures = featureSet{
	HanMax: 3, HanEdge: true,
	KeepStop: true, GramLo: 2, GramHi: 5, GramMin: 1, Bigrams: true, Codes: true,
}

// sentimentFeatures were chosen on the validation splits of ChnSentiCorp
// and waimai_10k, where sub-word n-grams cost half a point.
var sentimentFeatures = featureSet{HanMax: 3, HanEdge: true, Bigrams: true}

// Features calls emit for each feature of a normalised text, with the
// intent model's default feature set.
func Features(norm string, emit func(f string)) {
	defaultFeatures.extract(norm, func(f []byte) { emit(string(f)) })
}

// extract calls emit for each feature of a normalised text: for Chinese,
// character n-grams; for Latin words, stemmed words, word n-grams and
// character n-grams inside each word (robust to typos); digit runs become a
// number token. The bytes passed to emit are only valid during the call:
// features are built in one buffer, so classifying a message allocates
// little.
//
//go:norace
func (fs featureSet) extract(norm string, emit func(f []byte)) {
	x := extractor{fs: fs, emit: emit, buf: make([]byte, 0, 64)}
	for _, field := range strings.Fields(norm) {
		start := 0
		for start < len(field) {
			r, _ := utf8.DecodeRuneInString(field[start:])
			end := start
			han := isHan(r)
			for end < len(field) {
				r2, sz := utf8.DecodeRuneInString(field[end:])
				if isHan(r2) != han {
					break
				}
				end += sz
			}
			seg := field[start:end]
			if han {
				x.words = x.words[:0]
				x.hanGrams(seg)
			} else {
				words := splitLatin(seg)
				for _, w := range words {
					x.words = append(x.words, w)
					x.latinWord()
				}
				if fs.Codes && len(words) > 1 && isCode(seg) {
					x.emitParts(codePrefix, seg)
				}
			}
			start = end
		}
	}
}

type extractor struct {
	fs    featureSet
	emit  func([]byte)
	buf   []byte
	words []string // the Latin words of the current run; a Chinese run breaks it
	runes []rune
}

// splitLatin splits a non-Han run into letter words and digit runs.
func splitLatin(s string) []string {
	var out []string
	start := -1
	digits := false
	for i, r := range s {
		d := unicode.IsDigit(r)
		if start >= 0 && d != digits {
			out = append(out, s[start:i])
			start = -1
		}
		if start < 0 {
			start, digits = i, d
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

//go:norace
func (x *extractor) hanGrams(seg string) {
	x.runes = x.runes[:0]
	if x.fs.HanEdge {
		x.runes = append(x.runes, '<')
	}
	for _, r := range seg {
		x.runes = append(x.runes, r)
	}
	if x.fs.HanEdge {
		x.runes = append(x.runes, '>')
	}
	rs := x.runes
	for i := range rs {
		x.buf = append(x.buf[:0], "c:"...)
		for n := 1; n <= x.fs.HanMax && i+n <= len(rs); n++ {
			x.buf = utf8.AppendRune(x.buf, rs[i+n-1])
			x.emit(x.buf)
		}
	}
}

// codePrefix starts a model-number feature.
const codePrefix = "k:"

// isCode reports whether a run of letters and digits is short enough to
// be a model number rather than an order or tracking number.
func isCode(s string) bool {
	if len(s) > 12 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func isNumber(w string) bool { return w[0] >= '0' && w[0] <= '9' }

// appendToken appends how a word enters word n-grams: stemmed, or its
// number class.
func appendToken(b []byte, w string) []byte {
	if isNumber(w) {
		return append(append(b, '#'), numberClass(w)...)
	}
	return append(b, stem(w)...)
}

// latinWord emits the features that the last of the words completes.
//
//go:norace
func (x *extractor) latinWord() {
	fs, words := x.fs, x.words
	n := len(words)
	w := words[n-1]
	if isNumber(w) {
		x.emitParts("n:", numberClass(w))
	} else {
		if fs.KeepStop || !englishStop[w] {
			x.emitParts("w:", stem(w))
		}
		if fs.GramHi > 0 && len(w) >= fs.GramMin {
			for k := fs.GramLo; k <= fs.GramHi; k++ {
				// n-grams of "<" + w + ">", the brackets marking the edges
				for i := 0; i+k <= len(w)+2; i++ {
					x.buf = append(x.buf[:0], "g:"...)
					for j := i; j < i+k; j++ {
						switch j {
						case 0:
							x.buf = append(x.buf, '<')
						case len(w) + 1:
							x.buf = append(x.buf, '>')
						default:
							x.buf = append(x.buf, w[j-1])
						}
					}
					x.emit(x.buf)
				}
			}
		}
	}
	if fs.Bigrams && n >= 2 {
		x.buf = appendToken(append(x.buf[:0], "b:"...), words[n-2])
		x.buf = appendToken(append(x.buf, '_'), w)
		x.emit(x.buf)
	}
}

//go:norace
func (x *extractor) emitParts(prefix, s string) {
	x.buf = append(append(x.buf[:0], prefix...), s...)
	x.emit(x.buf)
}

// numberClass buckets a digit run by length: an order number and a year
// are different things, but two order numbers are the same thing.
func numberClass(d string) string {
	switch n := len(d); {
	case n <= 2:
		return "small"
	case n <= 4:
		return "4"
	case n <= 8:
		return "8"
	default:
		return "long"
	}
}
