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

// Features calls emit for each feature of a normalised text: for Chinese,
// character 1-, 2- and 3-grams; for Latin words, stemmed words, word bigrams
// and character 3-grams inside each word (robust to typos); digit runs
// become a number token.
func Features(norm string, emit func(f string)) {
	prevWord := "" // the Latin word before, for bigrams; a Chinese run breaks the chain
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
				prevWord = ""
				hanGrams(seg, emit)
			} else {
				for _, w := range splitLatin(seg) {
					latinWord(w, prevWord, emit)
					prevWord = w
				}
			}
			start = end
		}
	}
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

func hanGrams(seg string, emit func(string)) {
	rs := []rune(seg)
	for i := range rs {
		emit("c:" + string(rs[i]))
		if i+1 < len(rs) {
			emit("c:" + string(rs[i:i+2]))
		}
		if i+2 < len(rs) {
			emit("c:" + string(rs[i:i+3]))
		}
	}
}

func latinWord(w, prev string, emit func(string)) {
	if w[0] >= '0' && w[0] <= '9' {
		emit("n:" + numberClass(w))
		return
	}
	s := stem(w)
	if !englishStop[w] {
		emit("w:" + s)
	}
	if prev != "" && !(prev[0] >= '0' && prev[0] <= '9') {
		emit("b:" + stem(prev) + "_" + s)
	}
	if len(w) >= 4 {
		padded := "<" + w + ">"
		for i := 0; i+3 <= len(padded); i++ {
			emit("g:" + padded[i:i+3])
		}
	}
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
