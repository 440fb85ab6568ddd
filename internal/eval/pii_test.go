package eval

import (
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/guard"
)

// ScorePII on a hand-made set with known answers: a mobile number written
// with spaces (found: separators may stay unmasked), an email (found), an
// order number nobody labelled (left alone: no false alarm), a "card"
// the detector rightly does not take for one (missed), and an ID number
// labelled as a bank card (found, but by an ID span: a wrong kind).
func TestScorePII(t *testing.T) {
	exs, err := ReadPII(strings.NewReader(strings.Join([]string{
		`{"text":"call 138 1234 5678 now","spans":[{"start":5,"end":18,"type":"cn_mobile"}]}`,
		`{"text":"mail me at li.na@example.com please","spans":[{"start":11,"end":28,"type":"email"}]}`,
		`{"text":"order 202611240001 shipped","spans":[]}`,
		`{"text":"card 1234 please","spans":[{"start":5,"end":9,"type":"bank_card"}]}`,
		`{"text":"id 11010519491231002X ok","spans":[{"start":3,"end":21,"type":"bank_card"}]}`,
	}, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	rep := ScorePII(exs)
	if rep.Examples != 5 || rep.Expected != 4 || rep.Found != 3 || rep.Detected != 3 || rep.Correct != 3 || rep.WrongKind != 1 {
		t.Errorf("report %+v; want 5 examples, 4 expected, 3 found, 3 detected, 3 correct, 1 of the wrong kind", rep.PIIScores)
	}
	if !near(rep.Recall, 0.75) || !near(rep.Precision, 1) {
		t.Errorf("recall %v, precision %v; want 0.75 and 1", rep.Recall, rep.Precision)
	}
	card := rep.ByType[guard.Kind("bank_card")]
	if card.Expected != 2 || card.Found != 1 || card.WrongKind != 1 || !near(card.Recall, 0.5) {
		t.Errorf("bank_card %+v; want 2 expected, 1 found (of the wrong kind), recall 0.5", card)
	}
	if id := rep.ByType[guard.Kind("cn_id")]; id.Detected != 1 || id.Correct != 1 || id.Expected != 0 || !near(id.Recall, 1) {
		t.Errorf("cn_id %+v; want the ID span detected and correct, nothing expected", id)
	}
	if len(rep.Missed) != 1 || !strings.Contains(rep.Missed[0], "card 1234") || len(rep.FalseAlarms) != 0 {
		t.Errorf("missed %q, false alarms %q", rep.Missed, rep.FalseAlarms)
	}
}

// A PII line that cannot be scored as meant is refused with its line: no
// spans at all (read as "no personal data", every detection was a false
// alarm), a span without its start (read as 0), spans that overlap (a
// duplicate was counted twice), a span of separators only (counted found
// with nothing detected).
func TestReadPIIRefusesSpansItCannotScore(t *testing.T) {
	for in, want := range map[string]string{
		`{"text":"call 13812345678"}`:                                         `line 1: missing "spans"`,
		`{"text":"call 13812345678","spans":null}`:                            `line 1: missing "spans"`,
		`{"text":"call 13812345678","spans":[{"end":16,"type":"cn_mobile"}]}`: `span 0 has no "start"`,
		`{"text":"call 13812345678","spans":[{"start":5,"end":16,"type":"cn_mobile"},{"start":5,"end":16,"type":"cn_mobile"}]}`: "span 1 [5,16) overlaps span 0",
		`{"text":"请联系我 - 谢谢","spans":[{"start":5,"end":6,"type":"cn_mobile"}]}`:                                                 "holds no letter or digit",
	} {
		if _, err := ReadPII(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadPII(%s) = %v, want an error containing %q", in, err, want)
		}
	}
	if exs, err := ReadPII(strings.NewReader(`{"text":"nothing here","spans":[]}`)); err != nil || len(exs) != 1 {
		t.Fatalf("an empty span list: %v, %v", exs, err)
	}
}
