// Package guard protects what customers type: it finds personal data
// (Chinese resident ID numbers, mainland mobile numbers, bank cards, email
// addresses) and masks it before text is stored or leaves the process,
// seals the original under AES-256-GCM for the few who may reveal it, and
// recognises hostile input (prompt injection, jailbreaks, harmful requests).
//
// The detector is pure and allocation-light: it runs on every message.
package guard

import (
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Kind is a kind of personal data.
type Kind string

// The kinds of personal data Steward masks.
const (
	KindCNID   Kind = "cn_id"     // Chinese resident ID number, 18 digits (GB 11643) or the old 15-digit form
	KindMobile Kind = "cn_mobile" // mainland mobile number, with or without +86 / 0086
	KindCard   Kind = "bank_card" // payment card number
	KindEmail  Kind = "email"
	// KindContact is a field that is personal data by what it is for (the
	// offline form's contact), whatever its form: a landline, a QQ or WeChat
	// id. It is sealed whole (Vault.KeepWhole); the detector never finds it.
	KindContact Kind = "contact"
)

// Kinds lists every kind, in a stable order.
var Kinds = []Kind{KindCNID, KindMobile, KindCard, KindEmail}

// Span is one piece of personal data in a text: rune offsets, End exclusive.
type Span struct {
	Start int  `json:"start"`
	End   int  `json:"end"`
	Kind  Kind `json:"type"`
}

// Find returns the personal data in text, in order, without overlaps.
func Find(text string) []Span {
	if !mayContain(text) {
		return nil
	}
	n := fold(text)
	var spans []Span
	spans = findEmails(n, spans)
	spans = findNumbers(n, spans)
	sort.Slice(spans, func(i, j int) bool { return spans[i].Start < spans[j].Start })
	return spans
}

// Mask returns text with every piece of personal data replaced by its
// display form (mobile 138****5678, card first 6 and last 4, ID number
// masked but for the last 4, email z***@example.com), and the spans found
// in the original text.
func Mask(text string) (string, []Span) {
	spans := Find(text)
	if len(spans) == 0 {
		return text, nil
	}
	rs := []rune(text)
	return maskSpans(rs, foldRunes(rs), spans), spans
}

// maskSpans replaces spans (found in rs, folded as n) by their display
// forms.
func maskSpans(rs, n []rune, spans []Span) string {
	var b strings.Builder
	b.Grow(len(rs))
	at := 0
	for _, s := range spans {
		if s.Start < at {
			// Spans that overlap are a defect of Find; masking must not
			// panic on one (it runs in the log handler too): what is left
			// of this span is masked whole.
			if s.End > at {
				b.WriteString(strings.Repeat("*", s.End-at))
				at = s.End
			}
			continue
		}
		b.WriteString(string(rs[at:s.Start]))
		b.WriteString(display(s.Kind, n[s.Start:s.End]))
		at = s.End
	}
	b.WriteString(string(rs[at:]))
	return b.String()
}

// Values returns the personal data in text, each as "kind:value" with the
// value in one form whatever its writing (digits only, a mobile number
// without its country prefix, an address lower-cased): what MaskExcept
// compares.
func Values(text string) []string {
	spans := Find(text)
	if len(spans) == 0 {
		return nil
	}
	n := fold(text)
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = value(s.Kind, n[s.Start:s.End])
	}
	return out
}

func value(k Kind, n []rune) string {
	switch k {
	case KindEmail:
		return string(k) + ":" + strings.ToLower(string(n))
	case KindMobile:
		d := digitsOf(n)
		return string(k) + ":" + d[len(d)-11:]
	}
	return string(k) + ":" + digitsOf(n)
}

// MaskExcept is MaskString but for the personal data whose Values are in
// keep: a generated answer gives the shop's own hotline or address from
// the entries it draws on, which are not a customer's.
func MaskExcept(text string, keep map[string]bool) string {
	spans := Find(text)
	if len(spans) == 0 {
		return text
	}
	rs := []rune(text)
	n := foldRunes(rs)
	spans = slices.DeleteFunc(spans, func(s Span) bool { return keep[value(s.Kind, n[s.Start:s.End])] })
	return maskSpans(rs, n, spans)
}

// MaskString is Mask without the spans: for logs, notifications and
// anything else that leaves the process.
func MaskString(text string) string {
	m, _ := Mask(text)
	return m
}

// mayContain is a fast pre-check: personal data needs at least seven
// digits or an @.
func mayContain(text string) bool {
	digits := 0
	for _, r := range text {
		switch {
		case r >= '0' && r <= '9', r >= '０' && r <= '９':
			digits++
			if digits >= 7 {
				return true
			}
		case r == '@' || r == '＠':
			return true
		}
	}
	return false
}

// display renders a found span (in folded runes) in its masked form.
func display(k Kind, n []rune) string {
	switch k {
	case KindEmail:
		s := string(n)
		at := strings.LastIndexByte(s, '@')
		if at < 1 {
			return "***"
		}
		return s[:1] + "***" + s[at:]
	case KindMobile:
		d := digitsOf(n)
		d = d[len(d)-11:] // the number without its country prefix
		return d[:3] + "****" + d[7:]
	case KindCard:
		d := digitsOf(n)
		return d[:6] + strings.Repeat("*", len(d)-10) + d[len(d)-4:]
	default: // KindCNID
		d := digitsOf(n)
		return strings.Repeat("*", len(d)-4) + d[len(d)-4:]
	}
}

// digitsOf keeps the digits (and an ID number's check letter X) of n.
func digitsOf(n []rune) string {
	b := make([]byte, 0, len(n))
	for _, r := range n {
		if isDigit(r) {
			b = append(b, byte(r))
		} else if r == 'X' || r == 'x' {
			b = append(b, 'X')
		}
	}
	return string(b)
}

// fold maps text to runes with full-width forms and dash variants folded
// to ASCII, one rune for one rune, so offsets carry over.
func fold(text string) []rune { return foldRunes([]rune(text)) }

func foldRunes(rs []rune) []rune {
	n := make([]rune, len(rs))
	for i, r := range rs {
		switch {
		case r >= '！' && r <= '～': // full-width ASCII block
			r = r - '！' + '!'
		case r == '\u3000' || r == '\u00a0' || r == '\u2002' || r == '\u2003' || r == '\u2009':
			r = ' '
		case r == '‐' || r == '‑' || r == '‒' || r == '–' || r == '—' || r == '−':
			r = '-'
		case r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\ufeff':
			r = '\u200b' // zero-width: kept as a separator inside numbers
		}
		n[i] = r
	}
	return n
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func isLatin(r rune) bool { return r < utf8.RuneSelf && isASCIILetter(byte(r)) }

func isAlnum(r rune) bool { return isDigit(r) || isLatin(r) }

// isSep reports a character people put between the groups of a number.
func isSep(r rune) bool { return r == ' ' || r == '-' || r == '\u200b' || r == '\t' }

// findEmails appends the email addresses in n.
func findEmails(n []rune, spans []Span) []Span {
	last := 0 // where the previous address ended: "a@b.cc@d.ee" is not two
	for i := 0; i < len(n); i++ {
		if n[i] != '@' {
			continue
		}
		start := i
		for start > last && isLocalRune(n[start-1]) {
			start--
		}
		for start < i && (n[start] == '.' || n[start] == '-' || n[start] == '+') {
			start++
		}
		end := i + 1
		for end < len(n) && (isAlnum(n[end]) || n[end] == '.' || n[end] == '-') {
			end++
		}
		for end > i+1 && (n[end-1] == '.' || n[end-1] == '-') {
			end--
		}
		// A local part that is the tail of a masked number ("170****0000@…")
		// is what a first masking left: masking again must not change it.
		valid := start < i && validDomain(n[i+1:end]) && !maskedBefore(n, start)
		last = max(last, end) // an address's local part never takes another's domain
		if !valid {
			continue
		}
		spans = append(spans, Span{Start: start, End: end, Kind: KindEmail})
		i = end - 1
	}
	return spans
}

func isLocalRune(r rune) bool {
	return isAlnum(r) || r == '.' || r == '_' || r == '%' || r == '+' || r == '-'
}

// validDomain wants labels separated by dots and a top-level label of two
// or more letters.
func validDomain(d []rune) bool {
	dot := -1
	for i, r := range d {
		if r == '.' {
			if i == 0 || d[i-1] == '.' {
				return false
			}
			dot = i
		}
	}
	if dot < 1 || len(d)-dot-1 < 2 {
		return false
	}
	for _, r := range d[dot+1:] {
		if !isLatin(r) {
			return false
		}
	}
	return true
}

// covered reports whether position i is inside one of spans.
func covered(spans []Span, i int) bool {
	for _, s := range spans {
		if i >= s.Start && i < s.End {
			return true
		}
	}
	return false
}

// chunk is a run of digits inside a number group.
type chunk struct{ start, end int }

// findNumbers appends the ID, mobile and card numbers in n. A number group
// is digits with single separators between them, not glued to letters
// (tracking codes like SF1234567890 are not personal data) nor part of a
// decimal. A group is tried whole first, then in runs of its chunks, so two
// numbers separated by a space are found both.
func findNumbers(n []rune, spans []Span) []Span {
	emails := len(spans)
	for i := 0; i < len(n); i++ {
		if !isDigit(n[i]) || covered(spans[:emails], i) {
			continue
		}
		if i > 0 && (isDigit(n[i-1]) || isLatin(n[i-1]) && !labelBefore(n, i) || maskedBefore(n, i) ||
			n[i-1] == '@' && maskedBefore(n, i-1)) { // the domain of a masked address, "1***@139.com"
			// glued to letters: skip the whole code
			for i < len(n) && isAlnum(n[i]) {
				i++
			}
			continue
		}
		if end, ok := dottedMobile(n, i); ok { // 138.1234.5678
			spans = append(spans, Span{Start: i, End: end, Kind: KindMobile})
			i = end - 1
			continue
		}
		var chunks []chunk
		address := -1 // where the email address that ends the group starts
		j := i
		for {
			k := j
			for k < len(n) && isDigit(n[k]) {
				k++
			}
			chunks = append(chunks, chunk{j, k})
			s := k
			if bracketed(n, j, k) { // "(138) 1234 5678"
				s++
			}
			for s < len(n) && s-k < 3 && isSep(n[s]) {
				s++
			}
			// A chunk inside an email address found already ends the
			// group: "138 1234 5678@qq.com" grew a mobile number across
			// the address, and the two spans overlapped. If the group and
			// the address's leading digits are one number, the address
			// takes the group in instead.
			if s > k && s < len(n) && isDigit(n[s]) {
				if !covered(spans[:emails], s) {
					j = s
					continue
				}
				address = s
			}
			j = k
			break
		}
		end := j // just past the group's last digit
		checkX := end < len(n) && (n[end] == 'X' || n[end] == 'x')
		glued := end < len(n) && isLatin(n[end]) && !(checkX && (end+1 == len(n) || !isAlnum(n[end+1]))) ||
			maskedAfter(n, end)
		// A price, a decimal, a date or a code glued to letters at either
		// end of the group is not personal data, and neither is the chunk
		// it touches; the other chunks still are ("手机 13812345678 12.50元",
		// "¥99 13812345678": the whole group was skipped, and the mobile
		// with it).
		if (i > 1 && decimalMark(n, i-1) && isDigit(n[i-2])) || (i > 0 && isCurrency(n[i-1])) {
			chunks = chunks[1:]
		}
		if glued || (end+1 < len(n) && decimalMark(n, end) && isDigit(n[end+1])) {
			if len(chunks) > 0 {
				chunks = chunks[:len(chunks)-1]
			}
			checkX = false
		}
		if address >= 0 && len(chunks) > 0 && intoAddress(n, chunks, address, spans[:emails]) {
			chunks = nil
		}
		if len(chunks) > 0 {
			spans = matchChunks(n, chunks, checkX, spans)
		}
		if glued {
			i = end
			for i < len(n) && isAlnum(n[i]) {
				i++
			}
			continue
		}
		i = end - 1
	}
	return spans
}

// bracketed reports whether the digits n[j:k] stand in brackets, as a
// mobile's first three digits or an area code sometimes do.
func bracketed(n []rune, j, k int) bool {
	return j > 0 && n[j-1] == '(' && k < len(n) && n[k] == ')' && k-j <= 4
}

// intoAddress reports whether a number group (chunks) runs on into the
// local part of the email address that starts at s, the two reading as one
// mobile or card number: then the address's span is extended back over the
// group, so that all of it is masked.
func intoAddress(n []rune, chunks []chunk, s int, emails []Span) bool {
	local := s
	for local < len(n) && isDigit(n[local]) {
		local++
	}
	d := chunkDigits(nil, n, append(chunks[:len(chunks):len(chunks)], chunk{s, local}))
	if len(d) > 22 {
		return false
	}
	kind, ok := classify(d, false)
	if !ok || kind == KindCNID {
		return false
	}
	for e := range emails {
		if emails[e].Start == s {
			emails[e].Start = chunks[0].start
			if kind == KindMobile {
				emails[e].Start = mobilePrefix(n, chunks[0].start)
			}
			return true
		}
	}
	return false
}

// chunkDigits appends the digits of chunks to d.
func chunkDigits(d []byte, n []rune, chunks []chunk) []byte {
	for _, c := range chunks {
		for p := c.start; p < c.end; p++ {
			d = append(d, byte(n[p]))
		}
	}
	return d
}

// maskedBefore and maskedAfter report whether the digits that start (end)
// at i stand beside a run of three or more asterisks: what is left in the
// clear of a number or address masked already ("138****5678",
// "1***@qq.com"). Such digits are not tried again with their neighbours,
// or masking masked text would mask more of it each time
// ("444444*******4444 4444444444444" read as a card anew).
func maskedBefore(n []rune, i int) bool {
	k := i
	for k > 0 && n[k-1] == '*' {
		k--
	}
	return i-k >= 3
}

func maskedAfter(n []rune, i int) bool {
	k := i
	for k < len(n) && n[k] == '*' {
		k++
	}
	return k-i >= 3
}

// labels are words people glue to a number they give: "tel13812345678".
var labels = map[string]bool{"call": true, "tel": true, "phone": true, "mobile": true, "mob": true, "cell": true, "id": true,
	"card": true, "no": true, "ph": true, "m": true, "t": true, "whatsapp": true, "wechat": true, "wx": true, "vx": true}

// labelBefore reports whether the letters just before position i are a
// label rather than the start of a code like SF1234567890.
func labelBefore(n []rune, i int) bool {
	j := i
	for j > 0 && isLatin(n[j-1]) {
		j--
	}
	if j > 0 && isDigit(n[j-1]) {
		return false
	}
	return labels[strings.ToLower(string(n[j:i]))]
}

// dottedMobile matches a mobile written 138.1234.5678 at i (dots are
// otherwise decimals, never separators).
func dottedMobile(n []rune, i int) (int, bool) {
	const form = "ddd.dddd.dddd"
	end := i + len(form)
	if end > len(n) || (end < len(n) && (isDigit(n[end]) || n[end] == '.' && end+1 < len(n) && isDigit(n[end+1]))) {
		return 0, false
	}
	for k := 0; k < len(form); k++ {
		if form[k] == 'd' && !isDigit(n[i+k]) || form[k] == '.' && n[i+k] != '.' {
			return 0, false
		}
	}
	if n[i] != '1' || n[i+1] < '3' || n[i+1] > '9' {
		return 0, false
	}
	return end, true
}

// decimalMark reports whether n[k] is a decimal point or a thousands
// comma between digits. A comma is one only before a group of exactly three
// digits: "13812345678，13998765432" (a full-width comma, folded) is two
// numbers, and read as one decimal both were left in the clear.
func decimalMark(n []rune, k int) bool {
	switch n[k] {
	case '.':
		return true
	case ',':
		d := 0
		for p := k + 1; p < len(n) && isDigit(n[p]); p++ {
			d++
		}
		b := 0
		for p := k - 1; p >= 0 && isDigit(n[p]); p-- {
			b++
		}
		// Digits cut short by masking ("0,0***@qq.com") were a group.
		return (d == 3 || d < 3 && maskedAfter(n, k+1+d)) && b <= 3
	}
	return false
}

func isCurrency(r rune) bool { return r == '$' || r == '¥' || r == '￥' || r == '€' || r == '£' }

// matchChunks finds numbers in a group's chunks: the longest run of chunks
// from each start that reads as personal data.
func matchChunks(n []rune, chunks []chunk, checkX bool, spans []Span) []Span {
	var digits []byte
	floor := 0 // where the last number found in the group ends
	for a := 0; a < len(chunks); {
		found := false
		for b := len(chunks); b > a; b-- {
			digits = chunkDigits(digits[:0], n, chunks[a:b])
			if len(digits) > 22 {
				continue
			}
			x := checkX && b == len(chunks)
			kind, ok := classify(digits, x)
			if !ok {
				continue
			}
			start, end := chunks[a].start, chunks[b-1].end
			if kind == KindCNID && x {
				end++
			}
			if kind == KindMobile {
				// The prefix may not reach back into the number before it
				// ("170000000 86 17000000000": 86 ends the first).
				if p := mobilePrefix(n, start); p >= floor {
					start = p
				}
			}
			if kind != KindCNID || len(digits) == 15 {
				if hint := contextHint(n, start); hint < 0 {
					break // an order, tracking or invoice number
				}
			}
			spans = append(spans, Span{Start: start, End: end, Kind: kind})
			a, found, floor = b, true, end
			break
		}
		if !found {
			a++
		}
	}
	return spans
}

// classify says what a run of digits is, if it is personal data. x is a
// trailing check letter X.
func classify(d []byte, x bool) (Kind, bool) {
	if x {
		if len(d) == 17 && validID18(string(d)+"X") {
			return KindCNID, true
		}
		return "", false
	}
	switch len(d) {
	case 11:
		if mobile(d) {
			return KindMobile, true
		}
	case 13:
		if d[0] == '8' && d[1] == '6' && mobile(d[2:]) {
			return KindMobile, true
		}
	case 15:
		if string(d[:4]) == "0086" && mobile(d[4:]) {
			return KindMobile, true
		}
		if validID15(string(d)) {
			return KindCNID, true
		}
		if card(d) {
			return KindCard, true
		}
	case 18:
		s := string(d)
		if validID18(s) {
			return KindCNID, true
		}
		if idShaped(s) { // an ID number with a wrong check digit is a mistype, not a card
			return "", false
		}
		if card(d) {
			return KindCard, true
		}
	case 16, 17, 19:
		if card(d) {
			return KindCard, true
		}
	}
	return "", false
}

// mobile: 1, then 3–9, then nine digits.
func mobile(d []byte) bool { return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9' }

// card: UnionPay's 62 with 16–19 digits (Luhn or not), or a Luhn-valid
// number with a payment network's leading digit.
func card(d []byte) bool {
	if len(d) < 15 || len(d) > 19 {
		return false
	}
	if d[0] == '6' && d[1] == '2' && len(d) >= 16 {
		return true
	}
	switch {
	case d[0] >= '2' && d[0] <= '6':
	case d[0] == '9' && d[1] == '5': // some Chinese banks' debit cards
	default:
		return false
	}
	if len(d) == 15 && !(d[0] == '3' && (d[1] == '4' || d[1] == '7')) {
		return false // 15 digits: American Express only
	}
	return luhn(d)
}

func luhn(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// provinces are the first two digits of a resident ID number.
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true, "21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true, "41": true,
	"42": true, "43": true, "44": true, "45": true, "46": true, "50": true, "51": true, "52": true,
	"53": true, "54": true, "61": true, "62": true, "63": true, "64": true, "65": true, "71": true,
	"81": true, "82": true, "83": true, "91": true,
}

// validDate checks a YYYYMMDD birth date.
func validDate(s string) bool {
	y := atoi(s[:4])
	m := atoi(s[4:6])
	d := atoi(s[6:8])
	if y < 1900 || y > 2099 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && (y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		days = 29
	}
	return d <= days
}

func atoi(s string) int {
	v := 0
	for i := 0; i < len(s); i++ {
		v = v*10 + int(s[i]-'0')
	}
	return v
}

// idShaped: a province and a birth date where an 18-digit ID has them.
func idShaped(s string) bool { return provinces[s[:2]] && validDate(s[6:14]) }

// validID18 checks the GB 11643 check digit of an 18-character ID number.
func validID18(s string) bool {
	if len(s) != 18 || !idShaped(s) {
		return false
	}
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(s[i]-'0') * weights[i]
	}
	return "10X98765432"[sum%11] == s[17]
}

// validID15: the pre-1999 form, province + YYMMDD (19YY) + 3 digits.
func validID15(s string) bool {
	return len(s) == 15 && provinces[s[:2]] && validDate("19"+s[6:12])
}

// mobilePrefix extends a mobile number's start over a country prefix
// written before it: +86, 0086, 86, (+86), with spaces or dashes.
func mobilePrefix(n []rune, start int) int {
	if start > 0 && n[start-1] == '+' { // +86 read as part of the number
		return start - 1
	}
	p := start
	if bracketed(n, start, start+3) { // "+86 (138) 1234 5678": the bracket goes too
		start--
		p = start
	}
	for p > 0 && isSep(n[p-1]) {
		p--
	}
	paren := p > 0 && n[p-1] == ')'
	if paren {
		p--
	}
	if p < 2 || n[p-1] != '6' || n[p-2] != '8' {
		return start
	}
	q := p - 2
	if q >= 2 && n[q-1] == '0' && n[q-2] == '0' {
		q -= 2
	}
	if q > 0 && n[q-1] == '+' {
		q--
	}
	if paren {
		if q == 0 || n[q-1] != '(' {
			return start
		}
		q--
	}
	if q > 0 && isAlnum(n[q-1]) {
		return start
	}
	return q
}

// Words before a number that say what it is. A number introduced as an
// order, tracking or invoice number is left alone unless a word for
// personal data is nearer to it.
var (
	notPersonal = []string{"订单", "单号", "运单", "快递", "物流", "流水", "交易号", "工单", "编号", "序列号", "发票",
		"批次", "型号", "条码", "货号", "商品号", "券码", "取件码", "验证码", "order", "tracking", "waybill",
		"invoice", "serial", "ref", "ticket", "sku", "barcode", "parcel", "shipment", "transaction", "txn", "batch"}
	personal = []string{"手机", "电话", "联系", "身份证", "证件", "卡号", "银行卡", "信用卡", "储蓄卡", "借记卡",
		"打我", "致电", "phone", "mobile", "cell", "tel", "call", "text me", "id number", "card", "contact", "sms",
		"whatsapp", "wechat", "微信"}
)

// contextHint looks at the words just before position start, in the
// number's own clause: -1 when they say the number is not personal data,
// 1 when they say it is, 0 otherwise. A word that says "not personal" must
// introduce the number ("订单号：…", "order no. …"): orders are what
// customers write about most, and "我的订单怎么还没发货？回电138…" or "订单退款到
// 6222…" left the mobile and the card in the clear.
func contextHint(n []rune, start int) int {
	from := max(start-20, 0)
	for k := start - 1; k >= from; k-- {
		if isClauseBreak(n[k]) {
			from = k + 1
			break
		}
	}
	window := strings.ToLower(string(n[from:start]))
	neg, pos := introducing(window, notPersonal), lastIndexAny(window, personal)
	switch {
	case neg >= 0 && neg > pos:
		return -1
	case pos >= 0:
		return 1
	}
	return 0
}

// isClauseBreak reports whether r ends a clause: a word before it says
// nothing of a number after it. (Full-width marks are folded to ASCII.)
func isClauseBreak(r rune) bool {
	switch r {
	case ',', '?', '!', ';', '。', '、', '\n':
		return true
	}
	return false
}

// introducing returns where the last of words that introduces what follows
// s starts (only label glue between it and the end: "号：", " number "), or
// -1.
func introducing(s string, words []string) int {
	return lastWord(s, words, func(end int) bool { return onlyGlue(s[end:]) })
}

// glue is what stands between a label and its number.
var glue = []string{"号码", "号", "码", "是", "为", "：", "number", "num", "no", "nr", "id", "is", ":", "#", ".", "=", "-", "(", ")", " "}

// onlyGlue reports whether s is nothing but label glue.
func onlyGlue(s string) bool {
	for s != "" {
		cut := false
		for _, g := range glue {
			if rest, ok := strings.CutPrefix(s, g); ok {
				s, cut = rest, true
				break
			}
		}
		if !cut {
			return false
		}
	}
	return true
}

// lastIndexAny returns where the last of words starts in s, or -1. Words
// of Latin letters count only as whole words ("ref" is not in "prefer").
func lastIndexAny(s string, words []string) int {
	return lastWord(s, words, func(int) bool { return true })
}

// lastWord returns where the last of words in s starts, as a whole word
// that ok accepts (given where it ends), or -1.
func lastWord(s string, words []string, ok func(end int) bool) int {
	best := -1
	for _, w := range words {
		for end := len(s); end > 0; {
			i := strings.LastIndex(s[:end], w)
			if i < 0 {
				break
			}
			if wholeWord(s, i, i+len(w)) && ok(i+len(w)) {
				best = max(best, i)
				break
			}
			end = i + len(w) - 1
		}
	}
	return best
}

func wholeWord(s string, i, j int) bool {
	if !isLatin(rune(s[i])) {
		return true
	}
	before := i == 0 || !isLatin(rune(s[i-1]))
	after := j == len(s) || !isLatin(rune(s[j])) || !isLatin(rune(s[j-1]))
	return before && after
}
