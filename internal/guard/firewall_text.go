package guard

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The firewall matches its phrases against two renderings of a message,
// built in one pass:
//
//   - words: lower case, width-folded, look-alike letters and light
//     leetspeak undone, invisible characters (format characters and
//     marks) dropped, every run of punctuation and space one space,
//     Chinese characters joined across spacing ("忽 略" is "忽略"), a
//     space between scripts, and a space at both ends, so " ignore " is a
//     whole word and "忽略" a substring;
//   - marks: the printable ASCII only, lower case, without spaces, lines
//     kept, for role markers and fake delimiters ("<|im_start|>",
//     "[inst]", "\nsystem:").
//
// Phrases are written in plain text and rendered the same way, so the
// lexicon and the message always agree.

const (
	kindSpace = iota // nothing emitted yet, or the last byte is a space
	kindWord         // letters and digits of alphabetic scripts
	kindHan          // Chinese, Japanese and Korean characters
)

// sepSoft is spacing that may be obfuscation (joined between Chinese
// characters); sepHard ends a phrase (sentence punctuation, new lines).
const (
	sepNone = iota
	sepSoft
	sepHard
)

// textTables holds the character foldings. Read-only once built.
type textTables struct {
	han [0xA000 - 0x4E00]rune // traditional -> simplified for the lexicon's characters; 0: unchanged
}

// traditional maps traditional characters the lexicon relies on to their
// simplified forms, pairwise.
const traditional = "說说輸输設设規规則则無无視视記记詞词統统為为爲为們们這这個个麼么樣样開开發发錢钱騙骗詐诈槍枪彈弹藥药殺杀絕绝約约資资訊讯號号碼码帳账戶户賬账盜盗竊窃監监聽听蹤踪駭骇販贩賣卖買买錄录護护證证偽伪險险擊击襲袭嗎吗裡里裏里會会種种體体習习倫伦報报復复綁绑傷伤賭赌騷骚擾扰隱隐談谈話话應应該该係系試试對对於于從从現现當当請请問问題题讓让給给寫写顯显內内務务認认識识觀观權权違违黃黄濫滥傳传銷销幣币鈔钞毆殴戰战爭争構构實实際际處处機机後后雙双結结與与進进夠够嗎吗麵面別别厲厉導导隨随闆板懶懒髒脏醜丑惡恶婦妇幫帮鬥斗"

func newTextTables() *textTables {
	t := &textTables{}
	rs := []rune(traditional)
	for i := 0; i+1 < len(rs); i += 2 {
		if rs[i] >= 0x4E00 && rs[i] < 0xA000 {
			t.han[rs[i]-0x4E00] = rs[i+1]
		}
	}
	return t
}

// decomposes reports whether render should replace r by its compatibility
// decomposition (NFKD) before folding it: accented letters of every Latin
// block ("ō" is o and a mark, which fold drops), ligatures ("ﬁ"),
// superscripts, mathematical letters and digits ("𝐢𝐠𝐧𝐨𝐫𝐞") and other
// letter and number variants, CJK compatibility ideographs. Not Chinese, kana or Hangul syllables, and not punctuation
// or symbols ("…" is not "...", "™" not "tm"): only letters and numbers.
// Latin-1's letters have a table of their own (latin1), which is faster.
func decomposes(r rune) bool {
	switch {
	case r < 0xA0, r >= 0xC0 && r <= 0xFF, r >= 0x3000 && r < 0xA000, r >= 0xAC00 && r < 0xD7B0, r >= 0xFF01 && r <= 0xFF5E:
		return false
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// latin1 folds À..ÿ to their base letters; '-' leaves the rune alone.
const latin1 = "aaaaaaaceeeeiiii-nooooo-ouuuuy--aaaaaaaceeeeiiii-nooooo-ouuuuy-y"

// fold maps one rune to what the firewall compares: -1 drops it (invisible
// or combining), other values replace it.
func (t *textTables) fold(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	switch {
	case r >= 0x4E00 && r < 0xA000:
		if s := t.han[r-0x4E00]; s != 0 {
			return s
		}
		return r
	case r >= 0xFF01 && r <= 0xFF5E: // full width ASCII
		return t.fold(r - 0xFEE0)
	case r == 0x3000:
		return ' '
	case r >= 0xC0 && r <= 0xFF:
		if c := latin1[r-0xC0]; c != '-' {
			return rune(c)
		}
		return r
	case r == 'đ', r == 'Đ':
		return 'd'
	case r == 'ħ', r == 'Ħ':
		return 'h'
	case r == 'ı':
		return 'i'
	case r == 'ł', r == 'Ł':
		return 'l'
	case r >= 0x24B6 && r <= 0x24CF: // Ⓐ
		return 'a' + r - 0x24B6
	case r >= 0x24D0 && r <= 0x24E9: // ⓐ
		return 'a' + r - 0x24D0
	}
	// Invisible: combining and enclosing marks, and format characters
	// (zero width, direction controls and isolates, the soft hyphen, tag
	// characters, interlinear annotation).
	if unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) {
		return -1
	}
	if r >= 0x370 && r < 0x590 { // Greek, Cyrillic, Armenian
		if c, ok := lookalike(r); ok {
			return c
		}
		r = unicode.ToLower(r)
		if c, ok := lookalike(r); ok {
			return c
		}
		return r
	}
	return unicode.ToLower(r)
}

// lookalike maps Greek, Cyrillic and Armenian letters that look Latin.
// A capital missing here is looked up again in lower case, so a capital
// that looks unlike its small letter must be listed (Greek Ν is N, ν is v).
func lookalike(r rune) (rune, bool) {
	switch r {
	case 'а', 'А', 'α', 'Α':
		return 'a', true
	case 'в', 'В', 'β', 'Β':
		return 'b', true
	case 'с', 'С', 'ϲ':
		return 'c', true
	case 'ԁ':
		return 'd', true
	case 'е', 'Е', 'ε', 'Ε':
		return 'e', true
	case 'н', 'Н', 'η', 'Η', 'һ', 'հ':
		return 'h', true
	case 'і', 'І', 'ι', 'Ι':
		return 'i', true
	case 'ј', 'Ј', 'ϳ':
		return 'j', true
	case 'к', 'К', 'κ', 'Κ':
		return 'k', true
	case 'м', 'М', 'Μ':
		return 'm', true
	case 'п', 'ո', 'Ν':
		return 'n', true
	case 'о', 'О', 'ο', 'Ο', 'օ':
		return 'o', true
	case 'р', 'Р', 'ρ', 'Ρ':
		return 'p', true
	case 'ԛ':
		return 'q', true
	case 'ѕ', 'Ѕ':
		return 's', true
	case 'т', 'Т', 'τ', 'Τ':
		return 't', true
	case 'ս':
		return 'u', true
	case 'ԝ':
		return 'w', true
	case 'у', 'У', 'υ', 'Υ':
		return 'y', true
	case 'х', 'Х', 'χ', 'Χ':
		return 'x', true
	case 'ν':
		return 'v', true
	case 'Ζ':
		return 'z', true
	}
	return 0, false
}

func kindOf(r rune) int {
	switch {
	case r < utf8.RuneSelf:
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			return kindWord
		}
		return kindSpace
	case r >= 0x4E00 && r < 0xA000, r >= 0x3400 && r < 0x4DC0, r >= 0x3040 && r < 0x3100 && r != 0x30FB,
		r >= 0xAC00 && r < 0xD7B0, r >= 0xF900 && r < 0xFB00:
		return kindHan // 0x30FB is the katakana middle dot
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		return kindWord
	}
	return kindSpace
}

// softSep is spacing that obfuscation puts between characters: ASCII
// punctuation, and the middle dots and bullets that write "i·g·n·o·r·e".
func softSep(r rune) bool {
	switch r {
	case ' ', '\t', '.', '*', '-', '_', '~', '|', '/', '\\', '+', '^', '`', '"', '\'', '=', '#',
		0xB7, 0x2022, 0x2027, 0x2219, 0x22C5, 0x30FB, 0xFF65:
		return true
	}
	return false
}

// leet undoes digits used as letters inside a word ("1gn0re").
var leet = [10]byte{'o', 'i', 'z', 'e', 'a', 's', 'g', 't', 'b', 'g'}

// render fills words and marks from text (see the comment at the top).
func (t *textTables) render(text string, words, marks []byte) ([]byte, []byte) {
	w, m, _ := t.renderRuns(text, words, marks, nil)
	return w, m
}

// renderRuns is render that also appends to runs where each run of
// spaced-out letters it joined lies in words, as start, end pairs.
func (t *textTables) renderRuns(text string, words, marks []byte, runs []int32) ([]byte, []byte, []int32) {
	w := append(words[:0], ' ')
	m := append(marks[:0], '\n')
	prev := kindSpace // kind of the last character put in w
	sep := sepNone    // separation seen since then
	tokStart := 1
	letters, digits := false, false
	singles, run := 0, 0 // runs of one-letter words, for "i g n o r e"
	wide, marked := false, false

	endToken := func() {
		if prev == kindWord {
			if letters && digits && leetWord(w[tokStart:]) {
				for i := tokStart; i < len(w); i++ {
					if c := w[i]; '0' <= c && c <= '9' {
						w[i] = leet[c-'0']
					}
				}
			}
			if len(w)-tokStart == 1 && letters {
				run++
				if run >= 3 {
					singles++
				}
			} else {
				run = 0
			}
		} else {
			run = 0
		}
		letters, digits = false, false
	}

	var rest []byte // what is left of a decomposition, read before text[i:]
	for i := 0; i < len(text) || len(rest) > 0; {
		var r rune
		var size int
		switch {
		case len(rest) > 0:
			r, size = utf8.DecodeRune(rest)
			rest = rest[size:]
		case text[i] < utf8.RuneSelf:
			r = rune(text[i])
			i++
		default:
			c := text[i:]
			r, size = utf8.DecodeRuneInString(c)
			i += size
			if decomposes(r) {
				if d := norm.NFKD.PropertiesString(c[:size]).Decomposition(); len(d) > 0 {
					r, size = utf8.DecodeRune(d)
					rest = d[size:]
				}
			}
		}
		r = t.fold(r)
		if r < 0 {
			continue
		}
		// marks
		switch {
		case r == '\n':
			if m[len(m)-1] != '\n' {
				m = append(m, '\n')
			}
		case r > ' ' && r < utf8.RuneSelf:
			m = append(m, byte(r))
		}
		// words
		k := kindOf(r)
		if k == kindSpace {
			switch {
			case r == '\'' || r == 0x2019 || r == 0x2BC: // don't, AIM's
				if prev == kindWord && sep == sepNone && letterNext(rest, text[i:]) {
					continue
				}
			case (r == '@' || r == '$') && (prev == kindWord && sep == sepNone || letterNext(rest, text[i:])):
				k = kindWord
				if r == '@' {
					r = 'a'
				} else {
					r = 's'
				}
			}
		}
		if k == kindSpace {
			if softSep(r) || unicode.IsSpace(r) && r != '\n' || unicode.Is(unicode.So, r) {
				if sep == sepNone {
					sep = sepSoft
				} else {
					wide = true
				}
			} else {
				sep = sepHard
			}
			continue
		}
		if prev != kindSpace && (sep != sepNone || prev != k) {
			if !(k == kindHan && prev == kindHan && sep == sepSoft) {
				single := prev == kindWord && len(w)-tokStart == 1
				endToken()
				if single && (wide || sep == sepHard) {
					// After a one-letter word, a wide gap separates words
					// of a spaced-out text ("i g n o r e  a l l").
					w = append(w, wideGap)
					marked = true
				} else {
					w = append(w, ' ')
				}
				tokStart = len(w)
			}
		}
		if r < utf8.RuneSelf {
			w = append(w, byte(r))
			if r <= '9' {
				digits = true
			} else {
				letters = true
			}
		} else {
			w = utf8.AppendRune(w, r)
			letters = true
		}
		prev, sep, wide = k, sepNone, false
	}
	if prev != kindSpace {
		endToken()
		w = append(w, ' ')
	}
	if singles > 0 {
		w, runs = joinSingles(w, runs)
	}
	if marked {
		for i, c := range w {
			if c == wideGap {
				w[i] = ' '
			}
		}
	}
	return w, m, runs
}

// wideGap stands for a space in words until render finishes: it stops a
// run of one-letter words from joining across a word boundary.
const wideGap = 0x01

// letterNext reports whether the next character, the rest of a
// decomposition or else of the text, is an ASCII letter.
func letterNext(rest []byte, text string) bool {
	if len(rest) > 0 {
		return isASCIILetter(rest[0])
	}
	return len(text) > 0 && isASCIILetter(text[0])
}

func isASCIILetter(b byte) bool { return 'a' <= b|0x20 && b|0x20 <= 'z' }

// leetWord reports whether a word writes letters as digits: a digit stands
// between two letters ("prev1ous"), unlike a code ("abc123", "mp3").
func leetWord(tok []byte) bool {
	for i := 1; i+1 < len(tok); i++ {
		if c := tok[i]; '0' <= c && c <= '9' && isASCIILetter(tok[i-1]) && isASCIILetter(tok[i+1]) {
			return true
		}
	}
	return false
}

// joinSingles joins runs of three or more one-letter words ("i g n o r e"
// is "ignore") in place, and appends where each run ended up to runs. A
// wideGap ends a run.
func joinSingles(w []byte, runs []int32) ([]byte, []int32) {
	out := w[:0]
	i := 0
	for i < len(w) {
		// A run: separator, letter, separator, letter, ... with single
		// spaces inside.
		j, n := i, 0
		for j+2 < len(w) && (w[j] == ' ' || w[j] == wideGap) && (n == 0 || w[j] == ' ') &&
			isASCIILetter(w[j+1]) && (w[j+2] == ' ' || w[j+2] == wideGap) {
			j += 2
			n++
		}
		if n >= 3 {
			out = append(out, w[i])
			runs = append(runs, int32(len(out)))
			for k := i + 1; k < j; k += 2 {
				out = append(out, w[k])
			}
			runs = append(runs, int32(len(out)))
			i = j // the separator after the run
			continue
		}
		out = append(out, w[i])
		i++
	}
	return out, runs
}
