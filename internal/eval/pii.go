package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
	"unicode"

	"github.com/steward-cs/steward/internal/guard"
)

// PIIExample is one line of a PII data set: a text and the personal data
// in it, as rune offsets.
type PIIExample struct {
	Text  string       `json:"text"`
	Spans []guard.Span `json:"spans"`
}

// ReadPIIFile reads a PII data set: {"text","spans":[{"start","end","type"}]}
// a line. Errors name the file and the line.
func ReadPIIFile(path string) ([]PIIExample, error) { return readFile(path, ReadPII) }

// ReadPII reads PII examples from r.
func ReadPII(r io.Reader) ([]PIIExample, error) {
	return readLines(r, func(b []byte) (PIIExample, error) {
		var rec struct {
			Text  *string `json:"text"`
			Spans *[]struct {
				Start *int       `json:"start"`
				End   *int       `json:"end"`
				Kind  guard.Kind `json:"type"`
			} `json:"spans"`
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			return PIIExample{}, fmt.Errorf("not a JSON object: %v", err)
		}
		if rec.Text == nil {
			return PIIExample{}, errors.New(`missing "text"`)
		}
		// Read as "no personal data", a line without its spans made every
		// detection in it a false alarm.
		if rec.Spans == nil {
			return PIIExample{}, errors.New(`missing "spans" (an empty list [] when the text holds none)`)
		}
		rs := []rune(*rec.Text)
		spans := make([]guard.Span, 0, len(*rec.Spans))
		for i, s := range *rec.Spans {
			if s.Start == nil || s.End == nil {
				return PIIExample{}, fmt.Errorf(`span %d has no "start" or no "end"`, i)
			}
			sp := guard.Span{Start: *s.Start, End: *s.End, Kind: s.Kind}
			if sp.Start < 0 || sp.End <= sp.Start || sp.End > len(rs) {
				return PIIExample{}, fmt.Errorf("span %d [%d,%d) is outside the text's %d characters", i, sp.Start, sp.End, len(rs))
			}
			if !slices.Contains(guard.Kinds, sp.Kind) {
				return PIIExample{}, fmt.Errorf("span %d has unknown type %q (want cn_id, cn_mobile, bank_card or email)", i, sp.Kind)
			}
			if !slices.ContainsFunc(rs[sp.Start:sp.End], func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
				return PIIExample{}, fmt.Errorf("span %d [%d,%d) holds no letter or digit", i, sp.Start, sp.End)
			}
			for j, o := range spans {
				if sp.Start < o.End && o.Start < sp.End {
					return PIIExample{}, fmt.Errorf("span %d [%d,%d) overlaps span %d [%d,%d)", i, sp.Start, sp.End, j, o.Start, o.End)
				}
			}
			spans = append(spans, sp)
		}
		return PIIExample{Text: *rec.Text, Spans: spans}, nil
	})
}

// PIIScores are precision and recall of one kind (or of all).
type PIIScores struct {
	Expected int `json:"expected"` // labelled spans
	Found    int `json:"found"`    // labelled spans fully masked
	Detected int `json:"detected"` // spans the detector masked
	Correct  int `json:"correct"`  // detected spans that overlap a labelled one
	// WrongKind counts labelled spans found, but by a span of another kind:
	// they are masked, in that kind's display form (an ID number taken
	// for a bank card shows its first 6 and last 4 digits, not the last 4).
	WrongKind int     `json:"wrong_kind"`
	Precision float64 `json:"precision"` // correct / detected (1 when nothing was detected)
	Recall    float64 `json:"recall"`    // found / expected (1 when nothing was expected)
}

// PIIReport is what `steward eval pii` prints.
type PIIReport struct {
	Examples int `json:"examples"`
	PIIScores
	ByType      map[guard.Kind]*PIIScores `json:"by_type"`
	Missed      []string                  `json:"missed,omitempty"`       // first texts with a span left unmasked
	FalseAlarms []string                  `json:"false_alarms,omitempty"` // first texts with a span masked that was not personal data
	P50Micros   float64                   `json:"mask_p50_us"`
	P99Micros   float64                   `json:"mask_p99_us"`
}

// ScorePII runs the production detector on every example. A labelled span
// counts as found when every letter and digit of it lies inside a span the
// detector masks (separators such as spaces, dashes and brackets may stay);
// a detected span is correct when it overlaps a labelled span.
func ScorePII(exs []PIIExample) PIIReport {
	rep := PIIReport{Examples: len(exs), ByType: map[guard.Kind]*PIIScores{}}
	for _, k := range guard.Kinds {
		rep.ByType[k] = &PIIScores{}
	}
	var lat []float64 // µs
	for _, ex := range exs {
		start := time.Now()
		got := guard.Find(ex.Text)
		lat = append(lat, float64(time.Since(start).Nanoseconds())/1000)
		rs := []rune(ex.Text)
		missed, alarm := false, false
		for _, want := range ex.Spans {
			s := rep.ByType[want.Kind]
			rep.Expected++
			s.Expected++
			if fullyMasked(rs, want, got) {
				rep.Found++
				s.Found++
				if otherKind(want, got) {
					rep.WrongKind++
					s.WrongKind++
				}
			} else {
				missed = true
			}
		}
		for _, g := range got {
			s := rep.ByType[g.Kind]
			rep.Detected++
			s.Detected++
			if overlapsAny(g, ex.Spans) {
				rep.Correct++
				s.Correct++
			} else {
				alarm = true
			}
		}
		if missed && len(rep.Missed) < 10 {
			rep.Missed = append(rep.Missed, ex.Text)
		}
		if alarm && len(rep.FalseAlarms) < 10 {
			rep.FalseAlarms = append(rep.FalseAlarms, ex.Text)
		}
	}
	rep.PIIScores.finish()
	for _, s := range rep.ByType {
		s.finish()
	}
	rep.P50Micros, rep.P99Micros = percentile(lat, 0.50), percentile(lat, 0.99)
	return rep
}

func (s *PIIScores) finish() {
	s.Precision, s.Recall = 1, 1
	if s.Detected > 0 {
		s.Precision = float64(s.Correct) / float64(s.Detected)
	}
	if s.Expected > 0 {
		s.Recall = float64(s.Found) / float64(s.Expected)
	}
}

// fullyMasked: every letter and digit of want is inside some detected span.
func fullyMasked(rs []rune, want guard.Span, got []guard.Span) bool {
	for i := want.Start; i < want.End; i++ {
		if !unicode.IsLetter(rs[i]) && !unicode.IsDigit(rs[i]) {
			continue
		}
		in := false
		for _, g := range got {
			if i >= g.Start && i < g.End {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	return true
}

// otherKind reports whether a detected span of another kind than want's
// overlaps want.
func otherKind(want guard.Span, got []guard.Span) bool {
	for _, g := range got {
		if g.Start < want.End && want.Start < g.End && g.Kind != want.Kind {
			return true
		}
	}
	return false
}

func overlapsAny(g guard.Span, spans []guard.Span) bool {
	for _, s := range spans {
		if g.Start < s.End && s.Start < g.End {
			return true
		}
	}
	return false
}
